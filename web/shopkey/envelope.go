package shopkey

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/shopauth/shopauth/server"
	"github.com/shopauth/shopauth/server/carts"
	"github.com/shopauth/shopauth/storage"
)

// envelope is every answer of the dialect, keys in the spec's order. It is
// a struct, never a map: encoding/json sorts map keys, and the order is
// part of the contract.
type envelope struct {
	Data    any    `json:"data"`
	Locale  string `json:"locale"`
	Message string `json:"message"`
	Status  int    `json:"status"`
	Success bool   `json:"success"`
}

// loginEnvelope is the login's answer, which starts with the legacy
// `authenticated` field (always 0, docs/shopkey.md).
type loginEnvelope struct {
	Authenticated int `json:"authenticated"`
	envelope
}

// emptyData is the `data` of answers that carry nothing: `[]`, as PHP
// encodes an empty array.
var emptyData = json.RawMessage("[]")

type errorsData struct {
	Errors fieldErrors `json:"errors"`
}

type loginData struct {
	Cart     json.RawMessage `json:"cart"`
	Customer customerJSON    `json:"customer"`
	Token    tokenJSON       `json:"token"`
}

type customerData struct {
	Customer customerJSON `json:"customer"`
}

type tokenData struct {
	Token tokenJSON `json:"token"`
}

type customerJSON struct {
	CustomerID uint64 `json:"customer_id"`
	AccountID  uint64 `json:"account_id"`
	Email      string `json:"email"`
	Name       string `json:"name"`
}

// tokenJSON is the token object: lowercase `bearer`, no refresh token.
type tokenJSON struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

func customerOf(c storage.Customer) customerJSON {
	return customerJSON{CustomerID: c.ID, AccountID: c.AccountID, Email: c.Email, Name: c.Name}
}

func tokenOf(r *server.TokenResponse) tokenJSON {
	return tokenJSON{AccessToken: r.AccessToken, ExpiresIn: r.ExpiresIn, TokenType: "bearer"}
}

// emptyCartInfo is the legacy API's note on a cart without lines.
const emptyCartInfo = "NOTE: This cart is empty!"

// cartJSON is the spec's cart object.
type cartJSON struct {
	ID            uint64         `json:"id"`
	Notes         *string        `json:"notes"`
	Total         money          `json:"total"`
	TotalIVA      money          `json:"total_IVA"`
	TotalRE       money          `json:"total_RE"`
	TotalDiscount money          `json:"total_discount"`
	TotalOriginal money          `json:"total_original"`
	TotalShipping money          `json:"total_shipping"`
	TotalTaxes    money          `json:"total_taxes"`
	TotalTotal    money          `json:"total_total"`
	Info          *string        `json:"info"`
	Lines         []cartLineJSON `json:"lines"`
}

type cartLineJSON struct {
	ID       uint64 `json:"id"`
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Quantity int64  `json:"quantity"`
	Price    money  `json:"price"`
	Total    money  `json:"total"`
}

// cartDocument renders the customer's cart for `data.cart`: null for none,
// a commerce back end's document as it came, a stored cart in the spec's
// shape.
func cartDocument(c *carts.Cart) (json.RawMessage, error) {
	switch {
	case c == nil:
		return json.RawMessage("null"), nil
	case c.Stored == nil:
		return c.Document, nil
	}
	s := c.Stored
	doc := cartJSON{
		ID: s.ID, Notes: s.Notes,
		Total: money(s.Total), TotalIVA: money(s.TotalIVA), TotalRE: money(s.TotalRE),
		TotalDiscount: money(s.TotalDiscount), TotalOriginal: money(s.TotalOriginal),
		TotalShipping: money(s.TotalShipping), TotalTaxes: money(s.TotalTaxes), TotalTotal: money(s.TotalTotal),
		Lines: make([]cartLineJSON, 0, len(s.Lines)),
	}
	if len(s.Lines) == 0 {
		info := emptyCartInfo
		doc.Info = &info
	}
	for _, l := range s.Lines {
		doc.Lines = append(doc.Lines, cartLineJSON{
			ID: l.ID, SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, Price: money(l.UnitPrice), Total: money(l.Total),
		})
	}
	return json.Marshal(doc)
}

// money is an amount in minor units (cents), written as an exact decimal
// number of major units: 0, 12.5, -3.99. No float is involved.
type money int64

func (m money) MarshalJSON() ([]byte, error) {
	v := int64(m)
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u/100, 10)
	if cents := u % 100; cents != 0 {
		frac := strconv.FormatUint(cents+100, 10)[1:] // two digits
		if frac[1] == '0' {
			frac = frac[:1]
		}
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	return []byte(s), nil
}

// writeEnvelope writes v with status; the HTTP status is the body's. The
// answers carry tokens and customer data: never cached (RFC 6749 §5.1).
func writeEnvelope(c *gin.Context, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.Data(status, "application/json; charset=utf-8", body)
}

// reply writes an envelope with message m in locale.
func reply(c *gin.Context, locale string, status int, m message, data any) {
	if data == nil {
		data = emptyData
	}
	writeEnvelope(c, status, envelope{
		Data: data, Locale: locale, Message: text(locale, m), Status: status, Success: status < 300,
	})
}
