package admin

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	core "github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/server/refusal"
	"github.com/shopauth/shopauth/server/tokens"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/web"
)

// Prefix is where the admin API lives.
const Prefix = "/admin/v1"

// OpenAPI is the API's OpenAPI 3.1 document, served at
// /admin/v1/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// AccessTokens verifies access tokens (*tokens.Verifier).
type AccessTokens interface {
	VerifyAccessToken(ctx context.Context, raw string) (tokens.AccessClaims, error)
}

// Clients reads client registrations: an admin client's scope and shop
// binding are read afresh on every call, so a change applies at once.
type Clients interface {
	GetClient(ctx context.Context, id string) (storage.Client, error)
}

// Config holds the handler's dependencies.
type Config struct {
	Service      *core.Service
	AccessTokens AccessTokens
	Clients      Clients
	Logger       *slog.Logger
}

// Handler serves /admin/v1.
type Handler struct {
	svc    *core.Service
	tokens AccessTokens
	client Clients
	logger *slog.Logger
}

// New checks cfg and returns the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil || cfg.AccessTokens == nil || cfg.Clients == nil {
		return nil, errors.New("web/admin: Service, AccessTokens and Clients are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{svc: cfg.Service, tokens: cfg.AccessTokens, client: cfg.Clients, logger: cfg.Logger}, nil
}

const actorKey = "shopauth.admin.actor"

// Mount adds the routes.
func (h *Handler) Mount(r gin.IRouter) {
	r.GET(Prefix+"/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", OpenAPI) })
	g := r.Group(Prefix, h.authenticate)
	g.GET("/shops", h.listShops)
	g.POST("/shops", h.createShop)
	g.GET("/shops/:shop", h.getShop)
	g.PATCH("/shops/:shop", h.updateShop)
	g.GET("/shops/:shop/customers", h.listCustomers)
	g.POST("/shops/:shop/customers", h.createCustomer)
	g.GET("/shops/:shop/customers/:id", h.getCustomer)
	g.PATCH("/shops/:shop/customers/:id", h.updateCustomer)
	g.PUT("/shops/:shop/customers/:id/password", h.setPassword)
	for action, run := range customerActions {
		g.POST("/shops/:shop/customers/:id/"+action, h.customerAction(run))
	}
	g.GET("/shops/:shop/customers/:id/consents", h.listConsents)
	g.DELETE("/shops/:shop/customers/:id/consents/:client", h.revokeConsent)
	g.GET("/clients", h.listClients)
	g.POST("/clients", h.createClient)
	g.GET("/clients/:client", h.getClient)
	g.PUT("/clients/:client", h.updateClient)
	g.DELETE("/clients/:client", h.deleteClient)
	g.POST("/clients/:client/rotate-secret", h.rotateSecret)
	g.GET("/keys", h.listKeys)
	g.POST("/keys/rotate", h.rotateKey)
	g.GET("/audit", h.listAudit)
}

// NoRoute answers unknown paths under /admin/v1 as a problem.
func (h *Handler) NoRoute(c *gin.Context) bool {
	if !underPrefix(c.Request.URL.Path) {
		return false
	}
	writeProblem(c, h.logger, fail("not-found", "no such route"))
	return true
}

// NoMethod answers a method a route under /admin/v1 does not allow.
func (h *Handler) NoMethod(c *gin.Context) bool {
	if !underPrefix(c.Request.URL.Path) {
		return false
	}
	writeProblem(c, h.logger, fail("method-not-allowed", c.Request.Method+" is not allowed here"))
	return true
}

func underPrefix(p string) bool { return p == Prefix || strings.HasPrefix(p, Prefix+"/") }

// authenticate admits the access token of an admin client: a
// client_credentials token (sub is the client), with the admin scope,
// of a client that still exists and still holds the scope. Customer
// tokens never pass.
func (h *Handler) authenticate(c *gin.Context) {
	raw, problem := web.ParseBearerHeader(c.GetHeader("Authorization"))
	if problem != web.BearerOK {
		writeProblem(c, h.logger, fail("unauthorized", "send Authorization: Bearer with an admin client's access token"))
		return
	}
	claims, err := h.tokens.VerifyAccessToken(c.Request.Context(), raw)
	if err != nil {
		if refusal.KindOf(err) == refusal.InvalidToken {
			err = fail("unauthorized", "the access token is not live")
		}
		writeProblem(c, h.logger, err)
		return
	}
	if _, customer := claims.CustomerID(); customer || claims.Subject != claims.ClientID || claims.ClientID == "" {
		writeProblem(c, h.logger, fail("forbidden", "only an admin client's own token (client_credentials) is accepted"))
		return
	}
	if !slices.Contains(strings.Fields(claims.Scope), core.ScopeAdmin) {
		writeProblem(c, h.logger, fail("forbidden", "the token lacks the admin scope"))
		return
	}
	client, err := h.client.GetClient(c.Request.Context(), claims.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		writeProblem(c, h.logger, fail("unauthorized", "the token's client no longer exists"))
		return
	}
	if err != nil {
		writeProblem(c, h.logger, err)
		return
	}
	if !slices.Contains(client.Scopes, core.ScopeAdmin) {
		writeProblem(c, h.logger, fail("forbidden", "the client no longer holds the admin scope"))
		return
	}
	c.Set(actorKey, core.Actor{ID: client.ID, Shop: client.ShopKey})
	c.Next()
}

func actor(c *gin.Context) core.Actor {
	a, _ := c.Get(actorKey)
	return a.(core.Actor)
}

func (h *Handler) decode(c *gin.Context, v any) bool {
	if err := DecodeBody(c.GetHeader("Content-Type"), c.Request.Body, MaxBodyBytes, v); err != nil {
		writeProblem(c, h.logger, err)
		return false
	}
	return true
}

// ifMatch returns the If-Match header; required, a missing one is
// answered 428.
func (h *Handler) ifMatch(c *gin.Context, required bool) (string, bool) {
	v := strings.TrimSpace(c.GetHeader("If-Match"))
	if v == "" && required {
		writeProblem(c, h.logger, fail("precondition-required", "send If-Match with the ETag of the resource you read"))
		return "", false
	}
	return v, true
}

func (h *Handler) reply(c *gin.Context, status int, etag string, v any) {
	c.Header("Cache-Control", "no-store")
	if etag != "" {
		c.Header("ETag", etag)
	}
	b, err := jsonMarshal(v)
	if err != nil {
		writeProblem(c, h.logger, err)
		return
	}
	c.Data(status, "application/json", b)
}

func (h *Handler) fail(c *gin.Context, err error) { writeProblem(c, h.logger, err) }

// customerID reads the :id segment; one that is no id names nothing.
func (h *Handler) customerID(c *gin.Context) (uint64, bool) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil || id == 0 {
		h.fail(c, fail("not-found", "customer not found"))
		return 0, false
	}
	return id, true
}

// cursor reads ?cursor= and ?limit=.
func (h *Handler) cursor(c *gin.Context) (uint64, int, bool) {
	var after uint64
	if s := c.Query("cursor"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			h.fail(c, &problemError{slug: "invalid-parameter", detail: "cursor is not one this API gave", field: "cursor"})
			return 0, 0, false
		}
		after = v
	}
	limit := 0
	if s := c.Query("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > core.MaxPageSize {
			h.fail(c, &problemError{slug: "invalid-parameter", detail: "limit must be 1-" + strconv.Itoa(core.MaxPageSize), field: "limit"})
			return 0, 0, false
		}
		limit = v
	}
	return after, limit, true
}

func nextCursor(n uint64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(n, 10)
}

// Shops.

func (h *Handler) listShops(c *gin.Context) {
	shops, err := h.svc.ListShops(c.Request.Context(), actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	out := page[shopView]{Items: make([]shopView, 0, len(shops))}
	for _, s := range shops {
		out.Items = append(out.Items, viewShop(s))
	}
	h.reply(c, http.StatusOK, "", out)
}

func (h *Handler) createShop(c *gin.Context) {
	var in shopCreate
	if !h.decode(c, &in) {
		return
	}
	shop, err := h.svc.CreateShop(c.Request.Context(), actor(c), core.ShopInput{Key: in.Key, Name: in.Name, Locale: in.Locale, CORSOrigins: in.CORSOrigins})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", Prefix+"/shops/"+shop.Key)
	h.reply(c, http.StatusCreated, core.ShopETag(shop), viewShop(shop))
}

func (h *Handler) getShop(c *gin.Context) {
	shop, err := h.svc.GetShop(c.Request.Context(), actor(c), c.Param("shop"))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.reply(c, http.StatusOK, core.ShopETag(shop), viewShop(shop))
}

func (h *Handler) updateShop(c *gin.Context) {
	match, ok := h.ifMatch(c, true)
	if !ok {
		return
	}
	var in shopPatch
	if !h.decode(c, &in) {
		return
	}
	shop, err := h.svc.UpdateShop(c.Request.Context(), actor(c), c.Param("shop"), match,
		core.ShopPatch{Name: in.Name, Locale: in.Locale, CORSOrigins: in.CORSOrigins, Active: in.Active})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.reply(c, http.StatusOK, core.ShopETag(shop), viewShop(shop))
}

// Customers.

func (h *Handler) listCustomers(c *gin.Context) {
	after, limit, ok := h.cursor(c)
	if !ok {
		return
	}
	p, err := h.svc.ListCustomers(c.Request.Context(), actor(c), c.Param("shop"), c.Query("email"), after, limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := page[customerView]{Items: make([]customerView, 0, len(p.Customers)), NextCursor: nextCursor(p.Next)}
	for _, cu := range p.Customers {
		out.Items = append(out.Items, viewCustomer(cu))
	}
	h.reply(c, http.StatusOK, "", out)
}

func (h *Handler) createCustomer(c *gin.Context) {
	var in customerCreate
	if !h.decode(c, &in) {
		return
	}
	cu, err := h.svc.CreateCustomer(c.Request.Context(), actor(c), core.CustomerInput{
		Shop: c.Param("shop"), Email: in.Email, Name: in.Name, Password: in.Password, PasswordHash: in.PasswordHash,
		Invite: in.Invite, Verified: in.Verified, ID: in.ID, AccountID: in.AccountID,
		CustomerReference: in.CustomerReference, CompanyUserID: in.CompanyUserID,
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", Prefix+"/shops/"+cu.ShopKey+"/customers/"+strconv.FormatUint(cu.ID, 10))
	h.reply(c, http.StatusCreated, core.CustomerETag(cu), viewCustomer(cu))
}

func (h *Handler) getCustomer(c *gin.Context) {
	id, ok := h.customerID(c)
	if !ok {
		return
	}
	cu, err := h.svc.GetCustomer(c.Request.Context(), actor(c), c.Param("shop"), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.reply(c, http.StatusOK, core.CustomerETag(cu), viewCustomer(cu))
}

func (h *Handler) updateCustomer(c *gin.Context) {
	customerWrite(h, c, func(ctx context.Context, a core.Actor, shop string, id uint64, match string, in customerPatch) (storage.Customer, error) {
		return h.svc.UpdateCustomer(ctx, a, shop, id, match, core.CustomerPatch{Name: in.Name, Email: in.Email})
	})
}

func (h *Handler) setPassword(c *gin.Context) {
	customerWrite(h, c, func(ctx context.Context, a core.Actor, shop string, id uint64, match string, in passwordSet) (storage.Customer, error) {
		return h.svc.SetPassword(ctx, a, shop, id, match, in.Password)
	})
}

// customerWrite runs a change of one customer that needs If-Match and a
// body of type In, and answers the changed customer.
func customerWrite[In any](h *Handler, c *gin.Context, write func(ctx context.Context, a core.Actor, shop string, id uint64, match string, in In) (storage.Customer, error)) {
	id, ok := h.customerID(c)
	if !ok {
		return
	}
	match, ok := h.ifMatch(c, true)
	if !ok {
		return
	}
	var in In
	if !h.decode(c, &in) {
		return
	}
	cu, err := write(c.Request.Context(), actor(c), c.Param("shop"), id, match, in)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.reply(c, http.StatusOK, core.CustomerETag(cu), viewCustomer(cu))
}

// customerOp is one action on a customer.
type customerOp func(svc *core.Service, ctx context.Context, a core.Actor, shop string, id uint64, ifMatch string) (storage.Customer, error)

// customerActions are the POST /shops/{shop}/customers/{id}/{action}
// routes: commands, If-Match optional (checked when sent).
var customerActions = map[string]customerOp{
	"verify": (*core.Service).SetVerified,
	"disable": func(svc *core.Service, ctx context.Context, a core.Actor, shop string, id uint64, m string) (storage.Customer, error) {
		return svc.SetDisabled(ctx, a, shop, id, m, true)
	},
	"enable": func(svc *core.Service, ctx context.Context, a core.Actor, shop string, id uint64, m string) (storage.Customer, error) {
		return svc.SetDisabled(ctx, a, shop, id, m, false)
	},
	"unlock":          (*core.Service).Unlock,
	"revoke-sessions": (*core.Service).RevokeSessions,
	"erase":           (*core.Service).Erase,
}

func (h *Handler) customerAction(run customerOp) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := h.customerID(c)
		if !ok {
			return
		}
		match, _ := h.ifMatch(c, false)
		cu, err := run(h.svc, c.Request.Context(), actor(c), c.Param("shop"), id, match)
		if err != nil {
			h.fail(c, err)
			return
		}
		h.reply(c, http.StatusOK, core.CustomerETag(cu), viewCustomer(cu))
	}
}

func (h *Handler) listConsents(c *gin.Context) {
	id, ok := h.customerID(c)
	if !ok {
		return
	}
	consents, err := h.svc.ListConsents(c.Request.Context(), actor(c), c.Param("shop"), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := page[consentView]{Items: make([]consentView, 0, len(consents))}
	for _, co := range consents {
		out.Items = append(out.Items, consentView{Client: co.ClientID, Scopes: list(co.Scopes), GrantedAt: co.GrantedAt.UTC()})
	}
	h.reply(c, http.StatusOK, "", out)
}

func (h *Handler) revokeConsent(c *gin.Context) {
	id, ok := h.customerID(c)
	if !ok {
		return
	}
	if err := h.svc.RevokeConsent(c.Request.Context(), actor(c), c.Param("shop"), id, c.Param("client")); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// Clients.

func (h *Handler) listClients(c *gin.Context) {
	list, err := h.svc.ListClients(c.Request.Context(), actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	out := page[clientView]{Items: make([]clientView, 0, len(list))}
	for _, cl := range list {
		out.Items = append(out.Items, viewClient(cl))
	}
	h.reply(c, http.StatusOK, "", out)
}

func (h *Handler) createClient(c *gin.Context) {
	var in clientCreate
	if !h.decode(c, &in) {
		return
	}
	settings := in.clientSettings.core()
	if err := core.ClientPreset(in.Preset, &settings, func(field string) bool {
		switch field {
		case "access_token_ttl":
			return in.AccessTokenTTL != 0
		case "refresh_token_ttl":
			return in.RefreshTokenTTL != 0
		case "grant_types":
			return len(in.GrantTypes) > 0
		case "scopes":
			return len(in.Scopes) > 0
		}
		return false
	}); err != nil {
		h.fail(c, err)
		return
	}
	created, err := h.svc.CreateClient(c.Request.Context(), actor(c), core.ClientInput{
		ID: in.ID, Public: in.Public, Secret: in.Secret, Preset: in.Preset, ClientSettings: settings,
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	v := viewClient(created.Client)
	v.ClientSecret = created.Secret
	c.Header("Location", Prefix+"/clients/"+created.Client.ID)
	h.reply(c, http.StatusCreated, core.ClientETag(created.Client), v)
}

func (h *Handler) getClient(c *gin.Context) {
	cl, err := h.svc.GetClient(c.Request.Context(), actor(c), c.Param("client"))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.reply(c, http.StatusOK, core.ClientETag(cl), viewClient(cl))
}

func (h *Handler) updateClient(c *gin.Context) {
	match, ok := h.ifMatch(c, true)
	if !ok {
		return
	}
	var in clientSettings
	if !h.decode(c, &in) {
		return
	}
	cl, err := h.svc.UpdateClient(c.Request.Context(), actor(c), c.Param("client"), match, in.core())
	if err != nil {
		h.fail(c, err)
		return
	}
	h.reply(c, http.StatusOK, core.ClientETag(cl), viewClient(cl))
}

func (h *Handler) deleteClient(c *gin.Context) {
	match, _ := h.ifMatch(c, false)
	if err := h.svc.DeleteClient(c.Request.Context(), actor(c), c.Param("client"), match); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *Handler) rotateSecret(c *gin.Context) {
	match, _ := h.ifMatch(c, false)
	rotated, err := h.svc.RotateSecret(c.Request.Context(), actor(c), c.Param("client"), match)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := viewClient(rotated.Client)
	v.ClientSecret = rotated.Secret
	h.reply(c, http.StatusOK, core.ClientETag(rotated.Client), v)
}

// Keys and audit.

func (h *Handler) listKeys(c *gin.Context) {
	list, err := h.svc.ListKeys(c.Request.Context(), actor(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	out := page[keyView]{Items: make([]keyView, 0, len(list))}
	for _, k := range list {
		out.Items = append(out.Items, viewKey(k))
	}
	h.reply(c, http.StatusOK, "", out)
}

func (h *Handler) rotateKey(c *gin.Context) {
	var in keyRotate
	if !h.decode(c, &in) {
		return
	}
	k, err := h.svc.RotateKey(c.Request.Context(), actor(c), in.Alg, in.Immediate)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.reply(c, http.StatusCreated, "", viewKey(k))
}

func (h *Handler) listAudit(c *gin.Context) {
	after, limit, ok := h.cursor(c)
	if !ok {
		return
	}
	p, err := h.svc.ListAudit(c.Request.Context(), actor(c), c.Query("shop"), after, limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := page[auditView]{Items: make([]auditView, 0, len(p.Entries)), NextCursor: nextCursor(p.Next)}
	for _, e := range p.Entries {
		out.Items = append(out.Items, auditView{
			ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, ResourceType: e.ResourceType, ResourceID: e.ResourceID, Shop: e.ShopKey,
		})
	}
	h.reply(c, http.StatusOK, "", out)
}
