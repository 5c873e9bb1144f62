package manager

import (
	"fmt"

	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/rpc"
)

// providerViews are the providers' dicts as show_provider and
// list_providers return them, encoded once: a provider does not change
// while the service runs, and the karbor API asks for them on every
// dashboard refresh, where encoding each provider's schemas again would be
// most of the call's work.
type providerViews struct {
	byID map[string]rpc.Encoded
	// all is every provider in list order (an rpc.Encoded): what the API's
	// plain listing (no marker, filters or limit) gets on every refresh,
	// already in the interface a handler returns.
	all any
}

func encodeProviderViews(reg *providers.Registry) (providerViews, error) {
	views := providerViews{byID: map[string]rpc.Encoded{}}
	for _, p := range reg.Providers() {
		raw, err := rpc.EncodeJSON(p.Dict())
		if err != nil {
			return providerViews{}, fmt.Errorf("manager: encode provider %s: %w", p.ID(), err)
		}
		views.byID[p.ID()] = raw
	}
	dicts, err := reg.List(providers.ListQuery{})
	if err != nil {
		return providerViews{}, fmt.Errorf("manager: list providers: %w", err)
	}
	views.all = views.list(dicts)
	return views, nil
}

// list is the JSON array of the given providers' views, byte for byte what
// encoding the dicts would give.
func (v providerViews) list(dicts []providers.Dict) rpc.Encoded {
	size := 2
	for _, d := range dicts {
		size += len(v.byID[d.ID]) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, '[')
	for i, d := range dicts {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, v.byID[d.ID]...)
	}
	return append(out, ']')
}
