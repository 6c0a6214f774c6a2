package admin

import (
	"context"
	"errors"
	"strconv"

	"github.com/shopauth/shopauth/keys"
	"github.com/shopauth/shopauth/storage"
)

// ListConsents lists a customer's consents.
func (s *Service) ListConsents(ctx context.Context, actor Actor, shop string, customerID uint64) ([]storage.Consent, error) {
	if _, err := s.GetCustomer(ctx, actor, shop, customerID); err != nil {
		return nil, err
	}
	return s.cfg.Store.ListConsents(ctx, customerID)
}

// RevokeConsent forgets a customer's consent to a client: the consent
// page asks again next time.
func (s *Service) RevokeConsent(ctx context.Context, actor Actor, shop string, customerID uint64, clientID string) error {
	if _, err := s.GetCustomer(ctx, actor, shop, customerID); err != nil {
		return err
	}
	a := s.entry(actor, "consent.revoke", "consent", strconv.FormatUint(customerID, 10)+"/"+clientID, shop)
	if err := s.cfg.Store.RevokeConsentAudited(ctx, customerID, clientID, a); err != nil {
		return notFound(err, "consent")
	}
	s.logged(ctx, a)
	return nil
}

// ListKeys lists the signing keys (actors of every shop only: keys sign
// for every shop).
func (s *Service) ListKeys(_ context.Context, actor Actor) ([]keys.KeyInfo, error) {
	if err := s.keysAllowed(actor); err != nil {
		return nil, err
	}
	return s.cfg.Keys.List(), nil
}

// RotateKey publishes the next signing key of alg ("" RS256): it signs
// after the publish-ahead time, or at once when immediate.
func (s *Service) RotateKey(ctx context.Context, actor Actor, alg string, immediate bool) (keys.KeyInfo, error) {
	if err := s.keysAllowed(actor); err != nil {
		return keys.KeyInfo{}, err
	}
	if alg == "" {
		alg = keys.DefaultAlgorithm
	}
	if !keys.IsAlgorithm(alg) {
		return keys.KeyInfo{}, invalid("alg", "%q is unsupported", alg)
	}
	k, err := s.cfg.Keys.Rotate(ctx, alg, immediate)
	if errors.Is(err, keys.ErrNextKeyExists) {
		return keys.KeyInfo{}, &Error{Kind: Conflict, Message: "a next key is published already (rotate with immediate to replace the current one at once)"}
	}
	if err != nil {
		return keys.KeyInfo{}, err
	}
	// The key is written by the key manager; its entry follows it.
	a := s.entry(actor, "key.rotate", "key", k.KID, "")
	if err := s.cfg.Store.RecordAudit(ctx, a); err != nil {
		return keys.KeyInfo{}, err
	}
	s.logged(ctx, a)
	return k, nil
}

func (s *Service) keysAllowed(actor Actor) error {
	if !actor.allShops() {
		return refuse(Forbidden, "signing keys serve every shop: a shop-bound admin client cannot manage them")
	}
	if s.cfg.Keys == nil {
		return refuse(Unsupported, "signing keys are not served here")
	}
	return nil
}

// AuditPage is a page of the audit trail; Next is the cursor of the next
// page, 0 when this one is the last.
type AuditPage struct {
	Entries []storage.AuditEntry
	Next    uint64
}

// ListAudit returns the entries after the cursor: a shop-bound actor
// only its shop's.
func (s *Service) ListAudit(ctx context.Context, actor Actor, shop string, after uint64, limit int) (AuditPage, error) {
	n, err := pageSize(limit)
	if err != nil {
		return AuditPage{}, err
	}
	if !actor.allShops() {
		if shop != "" && shop != actor.Shop {
			return AuditPage{}, refuse(NotFound, "shop not found")
		}
		shop = actor.Shop
	}
	list, err := s.cfg.Store.ListAudit(ctx, shop, after, n+1)
	if err != nil {
		return AuditPage{}, err
	}
	page := AuditPage{Entries: list}
	if len(list) > n {
		page.Entries = list[:n]
		page.Next = list[n-1].ID
	}
	return page, nil
}
