package graph

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// Resource is one resource karbor protects (karbor/resource.py).
type Resource struct {
	Type string
	ID   string
	Name string
	// ExtraInfo is the resource's extra_info as JSON: nil for null, a JSON
	// string for a plan resource (the API stores extra_info JSON-encoded),
	// or whatever a protectable plugin gave (e.g. {"availability_zone":
	// "nova"}).
	ExtraInfo json.RawMessage
}

// Key identifies a resource: karbor compares and hashes resources by type,
// id and name only.
type Key struct {
	Type, ID, Name string
}

// Key returns the resource's identity.
func (r Resource) Key() Key { return Key{Type: r.Type, ID: r.ID, Name: r.Name} }

// String names the resource in logs and errors.
func (r Resource) String() string { return fmt.Sprintf("%s %s (%s)", r.Type, r.ID, r.Name) }

// MarshalJSON writes Python's Resource.to_dict(): type, id, name, extra_info,
// in that order.
func (r Resource) MarshalJSON() ([]byte, error) {
	return marshalOrdered([]field{{"type", r.Type}, {"id", r.ID}, {"name", r.Name}}, r.ExtraInfo)
}

// Instance is a resource as list_protectable_instances returns it: id, name
// and extra_info (the API adds the type).
type Instance Resource

// MarshalJSON writes {"id", "name", "extra_info"}.
func (i Instance) MarshalJSON() ([]byte, error) {
	return marshalOrdered([]field{{"id", i.ID}, {"name", i.Name}}, i.ExtraInfo)
}

type field struct{ key, value string }

func marshalOrdered(fields []field, extra json.RawMessage) ([]byte, error) {
	if extra != nil && !json.Valid(extra) {
		return nil, fmt.Errorf("graph: extra_info is not valid JSON: %.40q", extra)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for _, f := range fields {
		k, _ := json.Marshal(f.key)
		v, _ := json.Marshal(f.value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
		b.WriteByte(',')
	}
	b.WriteString(`"extra_info":`)
	if extra == nil {
		b.WriteString("null")
	} else {
		b.Write(extra)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// FromPlan returns the resources of a plan, in plan order. Their extra_info
// is the JSON text the API stored, kept as a JSON string as the Python
// service keeps it. Keys of a plan resource other than id, type, name and
// extra_info are ignored.
func FromPlan(resources []karbor.PlanResource) []Resource {
	out := make([]Resource, len(resources))
	for i, pr := range resources {
		out[i] = Resource{Type: pr.Type, ID: pr.ID, Name: pr.Name}
		if pr.ExtraInfo != nil {
			out[i].ExtraInfo, _ = json.Marshal(*pr.ExtraInfo) // a string always marshals
		}
	}
	return out
}
