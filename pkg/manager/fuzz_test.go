package manager

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/rpc"
)

// FuzzListCheckpointsArgs feeds arbitrary filters and sort directions to
// the list_checkpoints argument decoder: it must never panic, and every
// refusal must carry a Python face (the exception Python would raise).
func FuzzListCheckpointsArgs(f *testing.F) {
	f.Add([]byte(`{"plan_id": "p", "start_date": "2026-1-5", "end_date": "2026-12-31", "project_id": 5}`), []byte(`["desc"]`), []byte(`true`))
	f.Add([]byte(`null`), []byte(`"asc"`), []byte(`0`))
	f.Add([]byte(`{"start_date": 20260101}`), []byte(`[]`), []byte(`null`))
	f.Fuzz(func(t *testing.T, filters, sortDirs, allTenants []byte) {
		a := listCheckpointsArgs{ProviderID: noopID, Filters: filters, SortDirs: sortDirs, AllTenants: allTenants}
		_, err := checkpointQuery(&karborContextForFuzz, a)
		if err == nil {
			return
		}
		if _, ok := err.(rpc.RemoteException); !ok {
			t.Fatalf("refusal without a Python face: %T %v", err, err)
		}
	})
}

// FuzzRestoreParameters feeds arbitrary Restore primitives to the
// parameter reader and validator (against the noop plugin's empty schemas).
func FuzzRestoreParameters(f *testing.F) {
	restore, _ := json.Marshal(targetPrimitive("Restore", noopID, "c", projectA, map[string]any{"OS::Nova::Server#6918fc8a-7ee8-4164-b48b-ad47bd058dc3": map[string]any{"restore_name": "x"}}))
	f.Add(restore)
	f.Add([]byte(`{"karbor_object.data": {"parameters": {"a#b#c": {}, "OS::Nova::Server": null}}}`))
	f.Add([]byte(`{"karbor_object.data": {"parameters": []}}`))
	schema := noopRestoreSchema(f)
	f.Fuzz(func(t *testing.T, primitive []byte) {
		params, _, err := objectParameters(primitive)
		if err != nil {
			return // the manager answers InvalidInput
		}
		if err := validateRestoreParameters(params, schema); err != nil {
			if _, ok := err.(rpc.RemoteException); !ok {
				t.Fatalf("refusal without a Python face: %T %v", err, err)
			}
		}
	})
}

var karborContextForFuzz = karbor.RequestContext{ProjectID: projectA}

func noopRestoreSchema(f *testing.F) providers.SchemaMap {
	f.Helper()
	dir := f.TempDir()
	provDir := filepath.Join(dir, "providers.d")
	if err := os.MkdirAll(provDir, 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(provDir, "noop.conf"), []byte(providerFile(noopID, "No-Op Provider", "karbor-noop-protection-plugin", filepath.Join(dir, "bank"), "")), 0o644); err != nil {
		f.Fatal(err)
	}
	reg, err := providers.Load(quietContext(), providers.Options{Dir: provDir})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = reg.Close() })
	p, err := reg.Show(noopID)
	if err != nil {
		f.Fatal(err)
	}
	return p.ExtendedInfoSchema().Restore
}
