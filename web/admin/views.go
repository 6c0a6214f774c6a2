package admin

import (
	"time"

	"github.com/shopauth/shopauth/keys"
	core "github.com/shopauth/shopauth/server/admin"
	"github.com/shopauth/shopauth/storage"
)

// The wire forms (the schemas of openapi.json). Times are RFC 3339 UTC;
// lists are never null.

type shopView struct {
	Key         string    `json:"key"`
	Name        string    `json:"name"`
	Locale      string    `json:"locale"`
	CORSOrigins []string  `json:"cors_origins"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
}

func viewShop(s storage.Shop) shopView {
	return shopView{Key: s.Key, Name: s.Name, Locale: s.Locale, CORSOrigins: list(s.CORSOrigins), Active: s.Active, CreatedAt: s.CreatedAt.UTC()}
}

type customerView struct {
	ID                uint64     `json:"id"`
	Shop              string     `json:"shop"`
	Email             string     `json:"email"`
	Name              string     `json:"name"`
	EmailVerified     bool       `json:"email_verified"`
	EmailVerifiedAt   *time.Time `json:"email_verified_at"`
	Disabled          bool       `json:"disabled"`
	DisabledAt        *time.Time `json:"disabled_at"`
	Erased            bool       `json:"erased"`
	AccountID         uint64     `json:"account_id"`
	CustomerReference string     `json:"customer_reference"`
	CompanyUserID     string     `json:"company_user_id"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

func viewCustomer(c storage.Customer) customerView {
	return customerView{
		ID: c.ID, Shop: c.ShopKey, Email: c.Email, Name: c.Name,
		EmailVerified: c.Verified(), EmailVerifiedAt: utc(c.EmailVerifiedAt), Disabled: c.Disabled(), DisabledAt: utc(c.DisabledAt),
		Erased: core.Erased(c), AccountID: c.AccountID, CustomerReference: c.CustomerReference, CompanyUserID: c.CompanyUserID,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

type clientView struct {
	ID                     string    `json:"id"`
	Public                 bool      `json:"public"`
	Shop                   string    `json:"shop"`
	GrantTypes             []string  `json:"grant_types"`
	Scopes                 []string  `json:"scopes"`
	Audiences              []string  `json:"audiences"`
	AccessTokenTTL         int64     `json:"access_token_ttl"`
	RefreshTokenTTL        int64     `json:"refresh_token_ttl"`
	CORSOrigins            []string  `json:"cors_origins"`
	TokenProfile           string    `json:"token_profile"`
	AccessTokenAlg         string    `json:"access_token_alg"`
	IDTokenAlg             string    `json:"id_token_alg"`
	FirstParty             bool      `json:"first_party"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	CreatedAt              time.Time `json:"created_at"`
	// ClientSecret is set only in the answer that generated it.
	ClientSecret string `json:"client_secret,omitempty"`
}

func viewClient(c storage.Client) clientView {
	return clientView{
		ID: c.ID, Public: c.Public, Shop: c.ShopKey, GrantTypes: list(c.GrantTypes), Scopes: list(c.Scopes), Audiences: list(c.Audiences),
		AccessTokenTTL: int64(c.AccessTokenTTL / time.Second), RefreshTokenTTL: int64(c.RefreshTokenTTL / time.Second),
		CORSOrigins: list(c.CORSOrigins), TokenProfile: c.TokenProfile, AccessTokenAlg: c.AccessTokenAlg, IDTokenAlg: c.IDTokenAlg,
		FirstParty: c.FirstParty, RedirectURIs: list(c.RedirectURIs), PostLogoutRedirectURIs: list(c.PostLogoutRedirectURIs),
		CreatedAt: c.CreatedAt.UTC(),
	}
}

type consentView struct {
	Client    string    `json:"client"`
	Scopes    []string  `json:"scopes"`
	GrantedAt time.Time `json:"granted_at"`
}

type keyView struct {
	KID         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"`
	Published   bool       `json:"published"`
	CreatedAt   time.Time  `json:"created_at"`
	NotBefore   time.Time  `json:"not_before"`
	RetireAfter *time.Time `json:"retire_after"`
	RemoveAfter *time.Time `json:"remove_after"`
}

func viewKey(k keys.KeyInfo) keyView {
	return keyView{
		KID: k.KID, Alg: k.Algorithm, State: string(k.State), Published: k.Published, CreatedAt: k.CreatedAt.UTC(),
		NotBefore: k.NotBefore.UTC(), RetireAfter: utc(k.RetireAfter), RemoveAfter: utc(k.RemoveAfter),
	}
}

type auditView struct {
	ID           uint64    `json:"id"`
	At           time.Time `json:"at"`
	Actor        string    `json:"actor"`
	Action       string    `json:"action"`
	ResourceType string    `json:"resource_type"`
	ResourceID   string    `json:"resource_id"`
	Shop         string    `json:"shop"`
}

// page is a list answer; NextCursor is absent on the last page.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func list(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Request bodies. Pointers tell absent from empty.

type shopCreate struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Locale      string   `json:"locale"`
	CORSOrigins []string `json:"cors_origins"`
}

type shopPatch struct {
	Name        *string   `json:"name"`
	Locale      *string   `json:"locale"`
	CORSOrigins *[]string `json:"cors_origins"`
	Active      *bool     `json:"active"`
}

type customerCreate struct {
	Email             string `json:"email"`
	Name              string `json:"name"`
	Password          string `json:"password"`
	PasswordHash      string `json:"password_hash"`
	Invite            bool   `json:"invite"`
	Verified          bool   `json:"verified"`
	ID                uint64 `json:"id"`
	AccountID         uint64 `json:"account_id"`
	CustomerReference string `json:"customer_reference"`
	CompanyUserID     string `json:"company_user_id"`
}

type customerPatch struct {
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

type passwordSet struct {
	Password string `json:"password"`
}

type clientSettings struct {
	Shop                   string   `json:"shop"`
	GrantTypes             []string `json:"grant_types"`
	Scopes                 []string `json:"scopes"`
	Audiences              []string `json:"audiences"`
	AccessTokenTTL         int64    `json:"access_token_ttl"`
	RefreshTokenTTL        int64    `json:"refresh_token_ttl"`
	CORSOrigins            []string `json:"cors_origins"`
	TokenProfile           string   `json:"token_profile"`
	AccessTokenAlg         string   `json:"access_token_alg"`
	IDTokenAlg             string   `json:"id_token_alg"`
	FirstParty             bool     `json:"first_party"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
}

func (s clientSettings) core() core.ClientSettings {
	return core.ClientSettings{
		Shop: s.Shop, GrantTypes: s.GrantTypes, Scopes: s.Scopes, Audiences: s.Audiences,
		AccessTokenTTL: seconds(s.AccessTokenTTL), RefreshTokenTTL: seconds(s.RefreshTokenTTL), CORSOrigins: s.CORSOrigins,
		TokenProfile: s.TokenProfile, AccessTokenAlg: s.AccessTokenAlg, IDTokenAlg: s.IDTokenAlg, FirstParty: s.FirstParty,
		RedirectURIs: s.RedirectURIs, PostLogoutRedirectURIs: s.PostLogoutRedirectURIs,
	}
}

// seconds turns a TTL in seconds into a duration; out-of-range values
// become -1 s, which the core refuses.
func seconds(n int64) time.Duration {
	if n < 0 || n > 10*365*24*3600 {
		return -time.Second
	}
	return time.Duration(n) * time.Second
}

type clientCreate struct {
	ID     string `json:"id"`
	Public bool   `json:"public"`
	Secret string `json:"secret"`
	Preset string `json:"preset"`
	clientSettings
}

type keyRotate struct {
	Alg       string `json:"alg"`
	Immediate bool   `json:"immediate"`
}
