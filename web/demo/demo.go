package demo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/oautherr"
)

// Routes of the demo app, and its client (app.SeedDemo registers it).
const (
	Path         = "/demo"
	PathCallback = "/demo/callback"
	ClientID     = "demo-app"
)

// Tokens redeems the demo app's codes; *server.Authority implements it.
type Tokens interface {
	Token(ctx context.Context, req server.TokenRequest) (*server.TokenResponse, error)
	Issuer() string
}

var _ Tokens = (*server.Authority)(nil)

// Handler is the demo app.
type Handler struct {
	tokens Tokens
	base   string
}

// New returns the demo app over tokens.
func New(tokens Tokens) (*Handler, error) {
	if tokens == nil {
		return nil, errors.New("demo: Tokens is required")
	}
	return &Handler{tokens: tokens, base: strings.TrimRight(tokens.Issuer(), "/")}, nil
}

// Mount adds the demo app's pages.
func (h *Handler) Mount(r gin.IRouter) {
	r.GET(Path, h.home)
	r.GET(PathCallback, h.callback)
}

// The demo app keeps its PKCE verifier in a cookie: it is a demo of the
// server, not of a client.
const verifierCookie = "demo_verifier"

func (h *Handler) home(c *gin.Context) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	verifier := base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(verifier))
	http.SetCookie(c.Writer, &http.Cookie{Name: verifierCookie, Value: verifier, Path: Path, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	q := url.Values{
		"response_type": {"code"}, "client_id": {ClientID}, "redirect_uri": {h.base + PathCallback},
		"scope": {"openid email profile"}, "state": {verifier[:12]},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	h.render(c, http.StatusOK, view{SignIn: "/oauth2/authorize?" + q.Encode()})
}

func (h *Handler) callback(c *gin.Context) {
	v := view{SignIn: Path}
	verifier, err := c.Cookie(verifierCookie)
	switch {
	case c.Query("error") != "":
		v.Problem = c.Query("error")
	case err != nil || c.Query("code") == "":
		v.Problem = "no code: start again"
	default:
		resp, err := h.tokens.Token(c.Request.Context(), server.TokenRequest{
			GrantType: server.GrantAuthorizationCode, Client: server.ClientCredentials{ID: ClientID, Method: server.ClientAuthNone},
			Code: c.Query("code"), RedirectURI: h.base + PathCallback, CodeVerifier: verifier, ClientIP: c.ClientIP(),
		})
		if err != nil {
			v.Problem = oautherr.From(err).Description
			break
		}
		v.Email, v.Name = resp.Customer.Email, resp.Customer.Name
		v.SignOut = "/oauth2/logout?" + url.Values{"client_id": {ClientID}, "post_logout_redirect_uri": {h.base + Path}}.Encode()
	}
	h.render(c, http.StatusOK, v)
}

type view struct {
	SignIn, SignOut, Email, Name, Problem string
}

var page = template.Must(template.New("demo").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo app · shopauth</title><link rel="stylesheet" href="/assets/hosted.css"></head>
<body><main class="card"><p class="shop">ACME Shop · demo app</p>
{{if .Email}}<h1>Signed in</h1><p id="signed-in">{{.Name}} &lt;{{.Email}}&gt;</p>
<p class="links"><a href="/account/password" id="change-password">Change password</a> · <a href="{{.SignOut}}" id="sign-out">Sign out</a></p>
{{else}}<h1>Demo app</h1>{{if .Problem}}<p class="error" role="alert">{{.Problem}}</p>{{end}}
<p>This page stands for a shop's web site. It signs customers in with shopauth's hosted pages, where they can also create an account or reset a forgotten password. The demo has no mail server: each mail's link is in the server's log.</p>
<p class="links"><a href="{{.SignIn}}" id="sign-in-link">Sign in</a></p>{{end}}
</main></body></html>
`))

func (h *Handler) render(c *gin.Context, status int, v view) {
	c.Header("Cache-Control", "no-store")
	c.Header("X-Frame-Options", "DENY")
	var b strings.Builder
	if err := page.Execute(&b, v); err != nil {
		c.String(http.StatusInternalServerError, "render: %v", err)
		return
	}
	c.Data(status, "text/html; charset=utf-8", []byte(b.String()))
}
