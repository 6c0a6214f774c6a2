package web

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
)

// Route paths of the standard endpoints, joined to the issuer in discovery.
const (
	PathToken         = "/oauth2/token"
	PathJWKS          = "/.well-known/jwks.json"
	PathOIDCDiscovery = "/.well-known/openid-configuration"
	PathRFC8414       = "/.well-known/oauth-authorization-server"
	PathMetrics       = "/metrics"
)

// metadata is the authorization server metadata (RFC 8414 §2, OIDC
// Discovery §3). It lists only what exists: members for endpoints that are
// not served are left out, never sent empty.
type metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ScopesSupported                   []string `json:"scopes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported,omitempty"`
}

type discovery struct {
	oidc, oauth []byte
}

// newDiscovery builds both documents once; they change only with the
// binary or the issuer.
func newDiscovery(issuer string) (*discovery, error) {
	m := metadata{
		Issuer:                            issuer,
		TokenEndpoint:                     issuer + PathToken,
		JWKSURI:                           issuer + PathJWKS,
		ScopesSupported:                   []string{server.ScopeOpenID, server.ScopeProfile, server.ScopeEmail, server.ScopeOfflineAccess},
		GrantTypesSupported:               server.SupportedGrantTypes(),
		TokenEndpointAuthMethodsSupported: server.SupportedClientAuthMethods(),
	}
	oauth, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	m.SubjectTypesSupported = []string{"public"}
	m.IDTokenSigningAlgValuesSupported = []string{"RS256"}
	oidc, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &discovery{oidc: oidc, oauth: oauth}, nil
}

// Mount adds the OIDC Discovery and RFC 8414 documents.
func (d *discovery) Mount(r gin.IRouter) {
	serve := func(body []byte) gin.HandlerFunc {
		return func(c *gin.Context) {
			c.Header("Cache-Control", "public, max-age=3600")
			c.Header("Access-Control-Allow-Origin", "*")
			c.Data(http.StatusOK, "application/json", body)
		}
	}
	r.GET(PathOIDCDiscovery, serve(d.oidc))
	r.GET(PathRFC8414, serve(d.oauth))
}
