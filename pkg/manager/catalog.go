package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/pkg/python"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/protectables"
	"github.com/gokarbor/karbor-protection/rpc"
)

// The RPCs that describe what can be protected and by whom: protectables
// and providers. None of them touches a bank.

type noArgs struct{}

func (m *Manager) listProtectableTypes(ctx context.Context, _ *karbor.RequestContext, _ noArgs) (any, error) {
	logctx.From(ctx).Info("Start to list protectable types.")
	types := m.protectables.Types()
	if types == nil {
		types = []string{}
	}
	return types, nil
}

type protectableTypeArgs struct {
	ProtectableType string `json:"protectable_type"`
}

func (m *Manager) showProtectableType(ctx context.Context, _ *karbor.RequestContext, a protectableTypeArgs) (any, error) {
	logctx.From(ctx).Infof("Start to show protectable type %s", a.ProtectableType)
	return m.protectables.ShowType(a.ProtectableType)
}

type listInstancesArgs struct {
	ProtectableType json.RawMessage         `json:"protectable_type" rpc:"optional"`
	Marker          json.RawMessage         `json:"marker" rpc:"optional"`    // ignored, as in Python
	Limit           json.RawMessage         `json:"limit" rpc:"optional"`     // ignored
	SortKeys        json.RawMessage         `json:"sort_keys" rpc:"optional"` // ignored
	SortDirs        json.RawMessage         `json:"sort_dirs" rpc:"optional"` // ignored
	Filters         json.RawMessage         `json:"filters" rpc:"optional"`   // ignored
	Parameters      protectables.Parameters `json:"parameters" rpc:"optional"`
}

// listProtectableInstances lists every instance of a type as {id, name,
// extra_info}. Its protectable_type defaults to None, which no plugin
// serves: KeyError(None), as any unknown type.
func (m *Manager) listProtectableInstances(ctx context.Context, rc *karbor.RequestContext, a listInstancesArgs) (any, error) {
	t, err := protectableType(a.ProtectableType)
	if err != nil {
		return nil, err
	}
	logctx.From(ctx).Infof("Start to list protectable instances of type: %s", t)
	rs, err := m.protectables.ListInstances(ctx, rc, t, a.Parameters)
	if err != nil {
		logctx.From(ctx).WithError(err).Errorf("List resources of type %s failed", t)
		return nil, err
	}
	out := make([]graph.Instance, len(rs))
	for i, r := range rs {
		out[i] = graph.Instance(r)
	}
	return out, nil
}

// protectableType reads a protectable_type that Python uses as a dict key:
// a string, or else the KeyError its lookup raises.
func protectableType(raw json.RawMessage) (string, error) {
	var t string
	if err := json.Unmarshal(raw, &t); err != nil || isNone(raw) {
		var key any
		_ = json.Unmarshal(raw, &key)
		return "", karbor.KeyError(key)
	}
	return t, nil
}

type showInstanceArgs struct {
	ProtectableType string                  `json:"protectable_type"`
	ProtectableID   string                  `json:"protectable_id"`
	Parameters      protectables.Parameters `json:"parameters" rpc:"optional"`
}

// showProtectableInstance returns {type, id, name, extra_info}, or None when
// the plugin does not know the instance.
func (m *Manager) showProtectableInstance(ctx context.Context, rc *karbor.RequestContext, a showInstanceArgs) (any, error) {
	log := logctx.From(ctx)
	log.Infof("Start to show protectable instance of type: %s", a.ProtectableType)
	r, err := m.protectables.ShowInstance(ctx, rc, a.ProtectableType, a.ProtectableID, a.Parameters)
	if err != nil {
		log.WithError(err).Errorf("Show resources of type %s id %s failed", a.ProtectableType, a.ProtectableID)
		return nil, err
	}
	if r == nil {
		return nil, nil
	}
	return r, nil
}

type dependentsArgs struct {
	ProtectableID   string `json:"protectable_id"`
	ProtectableType string `json:"protectable_type"`
	ProtectableName string `json:"protectable_name"`
}

func (m *Manager) listProtectableDependents(ctx context.Context, rc *karbor.RequestContext, a dependentsArgs) (any, error) {
	logctx.From(ctx).Infof("Start to list dependents of resource (type:%s, id:%s, name:%s)", a.ProtectableType, a.ProtectableID, a.ProtectableName)
	rs, err := m.protectables.Dependents(ctx, rc, graph.Resource{Type: a.ProtectableType, ID: a.ProtectableID, Name: a.ProtectableName})
	if err != nil {
		return nil, err
	}
	if rs == nil {
		rs = []graph.Resource{}
	}
	return rs, nil
}

type showProviderArgs struct {
	ProviderID string `json:"provider_id"`
}

func (m *Manager) showProvider(_ context.Context, _ *karbor.RequestContext, a showProviderArgs) (any, error) {
	p, err := m.providers.Show(a.ProviderID)
	if err != nil {
		return nil, err
	}
	return m.views.byID[p.ID()], nil
}

type listProvidersArgs struct {
	Marker   json.RawMessage `json:"marker" rpc:"optional"`
	Limit    json.RawMessage `json:"limit" rpc:"optional"`
	SortKeys json.RawMessage `json:"sort_keys" rpc:"optional"` // ignored, as in Python
	SortDirs json.RawMessage `json:"sort_dirs" rpc:"optional"` // ignored
	Filters  json.RawMessage `json:"filters" rpc:"optional"`
}

// listProviders lists provider dicts sorted by id. As in Python, a marker
// that is not a known id and a limit that no count can equal are ignored,
// and falsy filters mean none.
func (m *Manager) listProviders(_ context.Context, _ *karbor.RequestContext, a listProvidersArgs) (any, error) {
	q := providers.ListQuery{Limit: providerLimit(a.Limit)}
	if !isNone(a.Marker) {
		var marker string
		if json.Unmarshal(a.Marker, &marker) == nil {
			q.Marker = &marker
		}
	}
	if python.TruthJSON(a.Filters) {
		// Decoded apart from q: a pointer into q would move q to the heap
		// on every call, filters or not.
		var filters map[string]any
		if err := json.Unmarshal(a.Filters, &filters); err != nil {
			return nil, noAttribute(a.Filters, "items")
		}
		q.Filters = filters
	}
	if q.Marker == nil && q.Limit == 0 && len(q.Filters) == 0 {
		return m.views.all, nil
	}
	dicts, err := m.providers.List(q)
	if err != nil {
		return nil, err
	}
	return m.views.list(dicts), nil
}

// providerLimit is the limit Python's "len(result) == limit" can reach: a
// positive integral number (True counts as 1); anything else is no limit.
func providerLimit(raw json.RawMessage) int {
	switch {
	case isNone(raw): // what the API sends; no decoding needed
		return 0
	case string(raw) == "true":
		return 1
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f < 1 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0
	}
	return int(f)
}

// startOrSuspend is start(self, plan) and suspend(self, plan), no-ops
// returning None. oslo calls them as method(ctxt, **kwargs), so the request
// context is bound to plan: no keyword is accepted, and plan itself is
// Python's "multiple values" TypeError (the first keyword decides, as in
// CPython).
func startOrSuspend(name string) rpc.HandlerFunc {
	return func(_ context.Context, call *rpc.Call) (any, error) {
		if _, err := requestContext(call); err != nil {
			return nil, err
		}
		ms, err := python.Members(call.Args)
		if err != nil || len(ms) == 0 {
			return nil, nil
		}
		if ms[0].Key == "plan" {
			return nil, karbor.TypeError(fmt.Sprintf("%s.%s() got multiple values for argument 'plan'", Class, name))
		}
		return nil, karbor.TypeError(fmt.Sprintf("%s.%s() got an unexpected keyword argument '%s'", Class, name, ms[0].Key))
	}
}
