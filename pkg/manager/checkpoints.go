package manager

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/pkg/python"
	"github.com/gokarbor/karbor-protection/providers"
)

// The synchronous checkpoint RPCs.

type resetStateArgs struct {
	ProviderID   string `json:"provider_id"`
	CheckpointID string `json:"checkpoint_id"`
	State        string `json:"state"`
}

// resetState sets a checkpoint's status: only to available or error
// (checkResetState), only from available, error, copying, wait_copying or
// finished, and only in the caller's project unless admin
// (docs/karbor-behaviour.md#reset_state).
func (m *Manager) resetState(ctx context.Context, rc *karbor.RequestContext, a resetStateArgs) (any, error) {
	if err := checkResetState(a.State); err != nil {
		return nil, err
	}
	p, cp, err := m.accessibleCheckpoint(ctx, rc, a.ProviderID, a.CheckpointID)
	if err != nil {
		return nil, err
	}
	// The bank's state machine decides whether the checkpoint may be reset
	// (CheckpointNotBeReset otherwise).
	if _, err := p.Checkpoints().ResetState(ctx, a.CheckpointID, a.State); err != nil {
		return nil, err
	}
	logctx.From(ctx).WithField("checkpoint_id", a.CheckpointID).Infof("Checkpoint state reset from %s to %s", cp.Status, a.State)
	return nil, nil
}

// showCheckpoint returns a checkpoint's dict, deleted ones included: a
// deletion keeps index.json (docs/karbor-behaviour.md#show_checkpoint).
func (m *Manager) showCheckpoint(ctx context.Context, rc *karbor.RequestContext, a checkpointArgs) (any, error) {
	_, cp, err := m.accessibleCheckpoint(ctx, rc, a.ProviderID, a.CheckpointID)
	if err != nil {
		return nil, err
	}
	return cp.Dict(), nil
}

// accessibleCheckpoint reads a checkpoint the caller may act on
// (readableCheckpoint) and its provider.
func (m *Manager) accessibleCheckpoint(ctx context.Context, rc *karbor.RequestContext, providerID, checkpointID string) (*providers.Provider, *bank.Checkpoint, error) {
	p, err := m.providers.Show(providerID)
	if err != nil {
		return nil, nil, err
	}
	cp, err := readableCheckpoint(ctx, rc, p, checkpointID)
	return p, cp, err
}

type listCheckpointsArgs struct {
	ProviderID string          `json:"provider_id"`
	Marker     *string         `json:"marker" rpc:"optional"`
	Limit      *int            `json:"limit" rpc:"optional"`
	SortKeys   json.RawMessage `json:"sort_keys" rpc:"optional"` // ignored, as in Python
	SortDirs   json.RawMessage `json:"sort_dirs" rpc:"optional"`
	Filters    json.RawMessage `json:"filters" rpc:"optional"`
	AllTenants json.RawMessage `json:"all_tenants" rpc:"optional"`
}

// listCheckpoints lists checkpoint dicts
// (docs/karbor-behaviour.md#list_checkpoints). The filters are read
// as the Python manager reads them, in its order: plan_id, then the dates
// (before the provider is even looked up), then the project scope.
func (m *Manager) listCheckpoints(ctx context.Context, rc *karbor.RequestContext, a listCheckpointsArgs) (any, error) {
	logctx.From(ctx).Infof("Starting list checkpoints. provider_id:%s", a.ProviderID)
	q, err := checkpointQuery(rc, a)
	if err != nil {
		return nil, err
	}
	p, err := m.providers.Show(a.ProviderID)
	if err != nil {
		return nil, err
	}
	cps, err := p.Checkpoints().List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]bank.Dict, len(cps))
	for i, cp := range cps {
		out[i] = cp.Dict()
	}
	return out, nil
}

// checkpointQuery turns list_checkpoints' arguments into a bank query,
// failing as Python fails on each: filters that are not a dict
// (AttributeError … 'get'), dates that strptime refuses (ValueError) or that
// are not strings (TypeError), sort_dirs whose first element does not exist
// (IndexError).
func checkpointQuery(rc *karbor.RequestContext, a listCheckpointsArgs) (bank.ListQuery, error) {
	q := bank.ListQuery{ProviderID: a.ProviderID, ProjectID: rc.ProjectID}
	filters, err := python.Members(a.Filters)
	if err != nil {
		return q, noAttribute(a.Filters, "get")
	}
	if plan := get(filters, "plan_id"); python.TruthJSON(plan) {
		q.PlanID = python.StrJSON(plan)
	}
	if q.StartDate, err = dateFilter(get(filters, "start_date")); err != nil {
		return q, err
	}
	if q.EndDate, err = dateFilter(get(filters, "end_date")); err != nil {
		return q, err
	}
	if q.SortDir, err = firstSortDir(a.SortDirs); err != nil {
		return q, err
	}
	// all_tenants is an admin's: karbor-api drops it for anyone else, and
	// so does the service, whoever sends it.
	q.AllTenants = python.TruthJSON(a.AllTenants) && rc.Admin()
	if project := get(filters, "project_id"); python.TruthJSON(project) {
		q.FilterProjectID = python.StrJSON(project)
	}
	if a.Marker != nil {
		q.Marker = *a.Marker
	}
	if a.Limit != nil && *a.Limit > 0 {
		q.Limit = *a.Limit
	}
	return q, nil
}

// dateFilter is datetime.strptime(value, "%Y-%m-%d") applied to a truthy
// filter value, returned as YYYY-MM-DD ("" for a falsy one).
func dateFilter(raw json.RawMessage) (string, error) {
	if !python.TruthJSON(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", karbor.TypeError(fmt.Sprintf("strptime() argument 1 must be str, not %s", python.TypeNameJSON(raw)))
	}
	t, err := karbor.ParseDate(s)
	if err != nil {
		return "", err
	}
	return t.Format("2006-01-02"), nil
}

// firstSortDir is sort_dirs[0] (None when sort_dirs is None): the first
// element of a list, or the first character of a string, as Python indexes
// them.
func firstSortDir(raw json.RawMessage) (string, error) {
	if isNone(raw) {
		return "", nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err == nil {
		if len(list) == 0 {
			return "", karbor.NewBuiltin("IndexError", "list index out of range")
		}
		var dir string
		_ = json.Unmarshal(list[0], &dir) // a non-string direction is not "desc"
		return dir, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", karbor.NewBuiltin("IndexError", "string index out of range")
		}
		return string([]rune(s)[0]), nil
	}
	return "", karbor.TypeError(fmt.Sprintf("'%s' object is not subscriptable", python.TypeNameJSON(raw)))
}
