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
