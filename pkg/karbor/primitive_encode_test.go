package karbor

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPrimitiveRoundTrip: what NewPrimitive writes, the decoders read back.
func TestPrimitiveRoundTrip(t *testing.T) {
	p := NewPrimitive("Plan", map[string]any{
		"id": "632d8f7d-e2c3-4f31-82ea-900d8afb9880", "name": "p", "description": nil,
		"provider_id": "b766f37c-d011-4026-8228-28730d734a3f", "project_id": "f0e1", "status": "suspended",
		"resources":  []any{map[string]any{"id": "r1", "type": "OS::Nova::Server", "name": "srv", "extra_info": nil}},
		"parameters": map[string]any{},
	})
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	assert.Regexp(t, `^\{"karbor_object.name":"Plan","karbor_object.namespace":"karbor","karbor_object.version":"1.0","karbor_object.data":\{`, string(raw))
	plan, err := DecodePlan(raw)
	require.NoError(t, err)
	assert.Equal(t, "p", plan.Name)
	assert.Equal(t, []PlanResource{{ID: "r1", Type: "OS::Nova::Server", Name: "srv"}}, plan.Resources)
	assert.Equal(t, []string{"description", "id", "name", "parameters", "project_id", "provider_id", "resources", "status"}, plan.Changes)

	empty, err := json.Marshal(&Primitive{Name: "Restore", Namespace: "karbor", Version: "1.0", Data: map[string]any{}})
	require.NoError(t, err)
	assert.NotContains(t, string(empty), "changes")
	_, err = json.Marshal(NewPrimitive("Plan", map[string]any{"bad": func() {}}))
	assert.Error(t, err, "unencodable data")
}
