package karbor

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func primitive(name, data string) json.RawMessage {
	return json.RawMessage(`{"karbor_object.name": "` + name + `", "karbor_object.namespace": "karbor",
		"karbor_object.version": "1.0", "karbor_object.data": ` + data + `}`)
}

const planData = `"id": "632d8f7d-e2c3-4f31-82ea-900d8afb9880", "name": "p", "provider_id": "b766f37c-d011-4026-8228-28730d734a3f",
	"project_id": "f0e1", "status": "suspended"`

func TestDecodePlanCoercion(t *testing.T) {
	plan, err := DecodePlan(primitive("Plan", `{`+planData+`,
		"description": null,
		"resources": [{"id": "s1", "type": "OS::Nova::Server", "name": "srv", "extra_info": "{\"a\": 1}"},
		              {"id": 7, "type": "OS::Cinder::Volume", "name": true, "extra_info": null, "plan_id": "x", "note": null}],
		"parameters": {"OS::Nova::Server": {"force": true, "count": 5, "ratio": 1.5, "big": 1e20, "tiny": 1E-5,
		                                    "neg0": -0, "name": "n", "off": false, "huge": 123456789012345678901234567890},
		               "OS::Cinder::Volume#v1": null, "OS::Glance::Image": {}},
		"created_at": "2026-11-22T01:57:50Z", "updated_at": "2026-11-22T01:57:51.5", "deleted_at": null, "deleted": 0}`))
	require.NoError(t, err)
	assert.Equal(t, "", plan.Description)
	assert.Equal(t, Parameters{
		"OS::Nova::Server": {"force": "True", "count": "5", "ratio": "1.5", "big": "1e+20", "tiny": "1e-05",
			"neg0": "0", "name": "n", "off": "False", "huge": "123456789012345678901234567890"},
		"OS::Cinder::Volume#v1": nil,
		"OS::Glance::Image":     {},
	}, plan.Parameters)
	require.Len(t, plan.Resources, 2)
	require.NotNil(t, plan.Resources[0].ExtraInfo)
	assert.Equal(t, `{"a": 1}`, *plan.Resources[0].ExtraInfo)
	assert.Equal(t, PlanResource{ID: "7", Type: "OS::Cinder::Volume", Name: "True", Extra: map[string]*string{"plan_id": ptr("x"), "note": nil}},
		plan.Resources[1])
	out, err := json.Marshal(plan.Resources[1])
	require.NoError(t, err)
	assert.Equal(t, `{"id":"7","type":"OS::Cinder::Volume","name":"True","extra_info":null,"note":null,"plan_id":"x"}`, string(out))
	require.NotNil(t, plan.CreatedAt)
	assert.Equal(t, time.Date(2026, 11, 22, 1, 57, 50, 0, time.UTC), *plan.CreatedAt)
	assert.Equal(t, 500*time.Millisecond, time.Duration(plan.UpdatedAt.Nanosecond()))
	assert.Nil(t, plan.DeletedAt)
	assert.False(t, plan.Deleted)
	assert.Equal(t, map[string]string{"force": "True", "count": "5", "ratio": "1.5", "big": "1e+20", "tiny": "1e-05",
		"neg0": "0", "name": "n", "off": "False", "huge": "123456789012345678901234567890"},
		plan.Parameters.For("OS::Nova::Server", "s1"))
}

func ptr(s string) *string { return &s }

func TestParametersFor(t *testing.T) {
	p := Parameters{
		"OS::Nova::Server":    {"a": "type", "b": "type"},
		"OS::Nova::Server#s1": {"b": "id", "c": "id"},
		"OS::Nova::Server#s2": nil,
	}
	assert.Equal(t, map[string]string{"a": "type", "b": "id", "c": "id"}, p.For("OS::Nova::Server", "s1"))
	assert.Equal(t, map[string]string{"a": "type", "b": "type"}, p.For("OS::Nova::Server", "s2"))
	assert.Equal(t, map[string]string{}, p.For("OS::Cinder::Volume", "v"))
	assert.Equal(t, map[string]string{}, Parameters(nil).For("x", "y"))
}

func TestDecodeRestoreAndVerification(t *testing.T) {
	r, err := DecodeRestore(primitive("Restore", `{"id": "r", "project_id": "p", "provider_id": "pr", "checkpoint_id": "c",
		"restore_target": null, "parameters": null, "status": "in_progress",
		"resources_status": {"OS::Nova::Server#s": "restoring"}, "resources_reason": null, "deleted": "yes"}`))
	require.NoError(t, err)
	assert.Nil(t, r.Parameters)
	assert.Equal(t, map[string]string{"OS::Nova::Server#s": "restoring"}, r.ResourcesStatus)
	assert.Nil(t, r.ResourcesReason)
	assert.True(t, r.Deleted, "Python's bool() of a non-empty string")

	v, err := DecodeVerification(primitive("Verification", `{"id": "v", "project_id": "p", "provider_id": "pr",
		"checkpoint_id": "c", "parameters": {"OS::Nova::Server": {"k": 1}}, "status": "in_progress"}`))
	require.NoError(t, err)
	assert.Equal(t, Parameters{"OS::Nova::Server": {"k": "1"}}, v.Parameters)
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		decode func(json.RawMessage) error
		raw    string
		want   string
	}{
		{"not JSON", decodePlan, `{`, "Plan primitive:"},
		{"not an object", decodePlan, `[1]`, "not a JSON object but list"},
		{"trailing data", decodePlan, `{} {}`, "trailing data"},
		{"no name", decodePlan, `{"karbor_object.namespace": "karbor"}`, `"karbor_object.name" is missing`},
		{"wrong namespace", decodePlan, strings.Replace(string(primitive("Plan", `{}`)), `"karbor"`, `"nova"`, 1), "unsupported object type nova.Plan"},
		{"wrong class", decodePlan, string(primitive("Restore", `{}`)), "got a Restore object"},
		{"newer version", decodePlan, strings.Replace(string(primitive("Plan", `{}`)), `"1.0"`, `"1.1"`, 1), "version 1.1 of Plan is not compatible"},
		{"other major", decodePlan, strings.Replace(string(primitive("Plan", `{}`)), `"1.0"`, `"2.0"`, 1), "not compatible"},
		{"bad version", decodePlan, strings.Replace(string(primitive("Plan", `{}`)), `"1.0"`, `"one"`, 1), "not compatible"},
		{"no data", decodePlan, `{"karbor_object.name": "Plan", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0"}`, `"karbor_object.data" is missing`},
		{"changes not a list", decodePlan, `{"karbor_object.name": "Plan", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0", "karbor_object.data": {}, "karbor_object.changes": "id"}`, "is not a list"},
		{"changes of numbers", decodePlan, `{"karbor_object.name": "Plan", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0", "karbor_object.data": {}, "karbor_object.changes": [1]}`, "holds a int"},
		{"null id", decodePlan, string(primitive("Plan", `{"id": null}`)), `field "id": cannot be None`},
		{"list name", decodePlan, string(primitive("Plan", `{"name": ["a"]}`)), `field "name": a string is required, not a list`},
		{"parameters a list", decodePlan, string(primitive("Plan", `{"parameters": []}`)), `field "parameters": a dict is required, not a list`},
		{"parameters null", decodePlan, string(primitive("Plan", `{"parameters": null}`)), `field "parameters": cannot be None`},
		{"inner not a dict", decodePlan, string(primitive("Plan", `{"parameters": {"t": "x"}}`)), `field "parameters[\"t\"]": a dict is required, not a str`},
		{"null leaf", decodePlan, string(primitive("Plan", `{"parameters": {"t": {"k": null}}}`)), `["k"] cannot be None`},
		{"dict leaf", decodePlan, string(primitive("Plan", `{"parameters": {"t": {"k": {}}}}`)), `a string is required, not a dict`},
		{"resources not a list", decodePlan, string(primitive("Plan", `{"resources": {}}`)), `field "resources": a list is required, not a dict`},
		{"resources null", decodePlan, string(primitive("Plan", `{"resources": null}`)), `field "resources": cannot be None`},
		{"resource null", decodePlan, string(primitive("Plan", `{"resources": [null]}`)), `field "resources[0]": cannot be None`},
		{"resource without type", decodePlan, string(primitive("Plan", `{"resources": [{"id": "a", "name": "n"}]}`)), `"type" is missing or null`},
		{"resource list value", decodePlan, string(primitive("Plan", `{"resources": [{"id": ["a"]}]}`)), `a string is required, not a list`},
		{"bad date", decodePlan, string(primitive("Plan", `{"created_at": "soon"}`)), `field "created_at": Unable to parse date string 'soon'`},
		{"date a number", decodePlan, string(primitive("Plan", `{"created_at": 5}`)), `field "created_at": a datetime string is required, not a int`},
		{"restore status list", decodeRestore, string(primitive("Restore", `{"status": []}`)), `Restore primitive: field "status"`},
		{"restore resources_status leaf null", decodeRestore, string(primitive("Restore", `{"resources_status": {"a": null}}`)), `field "resources_status": ["a"] cannot be None`},
		{"verification as restore", decodeRestore, string(primitive("Verification", `{}`)), "got a Verification object"},
		{"verification id dict", decodeVerification, string(primitive("Verification", `{"id": {}}`)), `Verification primitive: field "id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode(json.RawMessage(tt.raw))
			var oe *ObjectError
			require.ErrorAs(t, err, &oe)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func decodePlan(raw json.RawMessage) error         { _, err := DecodePlan(raw); return err }
func decodeRestore(raw json.RawMessage) error      { _, err := DecodeRestore(raw); return err }
func decodeVerification(raw json.RawMessage) error { _, err := DecodeVerification(raw); return err }

func TestCompatibleVersion(t *testing.T) {
	for v, want := range map[string]bool{"1.0": true, "1": true, "1.00": true, "01.0": true, "1.1": false, "1.0.0": false,
		"0.9": false, "2.0": false, "": false, "1.x": false, "-1.0": false, "+1.0": false} {
		assert.Equal(t, want, compatibleVersion(v), v)
	}
}

func TestIsPrimitive(t *testing.T) {
	var v any
	require.NoError(t, json.Unmarshal(primitive("Plan", `{}`), &v))
	assert.True(t, IsPrimitive(v))
	assert.False(t, IsPrimitive(map[string]any{"id": 1}))
	assert.False(t, IsPrimitive("Plan"))
}

func TestConstants(t *testing.T) {
	assert.Equal(t, []string{"OS::Keystone::Project", "OS::Nova::Server", "OS::Cinder::Volume", "OS::Glance::Image",
		"OS::Manila::Share", "OS::Neutron::Network", "OS::Trove::Instance", "OS::Kubernetes::Pod"}, ResourceTypes())
	assert.ElementsMatch(t, ResourceTypes(), ProtectableLoadOrder())
	assert.True(t, IsResourceType("OS::Nova::Server"))
	assert.False(t, IsResourceType("OS::Neutron::Net"))
	assert.Equal(t, []string{"protect", "restore", "delete", "verify", "copy"}, OperationTypes())
}

// TestConstantsMatchSession: the orders the recorded session shows.
func TestConstantsMatchSession(t *testing.T) {
	data := readSessionReplies(t)
	var types []string
	require.NoError(t, json.Unmarshal(data["list_protectable_types"], &types))
	assert.Equal(t, types, ProtectableLoadOrder())
	var provider struct {
		Schema struct {
			Options json.RawMessage `json:"options_schema"`
		} `json:"extended_info_schema"`
	}
	require.NoError(t, json.Unmarshal(data["show_provider"], &provider))
	dec := json.NewDecoder(strings.NewReader(string(provider.Schema.Options)))
	_, _ = dec.Token()
	var order []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		order = append(order, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	assert.Equal(t, ResourceTypes(), order)
}
