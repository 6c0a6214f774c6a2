package tokens

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/shopauth/shopauth/storage"
)

// rsaSigner signs with one RSA-2048 key through a signer built once, as
// keys.Manager does.
type rsaSigner struct{ signer jose.Signer }

func newRSASigner(b *testing.B) *rsaSigner {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "bench"}},
		(&jose.SignerOptions{}).WithType(TypeAccessToken))
	if err != nil {
		b.Fatal(err)
	}
	return &rsaSigner{signer: s}
}

func (s *rsaSigner) Sign(payload []byte, _ string) (string, error) {
	obj, err := s.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (s *rsaSigner) SignWith(_ string, payload []byte, typ string) (string, error) {
	return s.Sign(payload, typ)
}

// nopSigner isolates the minter's own work: claims, JSON, extensions.
type nopSigner struct{}

func (nopSigner) Sign(payload []byte, _ string) (string, error) { return string(payload), nil }

func (nopSigner) SignWith(_ string, payload []byte, _ string) (string, error) {
	return string(payload), nil
}

// BenchmarkMintAccessToken mints the access token of a refresh grant.
// "claims" is everything but the signature; "rs256" adds it, which is the
// whole cost of a token that a ceiling can compare against.
func BenchmarkMintAccessToken(b *testing.B) {
	client := storage.Client{ID: "storefront", ShopKey: "acme12aa", Scopes: []string{"offline_access"}}
	now := time.Now()
	for _, bc := range []struct {
		name   string
		signer Signer
	}{{"claims", nopSigner{}}, {"rs256", newRSASigner(b)}} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := NewMinter(MinterConfig{Issuer: "https://auth.example.com", Signer: bc.signer, AccessTTL: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			customer := storage.Customer{ID: 21, ShopKey: "acme12aa", CustomerReference: "DE--21"}
			for b.Loop() {
				tok, err := m.Mint(context.Background(), Grant{
					Client: client, Customer: &customer, Scope: "offline_access", AuthTime: now, IssuedAt: now,
				})
				if err != nil || tok.AccessToken == "" {
					b.Fatal(err)
				}
			}
		})
	}
}
