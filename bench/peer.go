package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Peer mode drives any OAuth2/OIDC server the same way as shopauth, from
// outside, with nothing but its discovery document, a confidential client
// (client_secret_basic) allowed the password and refresh_token grants, and
// one user per worker: to compare shopauth with another server (Dex, in
// docs/figures.md) by the same load generator. There are no ceilings and
// nothing is seeded; the users and the client must exist.

// PeerScenarios are the scenarios peer mode can run: what any OIDC server
// with the password grant answers.
func PeerScenarios() []string { return []string{ScenarioPassword, ScenarioRefresh, ScenarioJWKS} }

// Peer reports whether o asks for peer mode (--client-id).
func (o Settings) Peer() bool { return o.ClientID != "" }

func (o Settings) checkPeer() error {
	switch {
	case o.Target == "":
		return errors.New("--client-id needs --target: peer mode drives a running server")
	case o.ClientSecret == "" || o.Password == "":
		return errors.New("peer mode needs --client-secret and --password")
	case !strings.Contains(o.Users, "%"):
		return errors.New("--users must hold a %d (or %04d …) for the worker's number, e.g. bench%d@example.com")
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(PeerScenarios(), s) {
			return fmt.Errorf("scenario %q needs shopauth; peer mode runs %s", s, strings.Join(PeerScenarios(), ", "))
		}
	}
	return nil
}

// peerTarget reads the target's discovery document and builds the
// scenarios' target: worker i signs in as fmt.Sprintf(o.Users, i).
func peerTarget(ctx context.Context, o Settings, client *http.Client) (Target, error) {
	base := strings.TrimRight(o.Target, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.well-known/openid-configuration", nil)
	if err != nil {
		return Target{}, err
	}
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
		JWKSURI       string `json:"jwks_uri"`
	}
	status, err := send(client, req, &doc)
	if err != nil {
		return Target{}, fmt.Errorf("discovery: %w", err)
	}
	if status != http.StatusOK || doc.TokenEndpoint == "" || doc.JWKSURI == "" {
		return Target{}, fmt.Errorf("discovery: status %d, token_endpoint %q, jwks_uri %q", status, doc.TokenEndpoint, doc.JWKSURI)
	}
	t := Target{
		URL: base, Client: client, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		TokenURL: doc.TokenEndpoint, JWKSURL: doc.JWKSURI, Scope: o.Scope,
	}
	for i := range o.Concurrency {
		t.Users = append(t.Users, User{Email: fmt.Sprintf(o.Users, i), Password: o.Password})
	}
	return t, nil
}
