package karbor

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbortest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// decodedExchange is what this package makes of one request.
type decodedExchange struct {
	Method       string          `json:"method"`
	Context      RequestContext  `json:"context"`
	Plan         *Plan           `json:"plan,omitempty"`
	Restore      *Restore        `json:"restore,omitempty"`
	Verification *Verification   `json:"verification,omitempty"`
	Resources    json.RawMessage `json:"plan_resources_as_stored,omitempty"`
}

// TestSessionGolden decodes the context and every versioned object of the
// recorded session; the result is frozen in session-decoded.golden.json
// (go test -run TestSessionGolden -update rewrites it).
func TestSessionGolden(t *testing.T) {
	var got []decodedExchange
	for _, r := range karbortest.Session(t) {
		ctx, err := FromDict(r.Context)
		require.NoError(t, err, r.Method)
		d := decodedExchange{Method: r.Method, Context: ctx}
		if raw, ok := r.Args["plan"]; ok {
			d.Plan, err = DecodePlan(raw)
			require.NoError(t, err, r.Method)
			d.Resources, err = json.Marshal(d.Plan.Resources)
			require.NoError(t, err)
		}
		if raw, ok := r.Args["restore"]; ok {
			d.Restore, err = DecodeRestore(raw)
			require.NoError(t, err, r.Method)
		}
		if raw, ok := r.Args["verification"]; ok {
			d.Verification, err = DecodeVerification(raw)
			require.NoError(t, err, r.Method)
		}
		got = append(got, d)
	}
	data, err := json.MarshalIndent(got, "", " ")
	require.NoError(t, err)
	path := filepath.Join("testdata", "session-decoded.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(data))
}

// TestSessionContextRoundTrip: the context rebuilt from each request, turned
// back into a dict, is exactly what the karbor API sent (every key, every
// value).
func TestSessionContextRoundTrip(t *testing.T) {
	for _, r := range karbortest.Session(t) {
		ctx, err := FromDict(r.Context)
		require.NoError(t, err)
		dict := ctx.ToDict()
		assert.ElementsMatch(t, DictKeys, keys(dict))
		assert.Len(t, r.Context, len(DictKeys))
		for k, raw := range r.Context {
			got, err := json.Marshal(dict[k])
			require.NoError(t, err)
			assert.JSONEq(t, string(raw), string(got), "%s: %s", r.Method, k)
		}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSessionPlanResourcesAsSent: a plan's resources re-encode to the very
// JSON the API sent (and the Python service stores in index.json).
func TestSessionPlanResourcesAsSent(t *testing.T) {
	for _, r := range karbortest.Session(t) {
		raw, ok := r.Args["plan"]
		if !ok {
			continue
		}
		var prim struct {
			Data struct {
				Resources json.RawMessage `json:"resources"`
			} `json:"karbor_object.data"`
		}
		require.NoError(t, json.Unmarshal(raw, &prim))
		plan, err := DecodePlan(raw)
		require.NoError(t, err)
		got, err := json.Marshal(plan.Resources)
		require.NoError(t, err)
		assert.JSONEq(t, string(prim.Data.Resources), string(got))
		assert.Equal(t, []string{"provider_id", "parameters", "status", "id", "name", "description", "resources", "project_id"}, plan.Changes)
	}
}

// readSessionReplies maps each method to the result of its first successful
// reply in the recorded session.
func readSessionReplies(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for _, e := range karbortest.Session(t) {
		if _, seen := out[e.Method]; !seen && e.Failure == nil {
			out[e.Method] = e.Result
		}
	}
	return out
}
