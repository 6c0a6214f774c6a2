package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Target is a running shopauth server and the seeded data the scenarios
// use.
type Target struct {
	// URL is the server's base URL, without a trailing slash.
	URL string
	// Client sends every request; NewClient makes a suitable one.
	Client *http.Client
	// ClientID and ClientSecret are a confidential client allowed the
	// password and refresh_token grants and the offline_access scope.
	ClientID, ClientSecret string
	// Users are verified customers; worker i signs in as Users[i%len].
	Users []User
	// ShopKey is the Users' shop: the shopKey dialect's path names it, and
	// it must be the shop Spryker Glue's /access-tokens signs in to.
	ShopKey string
	// TokenURL and JWKSURL, when set, replace URL + /oauth2/token and
	// URL + /.well-known/jwks.json: another server's, from its discovery
	// document (peer mode).
	TokenURL, JWKSURL string
	// Scope is what sign-ins ask for; empty means offline_access.
	Scope string
}

// User is a customer's sign-in.
type User struct {
	Email, Password string
}

// NewClient returns an HTTP client that keeps one idle connection per
// worker, so a run measures requests, not connection set-up.
func NewClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4 * concurrency,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// Scenario names, as --scenario takes them.
const (
	ScenarioPassword  = "password"
	ScenarioRefresh   = "refresh"
	ScenarioJWKS      = "jwks"
	ScenarioDiscovery = "discovery"
	// ScenarioMixed interleaves refreshes, JWKS and discovery GETs and an
	// occasional sign-in: the load for the resident-memory figure.
	ScenarioMixed = "mixed"
	// ScenarioIntrospect introspects a live JWT access token (RFC 7662).
	ScenarioIntrospect = "introspect"
	// ScenarioSpryker signs in through Spryker Glue's POST /access-tokens.
	ScenarioSpryker = "spryker-login"
	// ScenarioShopKey signs in through the shopKey API's
	// POST /api/v1/{shopKey}/customers/login.
	ScenarioShopKey = "shopkey-login"
)

// Ceiling names: the machine limits Measure runs beside the scenarios.
const (
	CeilingHash = "argon2id-verify"
	CeilingSign = "rs256-sign"
	CeilingHTTP = "net/http-jwks"
)

// Scenarios returns the HTTP scenarios against t, in run order.
func Scenarios(t Target) []Workload {
	return []Workload{
		t.passwordGrant(),
		t.sprykerLogin(),
		t.shopKeyLogin(),
		t.refreshGrant(),
		t.jwks(),
		t.get(ScenarioDiscovery, "/.well-known/openid-configuration"),
		t.introspect(),
		t.mixed(),
	}
}

// sprykerLogin posts a JSON:API access-tokens document, as a Glue
// storefront does; anything but 201 Created is an error.
func (t Target) sprykerLogin() Workload {
	return t.login(ScenarioSpryker, "/access-tokens", "application/vnd.api+json", http.StatusCreated,
		func(u User) any {
			return map[string]any{"data": map[string]any{
				"type": "access-tokens", "attributes": map[string]string{"username": u.Email, "password": u.Password},
			}}
		})
}

// shopKeyLogin posts the shopKey API's JSON login; it answers 202.
func (t Target) shopKeyLogin() Workload {
	return t.login(ScenarioShopKey, "/api/v1/"+url.PathEscape(t.ShopKey)+"/customers/login", "application/json",
		http.StatusAccepted, func(u User) any {
			return map[string]string{"_method": "POST", "email": u.Email, "password": u.Password}
		})
}

// login is a dialect's sign-in: worker i posts body(its user) to path and
// counts any status but want as an error. Each sign-in costs one password
// verification, so it is held against the hash ceiling.
func (t Target) login(name, path, contentType string, want int, body func(User) any) Workload {
	return Workload{Name: name, Kind: KindScenario, Ceiling: CeilingHash,
		Worker: func(_ context.Context, i int) (Op, error) {
			b, err := json.Marshal(body(t.user(i)))
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context) (int, error) {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL+path, bytes.NewReader(b))
				if err != nil {
					return 0, err
				}
				req.Header.Set("Content-Type", contentType)
				status, err := send(t.Client, req, nil)
				if err == nil && status < 400 && status != want {
					err = fmt.Errorf("%s: status %d, want %d", name, status, want)
				}
				return status, err
			}, nil
		}}
}

// introspect asks about the worker's own live access token as the
// confidential client (RFC 7662 §2.1); an inactive answer is an error.
// There is no ceiling: the target is an absolute rate.
func (t Target) introspect() Workload {
	return Workload{Name: ScenarioIntrospect, Kind: KindScenario, Worker: func(ctx context.Context, i int) (Op, error) {
		tok, err := t.signIn(ctx, t.passwordForm(t.user(i)))
		if err != nil {
			return nil, fmt.Errorf("sign in %s: %w", t.user(i).Email, err)
		}
		form := []byte(url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}.Encode())
		return func(ctx context.Context) (int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL+"/oauth2/introspect", bytes.NewReader(form))
			if err != nil {
				return 0, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(t.ClientID), url.QueryEscape(t.ClientSecret))
			var out struct {
				Active bool `json:"active"`
			}
			status, err := send(t.Client, req, &out)
			if err == nil && status == http.StatusOK && !out.Active {
				err = errors.New("introspection: token inactive")
			}
			return status, err
		}, nil
	}}
}

// mixed gives each worker a refresh chain and cycles through refresh,
// JWKS, refresh, discovery, with a password grant every 128th op: a
// storefront refreshes and fetches keys far more often than it signs in,
// and at 256 workers a sign-in every 32nd op asks more hashes than two
// cores busy signing can give (the pool answers 503 with Retry-After).
func (t Target) mixed() Workload {
	refresh, jwks, discovery, password := t.refreshGrant(), t.get("", "/.well-known/jwks.json"),
		t.get("", "/.well-known/openid-configuration"), t.passwordGrant()
	return Workload{Name: ScenarioMixed, Kind: KindScenario, Worker: func(ctx context.Context, i int) (Op, error) {
		var ops [4]Op
		var err error
		for j, w := range []Workload{refresh, jwks, discovery, password} {
			if ops[j], err = w.Worker(ctx, i); err != nil {
				return nil, err
			}
		}
		cycle := []Op{ops[0], ops[1], ops[0], ops[2]}
		n := i // workers start at different points of the cycle
		return func(ctx context.Context) (int, error) {
			n++
			if n%128 == 0 {
				return ops[3](ctx)
			}
			return cycle[n%len(cycle)](ctx)
		}, nil
	}}
}

// Get returns a workload that GETs url: the bare net/http ceiling uses it
// with the scenarios' client.
func Get(name, kind, url string, client *http.Client) Workload {
	return Workload{Name: name, Kind: kind, Worker: func(context.Context, int) (Op, error) {
		return func(ctx context.Context) (int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return 0, err
			}
			return send(client, req, nil)
		}, nil
	}}
}

// jwks GETs the key set.
func (t Target) jwks() Workload {
	if t.JWKSURL == "" {
		return t.get(ScenarioJWKS, "/.well-known/jwks.json")
	}
	w := Get(ScenarioJWKS, KindScenario, t.JWKSURL, t.Client)
	w.Ceiling = CeilingHTTP
	return w
}

func (t Target) get(name, path string) Workload {
	w := Get(name, KindScenario, t.URL+path, t.Client)
	w.Ceiling = CeilingHTTP
	return w
}

func (t Target) user(i int) User { return t.Users[i%len(t.Users)] }

// passwordGrant signs in again and again (RFC 6749 §4.3), asking for a
// refresh token as a storefront does.
func (t Target) passwordGrant() Workload {
	return Workload{Name: ScenarioPassword, Kind: KindScenario, Ceiling: CeilingHash,
		Worker: func(_ context.Context, i int) (Op, error) {
			body := t.passwordForm(t.user(i))
			return func(ctx context.Context) (int, error) {
				return t.token(ctx, body, nil)
			}, nil
		}}
}

// refreshGrant follows one rotation chain per worker (RFC 6749 §6): each
// response's refresh token is the next request's. A broken chain (an
// error) is restarted with a sign-in, which the next op pays for.
func (t Target) refreshGrant() Workload {
	return Workload{Name: ScenarioRefresh, Kind: KindScenario, Ceiling: CeilingSign,
		Worker: func(ctx context.Context, i int) (Op, error) {
			login := t.passwordForm(t.user(i))
			tok, err := t.signIn(ctx, login)
			if err != nil {
				return nil, fmt.Errorf("sign in %s: %w", t.user(i).Email, err)
			}
			refresh := tok.RefreshToken
			return func(ctx context.Context) (int, error) {
				if refresh == "" {
					var tok tokenResponse
					if _, err := t.token(ctx, login, &tok); err != nil {
						return 0, err
					}
					refresh = tok.RefreshToken
				}
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
				var next tokenResponse
				status, err := t.token(ctx, []byte(form.Encode()), &next)
				refresh = next.RefreshToken
				return status, err
			}, nil
		}}
}

// signIn starts a refresh chain. All workers sign in at once, more than
// the hashing pool admits: a 503 is waited out, as a client would.
func (t Target) signIn(ctx context.Context, login []byte) (tokenResponse, error) {
	for attempt := 0; ; attempt++ {
		var tok tokenResponse
		status, err := t.token(ctx, login, &tok)
		switch {
		case err != nil:
			return tokenResponse{}, err
		case status == http.StatusOK && tok.RefreshToken != "":
			return tok, nil
		case status != http.StatusServiceUnavailable || attempt == 20:
			return tokenResponse{}, fmt.Errorf("status %d", status)
		}
		select {
		case <-ctx.Done():
			return tokenResponse{}, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
}

func (t Target) passwordForm(u User) []byte {
	return []byte(url.Values{
		"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}, "scope": {t.scope()},
	}.Encode())
}

func (t Target) scope() string {
	if t.Scope == "" {
		return "offline_access"
	}
	return t.Scope
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// token posts a form to the token endpoint as the confidential client
// (client_secret_basic, RFC 6749 §2.3.1).
func (t Target) token(ctx context.Context, form []byte, into *tokenResponse) (int, error) {
	endpoint := t.TokenURL
	if endpoint == "" {
		endpoint = t.URL + "/oauth2/token"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(form))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(t.ClientID), url.QueryEscape(t.ClientSecret))
	if into == nil {
		return send(t.Client, req, nil)
	}
	return send(t.Client, req, into)
}

// send does req and reads the whole body, so the connection is reused; a
// 200 body is decoded into into when it is not nil.
func send(c *http.Client, req *http.Request, into any) (int, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if into == nil || resp.StatusCode != http.StatusOK {
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return resp.StatusCode, fmt.Errorf("decode response: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

var errNoUsers = errors.New("bench: the target has no users")

// Validate reports what is missing from t.
func (t Target) Validate() error {
	if t.URL == "" || t.Client == nil || t.ClientID == "" {
		return errors.New("bench: target URL, HTTP client and client id are required")
	}
	if len(t.Users) == 0 {
		return errNoUsers
	}
	return nil
}

// ServerRSS reads the server's resident memory in MiB from its Prometheus
// metrics (process_resident_memory_bytes); 0 when it cannot.
func (t Target) ServerRSS(ctx context.Context) float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+"/metrics", nil)
	if err != nil {
		return 0
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			bytes, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0
			}
			return math.Round(bytes/(1<<20)*10) / 10
		}
	}
	return 0
}
