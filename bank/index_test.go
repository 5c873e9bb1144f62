package bank_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// specIndex is the index.json example of docs/karbor-behaviour.md#indexjson.
const specIndex = `{"version": "0.9", "id": "8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a", "status": "available", "owner_id": "4f0e3c2b-1a09-4e8d-b7c6-5d4e3f2a1b0c", "provider_id": "cf56bd3e-97a7-4078-b6d5-f36246333fd9", "project_id": "e486a2f49695423ca9c47e589b948108", "protection_plan": {"id": "35235c0e-6f1a-4b2c-8d3e-9f0a1b2c3d4e", "name": "My app", "provider_id": "cf56bd3e-97a7-4078-b6d5-f36246333fd9", "resources": [{"id": "cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21", "type": "OS::Nova::Server", "name": "App server", "extra_info": null}]}, "extra_info": "{\"created_by\": \"manual\"}", "created_at": "2020-05-04", "timestamp": 1588601234, "resource_graph": "[{\"0x0\": [\"OS::Cinder::Volume\", \"25331a3e-4c44-4d9e-8b5f-2a1c0d9e8f7b\", \"System volume\", {\"availability_zone\": \"nova\"}], \"0x1\": [\"OS::Nova::Server\", \"cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21\", \"App server\", null]}, [[\"0x1\", [\"0x0\"]]]]"}`

func TestDecodeSpecIndex(t *testing.T) {
	cp, err := bank.DecodeIndex("8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a", []byte(specIndex))
	require.NoError(t, err)
	assert.Equal(t, "available", cp.Status)
	assert.Equal(t, "4f0e3c2b-1a09-4e8d-b7c6-5d4e3f2a1b0c", cp.OwnerID)
	assert.Equal(t, "cf56bd3e-97a7-4078-b6d5-f36246333fd9", cp.ProviderID)
	assert.Equal(t, "e486a2f49695423ca9c47e589b948108", cp.ProjectID)
	assert.Equal(t, bank.Plan{
		ID: "35235c0e-6f1a-4b2c-8d3e-9f0a1b2c3d4e", Name: "My app", ProviderID: "cf56bd3e-97a7-4078-b6d5-f36246333fd9",
		Resources: json.RawMessage(`[{"id": "cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21", "type": "OS::Nova::Server", "name": "App server", "extra_info": null}]`),
	}, cp.Plan)
	assert.Equal(t, `"{\"created_by\": \"manual\"}"`, string(cp.ExtraInfo))
	assert.Equal(t, "2020-05-04", cp.CreatedAt)
	assert.Equal(t, int64(1588601234), cp.Timestamp)
	require.NotNil(t, cp.ResourceGraph)
	assert.Contains(t, *cp.ResourceGraph, `"System volume"`)

	enc, err := cp.EncodeIndex()
	require.NoError(t, err)
	assert.Equal(t, specIndex, string(enc), "a rewrite is byte-identical")

	assert.Equal(t, []string{
		"/indices/by-provider/cf56bd3e-97a7-4078-b6d5-f36246333fd9/e486a2f49695423ca9c47e589b948108/1588601234@8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a",
		"/indices/by-date/2020-05-04/e486a2f49695423ca9c47e589b948108/1588601234@8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a",
		"/indices/by-plan/35235c0e-6f1a-4b2c-8d3e-9f0a1b2c3d4e/e486a2f49695423ca9c47e589b948108/2020-05-04/1588601234@8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a",
	}, cp.IndexKeys())
}

func TestCheckpointDict(t *testing.T) {
	cp, err := bank.DecodeIndex("8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a", []byte(specIndex))
	require.NoError(t, err)
	data, err := json.Marshal(cp.Dict())
	require.NoError(t, err)
	var d map[string]any
	require.NoError(t, json.Unmarshal(data, &d))
	assert.Len(t, d, 7)
	assert.Equal(t, "8d2c6f7a-5b1e-4f7c-9a43-0e5b1d2c3f4a", d["id"])
	assert.Equal(t, "available", d["status"])
	assert.Equal(t, "e486a2f49695423ca9c47e589b948108", d["project_id"])
	assert.Equal(t, "2020-05-04", d["created_at"])
	assert.Equal(t, `{"created_by": "manual"}`, d["extra_info"])
	assert.IsType(t, "", d["resource_graph"], "the packed graph stays a string")
	assert.Equal(t, "My app", d["protection_plan"].(map[string]any)["name"])

	// Absent keys are null.
	minimal := `{"version": "0.9", "id": "x", "status": "protecting", "project_id": "p", "protection_plan": {"id": "pl", "provider_id": "pr"}}`
	cp, err = bank.DecodeIndex("x", []byte(minimal))
	require.NoError(t, err)
	data, err = json.Marshal(cp.Dict())
	require.NoError(t, err)
	assert.JSONEq(t, `{"id": "x", "status": "protecting", "protection_plan": {"id": "pl", "provider_id": "pr"}, "extra_info": null, "project_id": "p", "resource_graph": null, "created_at": null}`, string(data))
}

func TestDecodeIndexErrors(t *testing.T) {
	tests := []struct {
		name, data  string
		unsupported bool
	}{
		{name: "not JSON", data: `{"version": "0.9", "id"`},
		{name: "not an object", data: `"available"`},
		{name: "Python wrote a raw string", data: `protecting`},
		{name: "no version", data: `{"id": "x"}`},
		{name: "version 1.0", data: `{"version": "1.0"}`, unsupported: true},
		{name: "version as number", data: `{"version": 0.9}`, unsupported: true},
		{name: "no status", data: `{"version": "0.9", "project_id": "p", "protection_plan": {"id": "a", "provider_id": "b"}}`},
		{name: "status not a string", data: `{"version": "0.9", "status": 1, "project_id": "p", "protection_plan": {"id": "a", "provider_id": "b"}}`},
		{name: "float timestamp", data: `{"version": "0.9", "status": "s", "project_id": "p", "protection_plan": {"id": "a", "provider_id": "b"}, "timestamp": 1.5}`},
		{name: "plan not an object", data: `{"version": "0.9", "status": "s", "project_id": "p", "protection_plan": []}`},
		{name: "graph not a string", data: `{"version": "0.9", "status": "s", "project_id": "p", "protection_plan": {"id": "a", "provider_id": "b"}, "resource_graph": []}`},
		{name: "trailing data", data: `{"version": "0.9"} {}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bank.DecodeIndex("x", []byte(tc.data))
			require.Error(t, err)
			if tc.unsupported {
				var uv *bank.UnsupportedVersionError
				require.ErrorAs(t, err, &uv)
				assert.Contains(t, err.Error(), "Checkpoint was created in an unsupported version")
				return
			}
			var de *bank.IndexDecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}

// FuzzDecodeIndex: decoding never panics; what decodes re-encodes, the
// re-encoding decodes to the same checkpoint, and encoding is stable.
func FuzzDecodeIndex(f *testing.F) {
	// Seeds stay small: the fuzzer minimises every new input, which takes
	// long for big ones. Besides these and the inputs under testdata/fuzz,
	// the seeds are the golden index.json files and the Python sample
	// bank's checkpoint whose status reset_state set to an arbitrary string.
	f.Add([]byte(`{"version": "0.9", "id": "x", "status": "protecting", "project_id": "p", "protection_plan": {"id": "pl", "provider_id": "pr"}}`))
	f.Add([]byte(`{"version": "1.0"}`))
	f.Add([]byte(`{"version": "0.9", "version": "0.9", "status": "\ud800", "project_id": null, "protection_plan": {"id": null, "provider_id": "b", "resources": [1e400]}, "timestamp": -1}`))
	golden, err := filepath.Glob(filepath.Join("testdata", "golden", "index-*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, golden)
	sample, _ := banktest.LoadSample(f, "testdata")
	for _, path := range append(golden, filepath.Join(sample, "karbor", "checkpoints", "aeebf2bb-7fb3-4510-a845-101bb37e066c", "index.json")) {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := bank.DecodeIndex("x", data)
		if err != nil {
			var uv *bank.UnsupportedVersionError
			var de *bank.IndexDecodeError
			if !errors.As(err, &uv) && !errors.As(err, &de) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		enc, err := cp.EncodeIndex()
		if err != nil {
			t.Fatalf("decoded but cannot encode: %v", err)
		}
		again, err := bank.DecodeIndex("x", enc)
		if err != nil {
			t.Fatalf("re-encoding %q does not decode: %v", enc, err)
		}
		if again.Status != cp.Status || again.ProjectID != cp.ProjectID || again.OwnerID != cp.OwnerID ||
			again.Timestamp != cp.Timestamp || again.CreatedAt != cp.CreatedAt || again.Plan.ID != cp.Plan.ID {
			t.Fatalf("round trip changed the checkpoint: %+v → %+v", cp, again)
		}
		enc2, err := again.EncodeIndex()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %q → %q (%v)", enc, enc2, err)
		}
	})
}

func TestEncodeHandBuiltCheckpoint(t *testing.T) {
	graph := specGraph
	cp := &bank.Checkpoint{
		ID: specID, Status: bank.StatusAvailable, OwnerID: specOwner, ProviderID: specProvider, ProjectID: specProject,
		Plan: bank.Plan{ID: "35235c0e-6f1a-4b2c-8d3e-9f0a1b2c3d4e", Name: "My app", ProviderID: specProvider,
			Resources: json.RawMessage(`[{"id":"cb4ef2ff-ceef-4fd3-8d8b-5e0c1f9d4a21","type":"OS::Nova::Server","name":"App server","extra_info":null}]`)},
		ExtraInfo: json.RawMessage(`"{\"created_by\": \"manual\"}"`),
		CreatedAt: "2020-05-04", Timestamp: 1588601234, ResourceGraph: &graph,
	}
	enc, err := cp.EncodeIndex()
	require.NoError(t, err)
	assert.Equal(t, specIndex, string(enc))

	cp.Plan.Resources = json.RawMessage(`[`)
	_, err = cp.EncodeIndex()
	assert.ErrorContains(t, err, "protection_plan")
}
