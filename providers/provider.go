package providers

import (
	"bytes"
	"encoding/json"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// Provider is one loaded provider file: who it is, its bank and its
// protection plugins by resource type. It is immutable and safe for
// concurrent use.
type Provider struct {
	id, name, description string
	file                  string
	checkpoints           *bank.Checkpoints
	plugins               map[string]ProtectionPlugin // by resource type
	schema                ExtendedInfoSchema
}

// ID is the provider's id ([provider] id).
func (p *Provider) ID() string { return p.id }

// Name is the provider's display name.
func (p *Provider) Name() string { return p.name }

// Description is the provider's description.
func (p *Provider) Description() string { return p.description }

// File is the provider file the provider was loaded from.
func (p *Provider) File() string { return p.file }

// Checkpoints is the checkpoint collection of the provider's bank.
func (p *Provider) Checkpoints() *bank.Checkpoints { return p.checkpoints }

// Plugin returns the protection plugin of a resource type: the last plugin of
// the provider file that supports it. A type no plugin supports is
// ProtectionPluginNotFound.
func (p *Provider) Plugin(resourceType string) (ProtectionPlugin, error) {
	pl, ok := p.plugins[resourceType]
	if !ok {
		return nil, karbor.ProtectionPluginNotFound(resourceType)
	}
	return pl, nil
}

// ExtendedInfoSchema is the provider's extended_info_schema.
func (p *Provider) ExtendedInfoSchema() ExtendedInfoSchema { return p.schema }

// Dict is the provider as show_provider and list_providers return it.
func (p *Provider) Dict() Dict {
	return Dict{ID: p.id, Name: p.name, Description: p.description, ExtendedInfoSchema: p.schema}
}

// Dict is a provider's RPC view: id, name, description and
// extended_info_schema, in that order.
type Dict struct {
	ID                 string             `json:"id"`
	Name               string             `json:"name"`
	Description        string             `json:"description"`
	ExtendedInfoSchema ExtendedInfoSchema `json:"extended_info_schema"`
}

// ExtendedInfoSchema is a provider's extended_info_schema: exactly three
// maps from resource type to the JSON schema its plugin publishes (no
// verify_schema, as in Python), each in the order the provider's plugins
// first declared the types.
type ExtendedInfoSchema struct {
	Options   SchemaMap
	Restore   SchemaMap
	SavedInfo SchemaMap
}

// MarshalJSON writes {"options_schema", "restore_schema", "saved_info_schema"}.
func (s ExtendedInfoSchema) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	for i, m := range []struct {
		key string
		m   SchemaMap
	}{{"options_schema", s.Options}, {"restore_schema", s.Restore}, {"saved_info_schema", s.SavedInfo}} {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(`"` + m.key + `":`)
		j, err := m.m.MarshalJSON()
		if err != nil {
			return nil, err
		}
		b.Write(j)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// SchemaMap is an ordered map from resource type to JSON schema.
type SchemaMap struct {
	types   []string
	schemas map[string]json.RawMessage
}

// set adds or replaces a type's schema; a replaced type keeps its place, as
// in a Python dict.
func (m *SchemaMap) set(resourceType string, schema json.RawMessage) {
	if m.schemas == nil {
		m.schemas = map[string]json.RawMessage{}
	}
	if _, ok := m.schemas[resourceType]; !ok {
		m.types = append(m.types, resourceType)
	}
	if len(bytes.TrimSpace(schema)) == 0 {
		schema = json.RawMessage("{}")
	}
	m.schemas[resourceType] = schema
}

// Types returns the map's resource types, in order.
func (m SchemaMap) Types() []string { return append([]string(nil), m.types...) }

// Get returns a type's schema.
func (m SchemaMap) Get(resourceType string) (json.RawMessage, bool) {
	s, ok := m.schemas[resourceType]
	return s, ok
}

// MarshalJSON writes the map as a JSON object, in order.
func (m SchemaMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, t := range m.types {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(t)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.schemas[t])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
