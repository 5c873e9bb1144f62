package karbor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// Parameters are the operation parameters of a plan, restore or
// verification: resource type, or "<type>#<id>", → name → value. Values are
// always strings (the Python side coerces them with str()). A nil inner map
// stands for JSON null.
type Parameters map[string]map[string]string

// For returns the parameters a protection plugin gets for one resource, as
// the Python flows build them: those of its type, overridden by those of
// "<type>#<id>".
func (p Parameters) For(resourceType, resourceID string) map[string]string {
	out := map[string]string{}
	maps.Copy(out, p[resourceType])
	maps.Copy(out, p[resourceType+"#"+resourceID])
	return out
}

// Persistent are the fields every persistent karbor object carries.
type Persistent struct {
	CreatedAt *time.Time
	UpdatedAt *time.Time
	DeletedAt *time.Time
	Deleted   bool
}

func (p *Persistent) read(r *fieldReader) {
	p.CreatedAt = r.datetime("created_at")
	p.UpdatedAt = r.datetime("updated_at")
	p.DeletedAt = r.datetime("deleted_at")
	p.Deleted = r.boolean("deleted")
}

// PlanResource is one resource of a plan: its extra_info is the JSON text the
// API stored (or nil for null). Keys other than the four usual ones, which
// the API does not send, are kept in Extra so that nothing is lost.
type PlanResource struct {
	ID        string
	Type      string
	Name      string
	ExtraInfo *string
	Extra     map[string]*string
}

// MarshalJSON keeps the key order of the Python service's resource dicts
// (and so of index.json): id, type, name, extra_info, then any other keys,
// sorted.
func (r PlanResource) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	write := func(k string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
		return nil
	}
	for _, kv := range []struct {
		k string
		v any
	}{{"id", r.ID}, {"type", r.Type}, {"name", r.Name}, {"extra_info", r.ExtraInfo}} {
		if err := write(kv.k, kv.v); err != nil {
			return nil, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Extra)) {
		if err := write(k, r.Extra[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Plan is karbor's Plan object as the API sends it to protect and copy.
type Plan struct {
	ID          string
	Name        string
	Description string
	ProviderID  string
	ProjectID   string
	Status      string
	Resources   []PlanResource
	Parameters  Parameters
	Persistent
	Changes []string
}

// DecodePlan decodes a Plan primitive.
func DecodePlan(raw json.RawMessage) (*Plan, error) {
	p, err := DecodePrimitive(raw, "Plan")
	if err != nil {
		return nil, err
	}
	r := &fieldReader{object: "Plan", data: p.Data}
	plan := &Plan{
		ID:          r.str("id", false),
		Name:        r.str("name", false),
		Description: r.str("description", true),
		ProviderID:  r.str("provider_id", false),
		ProjectID:   r.str("project_id", false),
		Status:      r.str("status", true),
		Resources:   r.resources("resources"),
		Parameters:  r.parameters("parameters", false),
		Changes:     p.Changes,
	}
	plan.Persistent.read(r)
	if r.err != nil {
		return nil, r.err
	}
	return plan, nil
}

// resources reads a ListOfDictOfNullableStringsField of plan resources.
func (r *fieldReader) resources(field string) []PlanResource {
	v, ok := r.data[field]
	if !ok {
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		if v == nil {
			r.fail(field, errNull)
		} else {
			r.fail(field, fmt.Errorf("a list is required, not a %s", python.TypeName(v)))
		}
		return nil
	}
	out := make([]PlanResource, 0, len(list))
	for i, item := range list {
		res, err := planResource(item)
		if err != nil {
			r.fail(fmt.Sprintf("%s[%d]", field, i), err)
			return nil
		}
		out = append(out, res)
	}
	return out
}

// planResource takes one resource dict. id, type and name must be set: a
// plan resource without them cannot be protected.
func planResource(item any) (PlanResource, error) {
	m, err := stringDict(item, true)
	if err != nil {
		return PlanResource{}, err
	}
	var res PlanResource
	for _, k := range []struct {
		name string
		into *string
	}{{"id", &res.ID}, {"type", &res.Type}, {"name", &res.Name}} {
		v, ok := m[k.name]
		if !ok || v == nil {
			return PlanResource{}, fmt.Errorf("%q is missing or null", k.name)
		}
		*k.into = *v
	}
	res.ExtraInfo = m["extra_info"]
	for k, v := range m {
		switch k {
		case "id", "type", "name", "extra_info":
		default:
			if res.Extra == nil {
				res.Extra = map[string]*string{}
			}
			res.Extra[k] = v
		}
	}
	return res, nil
}

// Restore is karbor's Restore object as the API sends it to restore.
type Restore struct {
	ID              string
	ProjectID       string
	ProviderID      string
	CheckpointID    string
	RestoreTarget   string
	Parameters      Parameters
	Status          string
	ResourcesStatus map[string]string
	ResourcesReason map[string]string
	Persistent
	Changes []string
}

// DecodeRestore decodes a Restore primitive.
func DecodeRestore(raw json.RawMessage) (*Restore, error) {
	p, err := DecodePrimitive(raw, "Restore")
	if err != nil {
		return nil, err
	}
	r := &fieldReader{object: "Restore", data: p.Data}
	res := &Restore{
		ID:              r.str("id", false),
		ProjectID:       r.str("project_id", false),
		ProviderID:      r.str("provider_id", false),
		CheckpointID:    r.str("checkpoint_id", false),
		RestoreTarget:   r.str("restore_target", true),
		Parameters:      r.parameters("parameters", true),
		Status:          r.str("status", true),
		ResourcesStatus: r.dictOfStrings("resources_status", true),
		ResourcesReason: r.dictOfStrings("resources_reason", true),
		Changes:         p.Changes,
	}
	res.Persistent.read(r)
	if r.err != nil {
		return nil, r.err
	}
	return res, nil
}

// Verification is karbor's Verification object as the API sends it to
// verification.
type Verification struct {
	ID              string
	ProjectID       string
	ProviderID      string
	CheckpointID    string
	Parameters      Parameters
	Status          string
	ResourcesStatus map[string]string
	ResourcesReason map[string]string
	Persistent
	Changes []string
}

// DecodeVerification decodes a Verification primitive.
func DecodeVerification(raw json.RawMessage) (*Verification, error) {
	p, err := DecodePrimitive(raw, "Verification")
	if err != nil {
		return nil, err
	}
	r := &fieldReader{object: "Verification", data: p.Data}
	v := &Verification{
		ID:              r.str("id", false),
		ProjectID:       r.str("project_id", false),
		ProviderID:      r.str("provider_id", false),
		CheckpointID:    r.str("checkpoint_id", false),
		Parameters:      r.parameters("parameters", true),
		Status:          r.str("status", true),
		ResourcesStatus: r.dictOfStrings("resources_status", true),
		ResourcesReason: r.dictOfStrings("resources_reason", true),
		Changes:         p.Changes,
	}
	v.Persistent.read(r)
	if r.err != nil {
		return nil, r.err
	}
	return v, nil
}
