package karbor

import (
	"encoding/json"
	"maps"
	"slices"
)

// NewPrimitive is a karbor object (version 1.0, karbor's namespace) of
// class name holding data, every field marked changed as a freshly built
// object of the API is.
func NewPrimitive(name string, data map[string]any) *Primitive {
	return &Primitive{Name: name, Namespace: ObjectProjectNamespace, Version: "1.0", Data: data,
		Changes: slices.Sorted(maps.Keys(data))}
}

// MarshalJSON writes the primitive as oslo.versionedobjects serializes it,
// the envelope's keys in its order (name, namespace, version, data,
// changes); "changes" is left out when there are none, as oslo does.
func (p *Primitive) MarshalJSON() ([]byte, error) {
	type kv struct {
		k string
		v any
	}
	fields := []kv{
		{ObjectSerialNamespace + ".name", p.Name},
		{ObjectSerialNamespace + ".namespace", p.Namespace},
		{ObjectSerialNamespace + ".version", p.Version},
		{ObjectSerialNamespace + ".data", p.Data},
	}
	if len(p.Changes) > 0 {
		fields = append(fields, kv{ObjectSerialNamespace + ".changes", p.Changes})
	}
	b := []byte{'{'}
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(f.k)
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}
