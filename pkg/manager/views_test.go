package manager

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/rpc"
)

// The encoded-once provider views must be, byte for byte, what encoding
// the dicts on every call gave.
func TestProviderViewsAreTheEncodedDicts(t *testing.T) {
	e := newEnv(t, envOptions{gate: true})
	for _, p := range e.reg.Providers() {
		want, err := rpc.EncodeJSON(p.Dict())
		require.NoError(t, err)
		got := requireOK(t, e.call(t, "show_provider", memberOf(projectA), map[string]any{"provider_id": p.ID()}))
		require.Equal(t, string(want), string(got))
	}
	gate := gateID
	for name, q := range map[string]providers.ListQuery{
		"all":      {},
		"limit":    {Limit: 1},
		"marker":   {Marker: &gate},
		"filtered": {Filters: map[string]any{"name": "Gate"}},
		"none":     {Filters: map[string]any{"name": "nobody"}},
	} {
		dicts, err := e.reg.List(q)
		require.NoError(t, err, name)
		want, err := rpc.EncodeJSON(dicts)
		require.NoError(t, err, name)
		require.Equal(t, string(want), string(e.m.views.list(dicts)), name)
	}
}
