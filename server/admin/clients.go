package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
)

// ScopeAdmin is the scope an admin client holds (docs/admin.md,
// "Scopes"): its client_credentials token may call /admin/v1, for every
// shop when the client is bound to none, for its own shop otherwise.
const ScopeAdmin = "admin"

// Spryker preset TTLs (`client add --preset spryker`): Spryker's own
// defaults.
const (
	SprykerAccessTTL  = 8 * time.Hour
	SprykerRefreshTTL = 2628000 * time.Second
)

// ClientSettings are a client's registration fields (everything but its
// id and secret).
type ClientSettings struct {
	Shop                   string
	GrantTypes             []string
	Scopes                 []string
	Audiences              []string
	AccessTokenTTL         time.Duration
	RefreshTokenTTL        time.Duration
	CORSOrigins            []string
	TokenProfile           string
	AccessTokenAlg         string
	IDTokenAlg             string
	FirstParty             bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
}

// ClientInput is a new client.
type ClientInput struct {
	ID     string
	Public bool
	// Secret, when given, is the client's secret; otherwise a confidential
	// client gets a generated one, returned once.
	Secret string
	// Preset fills defaults of a known integration ("spryker"); set tells
	// which fields were given explicitly.
	Preset string
	ClientSettings
}

// ClientPreset applies a preset's defaults to the fields not given.
func ClientPreset(preset string, in *ClientSettings, given func(field string) bool) error {
	switch preset {
	case "":
	case "spryker":
		if !given("access_token_ttl") {
			in.AccessTokenTTL = SprykerAccessTTL
		}
		if !given("refresh_token_ttl") {
			in.RefreshTokenTTL = SprykerRefreshTTL
		}
		if !given("grant_types") {
			in.GrantTypes = []string{server.GrantPassword, server.GrantRefreshToken}
		}
		if !given("scopes") {
			in.Scopes = []string{"customer", server.ScopeOfflineAccess}
		}
	default:
		return invalid("preset", "%q is unknown (known: spryker)", preset)
	}
	return nil
}

// CreatedClient is a new client with its generated secret ("" when none
// was generated): shown once, never stored.
type CreatedClient struct {
	Client storage.Client
	Secret string
}

// ClientETag is the ETag of a client.
func ClientETag(c storage.Client) string { return etagOf(c) }

const maxListEntries = 32

// checkClient checks a registration: the rules `client add` always had.
func (s *Service) checkClient(ctx context.Context, actor Actor, id string, public bool, cs ClientSettings) error {
	if !ValidClientID(id) {
		return invalid("id", "must be 1-128 printable ASCII characters without spaces, ':' or '/'")
	}
	if !actor.allShops() && cs.Shop != actor.Shop {
		return refuse(Forbidden, "a shop-bound admin client manages only clients of shop %s", actor.Shop)
	}
	if len(cs.GrantTypes) == 0 {
		return invalid("grants", "is required")
	}
	for _, g := range cs.GrantTypes {
		if !slices.Contains(server.SupportedGrantTypes(), g) {
			return invalid("grants", "holds unsupported grant %q (supported: %s)", g, strings.Join(server.SupportedGrantTypes(), ", "))
		}
	}
	for field, list := range map[string][]string{
		"scopes": cs.Scopes, "audience": cs.Audiences, "redirect_uris": cs.RedirectURIs, "post_logout_redirect_uris": cs.PostLogoutRedirectURIs,
	} {
		if len(list) > maxListEntries {
			return invalid(field, "lists more than %d entries", maxListEntries)
		}
		for _, v := range list {
			if v == "" || len(v) > 2000 || strings.ContainsAny(v, " \t\r\n\"\\") {
				return invalid(field, "holds an empty or malformed entry")
			}
		}
	}
	if slices.Contains(cs.Scopes, ScopeAdmin) && !actor.allShops() {
		return refuse(Forbidden, "a shop-bound admin client cannot create admin clients")
	}
	if slices.Contains(cs.Scopes, ScopeAdmin) && (public || !slices.Contains(cs.GrantTypes, server.GrantClientCredentials)) {
		return invalid("scopes", "admin is for confidential clients of the client_credentials grant")
	}
	if err := checkOrigins("cors_origins", cs.CORSOrigins); err != nil {
		return err
	}
	if cs.AccessTokenTTL < 0 || cs.RefreshTokenTTL < 0 || cs.AccessTokenTTL > 24*time.Hour || cs.RefreshTokenTTL > 5*365*24*time.Hour {
		return invalid("access_token_ttl", "and refresh_token_ttl must be 0 (the default) up to 24 h and 5 years")
	}
	switch cs.TokenProfile {
	case "", tokens.ProfileRFC9068, tokens.ProfileSpryker:
	default:
		return invalid("token_profile", "%q is unknown (rfc9068, spryker)", cs.TokenProfile)
	}
	for field, alg := range map[string]string{"access_token_alg": cs.AccessTokenAlg, "id_token_alg": cs.IDTokenAlg} {
		if alg != "" && !keys.IsAlgorithm(alg) {
			return invalid(field, "names unsupported algorithm %q (supported: %s)", alg, strings.Join(keys.Algorithms(), ", "))
		}
	}
	if err := server.CheckClientRedirects(cs.GrantTypes, cs.Shop, cs.RedirectURIs, cs.PostLogoutRedirectURIs); err != nil {
		return invalid("redirect_uris", "%s", err.Error())
	}
	if err := s.checkSigningKeys(ctx, cs.AccessTokenAlg, cs.IDTokenAlg); err != nil {
		return err
	}
	if cs.Shop != "" {
		if _, err := s.cfg.Store.GetShop(ctx, cs.Shop); errors.Is(err, storage.ErrNotFound) {
			return invalid("shop", "names no shop (%q)", cs.Shop)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// checkSigningKeys refuses an algorithm with no signing key yet: its
// tokens could not be signed.
func (s *Service) checkSigningKeys(ctx context.Context, algs ...string) error {
	need := slices.DeleteFunc(slices.Clone(algs), func(alg string) bool { return alg == "" || alg == keys.DefaultAlgorithm })
	if len(need) == 0 || s.cfg.SigningAlgorithms == nil {
		return nil
	}
	have, err := s.cfg.SigningAlgorithms(ctx)
	if err != nil {
		return err
	}
	for _, alg := range need {
		if !slices.Contains(have, alg) {
			return invalid("access_token_alg", "no %s key signs yet: run `shopauth keys rotate --alg %s` and add the client once the key signs", alg, alg)
		}
	}
	return nil
}

func (cs ClientSettings) apply(c *storage.Client) {
	c.ShopKey, c.GrantTypes, c.Scopes, c.Audiences = cs.Shop, cs.GrantTypes, cs.Scopes, cs.Audiences
	c.AccessTokenTTL, c.RefreshTokenTTL, c.CORSOrigins = cs.AccessTokenTTL, cs.RefreshTokenTTL, cs.CORSOrigins
	c.TokenProfile, c.AccessTokenAlg, c.IDTokenAlg, c.FirstParty = cs.TokenProfile, cs.AccessTokenAlg, cs.IDTokenAlg, cs.FirstParty
	c.RedirectURIs, c.PostLogoutRedirectURIs = cs.RedirectURIs, cs.PostLogoutRedirectURIs
}

// SettingsOf returns a client's settings.
func SettingsOf(c storage.Client) ClientSettings {
	return ClientSettings{
		Shop: c.ShopKey, GrantTypes: c.GrantTypes, Scopes: c.Scopes, Audiences: c.Audiences,
		AccessTokenTTL: c.AccessTokenTTL, RefreshTokenTTL: c.RefreshTokenTTL, CORSOrigins: c.CORSOrigins,
		TokenProfile: c.TokenProfile, AccessTokenAlg: c.AccessTokenAlg, IDTokenAlg: c.IDTokenAlg, FirstParty: c.FirstParty,
		RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
	}
}

// CreateClient registers a client. A confidential client given no secret
// gets a generated one, in the result only.
func (s *Service) CreateClient(ctx context.Context, actor Actor, in ClientInput) (CreatedClient, error) {
	if in.Public && in.Secret != "" {
		return CreatedClient{}, invalid("secret", "and public exclude each other")
	}
	if len(in.Secret) > 512 {
		return CreatedClient{}, invalid("secret", "is longer than 512 bytes")
	}
	if err := s.checkClient(ctx, actor, in.ID, in.Public, in.ClientSettings); err != nil {
		return CreatedClient{}, err
	}
	c := storage.Client{ID: in.ID, Public: in.Public, CreatedAt: s.now()}
	in.ClientSettings.apply(&c)
	var out CreatedClient
	switch {
	case in.Public:
	case in.Secret != "":
		c.SecretHash = clients.HashSecret(in.Secret)
	default:
		secret, err := clients.GenerateSecret()
		if err != nil {
			return CreatedClient{}, err
		}
		out.Secret, c.SecretHash = secret, clients.HashSecret(secret)
	}
	a := s.entry(actor, "client.create", "client", c.ID, c.ShopKey)
	if err := s.cfg.Store.CreateClientAudited(ctx, c, a); errors.Is(err, storage.ErrConflict) {
		return CreatedClient{}, &Error{Kind: Conflict, Field: "id", Message: fmt.Sprintf("client %q exists already", c.ID)}
	} else if err != nil {
		return CreatedClient{}, err
	}
	s.logged(ctx, a)
	stored, err := s.cfg.Store.GetClient(ctx, c.ID)
	out.Client = stored
	return out, err
}

// ListClients lists the clients the actor sees (a shop-bound actor: its
// shop's).
func (s *Service) ListClients(ctx context.Context, actor Actor) ([]storage.Client, error) {
	list, err := s.cfg.Store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, c := range list {
		if actor.allShops() || c.ShopKey == actor.Shop {
			out = append(out, c)
		}
	}
	return out, nil
}

// GetClient returns a client the actor sees.
func (s *Service) GetClient(ctx context.Context, actor Actor, id string) (storage.Client, error) {
	c, err := s.cfg.Store.GetClient(ctx, id)
	if err != nil {
		return storage.Client{}, notFound(err, "client")
	}
	if !actor.allShops() && c.ShopKey != actor.Shop {
		return storage.Client{}, refuse(NotFound, "client not found")
	}
	return c, nil
}

func (s *Service) visibleClient(actor Actor, c storage.Client) error {
	if !actor.allShops() && c.ShopKey != actor.Shop {
		return refuse(NotFound, "client not found")
	}
	return nil
}

// UpdateClient replaces a client's settings (not its id, type or secret).
func (s *Service) UpdateClient(ctx context.Context, actor Actor, id, ifMatch string, cs ClientSettings) (storage.Client, error) {
	current, err := s.GetClient(ctx, actor, id)
	if err != nil {
		return storage.Client{}, err
	}
	if err := s.checkClient(ctx, actor, id, current.Public, cs); err != nil {
		return storage.Client{}, err
	}
	a := s.entry(actor, "client.update", "client", id, cs.Shop)
	c, err := s.cfg.Store.UpdateClient(ctx, id, func(c *storage.Client) error {
		if err := s.visibleClient(actor, *c); err != nil {
			return err
		}
		if err := checkETag(ifMatch, ClientETag(*c)); err != nil {
			return err
		}
		cs.apply(c)
		return nil
	}, a)
	if err != nil {
		return storage.Client{}, notFound(err, "client")
	}
	s.logged(ctx, a)
	return c, nil
}

// RotateSecret gives a confidential client a new generated secret,
// returned once; the old one stops working at once (docs/admin.md).
func (s *Service) RotateSecret(ctx context.Context, actor Actor, id, ifMatch string) (CreatedClient, error) {
	secret, err := clients.GenerateSecret()
	if err != nil {
		return CreatedClient{}, err
	}
	current, err := s.GetClient(ctx, actor, id)
	if err != nil {
		return CreatedClient{}, err
	}
	a := s.entry(actor, "client.rotate_secret", "client", id, current.ShopKey)
	c, err := s.cfg.Store.UpdateClient(ctx, id, func(c *storage.Client) error {
		if err := s.visibleClient(actor, *c); err != nil {
			return err
		}
		if err := checkETag(ifMatch, ClientETag(*c)); err != nil {
			return err
		}
		if c.Public {
			return invalid("id", "names a public client: it has no secret")
		}
		c.SecretHash = clients.HashSecret(secret)
		return nil
	}, a)
	if err != nil {
		return CreatedClient{}, notFound(err, "client")
	}
	s.logged(ctx, a)
	return CreatedClient{Client: c, Secret: secret}, nil
}

// DeleteClient deletes a client and the consents given to it: it can no
// longer authenticate, so its refresh tokens stop working; access tokens
// it holds live until they expire (docs/admin.md).
func (s *Service) DeleteClient(ctx context.Context, actor Actor, id, ifMatch string) error {
	current, err := s.GetClient(ctx, actor, id)
	if err != nil {
		return err
	}
	if current.ID == actor.ID {
		return refuse(Forbidden, "an admin client cannot delete itself")
	}
	a := s.entry(actor, "client.delete", "client", id, current.ShopKey)
	err = s.cfg.Store.DeleteClient(ctx, id, func(c storage.Client) error {
		if err := s.visibleClient(actor, c); err != nil {
			return err
		}
		return checkETag(ifMatch, ClientETag(c))
	}, a)
	if err != nil {
		return notFound(err, "client")
	}
	s.logged(ctx, a)
	return nil
}
