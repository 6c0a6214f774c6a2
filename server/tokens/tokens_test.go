package tokens

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRefreshSuccessorIsDeterministicAndKeyed(t *testing.T) {
	a, err := NewRefreshSecrets(make([]byte, 32))
	require.NoError(t, err)
	key := make([]byte, 32)
	key[0] = 1
	b, err := NewRefreshSecrets(key)
	require.NoError(t, err)

	first, err := a.New()
	require.NoError(t, err)
	second, err := a.New()
	require.NoError(t, err)
	require.NotEqual(t, first, second)
	require.Len(t, first, 43)

	require.Equal(t, a.Successor(first), a.Successor(first), "a retry must get the same successor")
	require.NotEqual(t, a.Successor(first), a.Successor(second))
	require.NotEqual(t, a.Successor(first), b.Successor(first), "successors depend on the key")
	require.NotEqual(t, first, a.Successor(first))

	_, err = NewRefreshSecrets(make([]byte, 16))
	require.Error(t, err)
	require.Regexp(t, `^[0-9a-f]{64}$`, HashToken(first))
}

func TestAudienceJSON(t *testing.T) {
	one, err := json.Marshal(Audience{"storefront"})
	require.NoError(t, err)
	require.JSONEq(t, `"storefront"`, string(one))
	two, err := json.Marshal(Audience{"a", "b"})
	require.NoError(t, err)
	require.JSONEq(t, `["a","b"]`, string(two))

	var got Audience
	require.NoError(t, json.Unmarshal([]byte(`"x"`), &got))
	require.Equal(t, Audience{"x"}, got)
	require.NoError(t, json.Unmarshal([]byte(`["x","y"]`), &got))
	require.True(t, got.Contains("y"))
	require.Error(t, json.Unmarshal([]byte(`3`), &got))
}

func TestCustomerIDOfBothProfiles(t *testing.T) {
	id, ok := AccessClaims{Subject: "21"}.CustomerID()
	require.True(t, ok)
	require.Equal(t, uint64(21), id)
	id, ok = AccessClaims{Subject: `{"id_company_user":null,"id_agent":null,"customer_reference":"DE--21","id_customer":21}`}.CustomerID()
	require.True(t, ok)
	require.Equal(t, uint64(21), id)
	_, ok = AccessClaims{Subject: "storefront"}.CustomerID()
	require.False(t, ok)
}

// TestSealOpensOnlyWithThePredecessor: any replica opens a successor's seal
// with the token it replaced, whatever its own key; nothing else opens it,
// and a seal moved to another row does not open there.
func TestSealOpensOnlyWithThePredecessor(t *testing.T) {
	a, err := NewRefreshSecrets(make([]byte, 32))
	require.NoError(t, err)
	other := make([]byte, 32)
	other[0] = 1
	b, err := NewRefreshSecrets(other)
	require.NoError(t, err)
	old, err := a.New()
	require.NoError(t, err)
	next := a.Successor(old)
	seal, err := a.Seal(old, next)
	require.NoError(t, err)
	require.NotContains(t, string(seal), next, "the successor is not stored readable")

	got, err := b.Open(old, seal, HashToken(next))
	require.NoError(t, err, "another replica's key does not matter")
	require.Equal(t, next, got)

	stranger, err := a.New()
	require.NoError(t, err)
	_, err = a.Open(stranger, seal, HashToken(next))
	require.ErrorIs(t, err, ErrSealMismatch, "another token does not open it")
	_, err = a.Open(old, seal, HashToken(stranger))
	require.ErrorIs(t, err, ErrSealMismatch, "bound to its row's hash")
	_, err = a.Open(old, seal[:5], HashToken(next))
	require.ErrorIs(t, err, ErrSealMismatch)
	again, err := a.Seal(old, next)
	require.NoError(t, err)
	require.NotEqual(t, seal, again, "a fresh nonce each time")
}
