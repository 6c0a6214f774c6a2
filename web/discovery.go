package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync/atomic"

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
	PathAuthorize     = "/oauth2/authorize"
	PathEndSession    = "/oauth2/logout"
)

// metadata is the authorization server metadata (RFC 8414 §2, OIDC
// Discovery §3). It lists only what exists: members for endpoints that are
// not served are left out, never sent empty.
type metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ScopesSupported                   []string `json:"scopes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported,omitempty"`

	// Authorization code flow (RFC 8414 §2, RFC 9207 §3, RP-Initiated
	// Logout §2.1).
	ResponseTypesSupported        []string `json:"response_types_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIss      bool     `json:"authorization_response_iss_parameter_supported"`
	EndSessionEndpoint            string   `json:"end_session_endpoint,omitempty"`

	// Token lifecycle (RFC 8414 §2, OIDC Discovery §3).
	UserInfoEndpoint                          string   `json:"userinfo_endpoint,omitempty"`
	RevocationEndpoint                        string   `json:"revocation_endpoint,omitempty"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint,omitempty"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	ClaimsSupported                           []string `json:"claims_supported,omitempty"`
}

type discovery struct {
	oauth []byte
	// The OIDC document names the signing algorithms, which change when
	// an operator enables ES256 or EdDSA keys: it is rebuilt then, and
	// only then. Requests read it without a lock.
	base metadata
	algs func() []string
	oidc atomic.Pointer[oidcDocument]
}

// oidcDocument is the OIDC document for one set of algorithms.
type oidcDocument struct {
	algs []string
	body []byte
}

// newDiscovery builds both documents; they change only with the binary,
// the issuer, or (OIDC) the algorithms algs reports. lifecycle says whether
// revocation, introspection and UserInfo are served.
func newDiscovery(issuer string, algs func() []string, lifecycle bool) (*discovery, error) {
	m := metadata{
		Issuer:                            issuer,
		AuthorizationEndpoint:             issuer + PathAuthorize,
		TokenEndpoint:                     issuer + PathToken,
		JWKSURI:                           issuer + PathJWKS,
		ScopesSupported:                   []string{server.ScopeOpenID, server.ScopeProfile, server.ScopeEmail, server.ScopeOfflineAccess},
		GrantTypesSupported:               server.SupportedGrantTypes(),
		TokenEndpointAuthMethodsSupported: server.SupportedClientAuthMethods(),
		ResponseTypesSupported:            []string{server.ResponseTypeCode},
		CodeChallengeMethodsSupported:     []string{server.PKCEMethodS256},
		AuthorizationResponseIss:          true,
	}
	if lifecycle {
		m.RevocationEndpoint = issuer + PathRevoke
		m.RevocationEndpointAuthMethodsSupported = server.SupportedClientAuthMethods()
		m.IntrospectionEndpoint = issuer + PathIntrospect
		m.IntrospectionEndpointAuthMethodsSupported = server.IntrospectionAuthMethods()
	}
	oauth, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	m.SubjectTypesSupported = []string{"public"}
	m.EndSessionEndpoint = issuer + PathEndSession
	if lifecycle {
		m.UserInfoEndpoint = issuer + PathUserInfo
		m.ClaimsSupported = server.SupportedClaims()
	}
	d := &discovery{oauth: oauth, base: m, algs: algs}
	if _, err := d.rebuild(algs()); err != nil {
		return nil, err
	}
	return d, nil
}

// oidcDocument returns the OIDC document for the algorithms that have a
// signing key now (OIDC Discovery §3: RS256 MUST be listed, and it always
// has a key).
func (d *discovery) oidcDocument() []byte {
	algs := d.algs()
	if doc := d.oidc.Load(); slices.Equal(doc.algs, algs) {
		return doc.body
	}
	// The same struct marshalled in newDiscovery: it cannot fail here.
	body, _ := d.rebuild(algs)
	return body
}

// rebuild marshals the OIDC document for algs and installs it. Two
// requests racing here build the same bytes.
func (d *discovery) rebuild(algs []string) ([]byte, error) {
	m := d.base
	m.IDTokenSigningAlgValuesSupported = algs
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	d.oidc.Store(&oidcDocument{algs: algs, body: body})
	return body, nil
}

// Mount adds the OIDC Discovery and RFC 8414 documents.
func (d *discovery) Mount(r gin.IRouter) {
	serve := func(body func() []byte) gin.HandlerFunc {
		return func(c *gin.Context) {
			c.Header("Cache-Control", "public, max-age=3600")
			c.Header("Access-Control-Allow-Origin", "*")
			c.Data(http.StatusOK, "application/json", body())
		}
	}
	r.GET(PathOIDCDiscovery, serve(d.oidcDocument))
	r.GET(PathRFC8414, serve(func() []byte { return d.oauth }))
}
