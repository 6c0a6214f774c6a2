package grants

import (
	"strings"
	"time"

	"github.com/shopauth/shopauth/server/clients"
	"github.com/shopauth/shopauth/storage"
)

// RefreshPolicy is how refresh tokens live and die (RFC 6749 §6, RFC 9700
// §4.14.2): every refresh spends the token and issues a successor in the
// same family; a spent token presented again within ReuseGrace is a
// client's retry and gets the same successor, later it is theft and the
// family is revoked. Operators tune it (SHOPAUTH_REFRESH_*).
type RefreshPolicy struct {
	// TTL is a family's absolute lifetime from its login; a client's own
	// RefreshTokenTTL overrides it. No successor outlives it.
	TTL time.Duration
	// IdleTTL ends a family that went unused this long; 0: never.
	IdleTTL time.Duration
	// ReuseGrace is how long after a spend the spent token still gets its
	// successor (a client that lost the answer retries); 0: any reuse is
	// theft.
	ReuseGrace time.Duration
}

// Verdict is what the policy says about a presented refresh token.
type Verdict int

// Verdicts.
const (
	// Rotate: the token is live; spend it and issue its successor.
	Rotate Verdict = iota + 1
	// Refuse: revoked, or issued to another client (RFC 6749 §10.4:
	// invalid_grant without saying whose it is).
	Refuse
	// Expired: past its expiry, absolute or idle.
	Expired
	// Retry: spent within the reuse grace; answer with its successor.
	Retry
	// Reuse: spent before the grace: revoke the family.
	Reuse
)

// Judge decides what to do with row, presented by clientID at now.
func (p RefreshPolicy) Judge(row storage.RefreshToken, clientID string, now time.Time) Verdict {
	switch {
	case row.ClientID != clientID || row.RevokedAt != nil:
		return Refuse
	case row.SpentAt != nil && p.withinGrace(*row.SpentAt, now):
		return Retry
	case row.SpentAt != nil:
		return Reuse
	case p.Expired(row, now):
		return Expired
	}
	return Rotate
}

// withinGrace reports whether a token spent at spentAt may still be
// retried at now; the edge itself is inside.
func (p RefreshPolicy) withinGrace(spentAt, now time.Time) bool {
	return p.ReuseGrace > 0 && now.Sub(spentAt) <= p.ReuseGrace
}

// Expired reports whether row can no longer be used at now: past its
// expiry (which carries the idle deadline of rows made by Row), or idle
// longer than IdleTTL (rows stored before the idle TTL was turned on).
func (p RefreshPolicy) Expired(row storage.RefreshToken, now time.Time) bool {
	return !now.Before(row.ExpiresAt) || (p.IdleTTL > 0 && now.Sub(row.IssuedAt) > p.IdleTTL)
}

// NarrowScope returns the scope of a refreshed access token: the granted
// one, or a subset of it; never more (RFC 6749 §6). ok is false for a
// request outside the grant.
func (p RefreshPolicy) NarrowScope(requested, granted string) (scope string, ok bool) {
	if strings.TrimSpace(requested) == "" {
		return granted, true
	}
	narrowed, ok := clients.SubsetOf(requested, strings.Fields(granted))
	if !ok {
		return "", false
	}
	return strings.Join(narrowed, " "), true
}

// Family is what every token of one refresh family shares: one login of
// one customer at one client.
type Family struct {
	ID         string
	ClientID   string
	CustomerID uint64
	ShopKey    string
	Scope      string
	AuthTime   time.Time
	// End is the family's absolute end.
	End time.Time
	// SessionHash is the browser session whose authorization code started
	// the family (RP-initiated logout ends it); empty for other grants.
	SessionHash string
}

// NewFamily describes the family a login at client starts at now.
func (p RefreshPolicy) NewFamily(id string, client *clients.Info, customer storage.Customer, scope string, authTime, now time.Time) Family {
	return Family{
		ID: id, ClientID: client.ID, CustomerID: customer.ID, ShopKey: customer.ShopKey, Scope: scope,
		AuthTime: authTime, End: now.Add(client.RefreshTTL(p.TTL)),
	}
}

// FamilyOf is the family row belongs to.
func FamilyOf(row storage.RefreshToken) Family {
	return Family{
		ID: row.FamilyID, ClientID: row.ClientID, CustomerID: row.CustomerID, ShopKey: row.ShopKey,
		Scope: row.Scope, AuthTime: row.AuthTime, End: row.FamilyExpiresAt, SessionHash: row.SessionHash,
	}
}

// Row is the stored form of a token of f with hash tokenHash issued at
// now: the one place refresh-token rows are made. It expires at the
// family's end, or sooner when an idle TTL is set, so that the atomic
// spend (expires_at > now) enforces idleness and the sweeper can delete
// the row.
func (p RefreshPolicy) Row(f Family, tokenHash string, now time.Time) storage.RefreshToken {
	expires := f.End
	if p.IdleTTL > 0 && now.Add(p.IdleTTL).Before(f.End) {
		expires = now.Add(p.IdleTTL)
	}
	return storage.RefreshToken{
		TokenHash: tokenHash, FamilyID: f.ID, ClientID: f.ClientID, CustomerID: f.CustomerID,
		ShopKey: f.ShopKey, Scope: f.Scope, AuthTime: f.AuthTime,
		IssuedAt: now, ExpiresAt: expires, FamilyExpiresAt: f.End, SessionHash: f.SessionHash,
	}
}
