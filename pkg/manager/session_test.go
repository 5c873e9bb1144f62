package manager

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc"
)

// recorded is one exchange of testdata/api-session-noop-fs.json: a request
// of karbor's API client and the real Python service's reply.
type recorded struct {
	Method  string
	Args    map[string]any
	Context map[string]any
	Result  json.RawMessage
	Failure map[string]any // decoded failure, nil on success
}

func loadSession(t *testing.T) []recorded {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "api-session-noop-fs.json"))
	require.NoError(t, err)
	var s struct {
		Exchanges []struct {
			Method  string                     `json:"method"`
			Request map[string]json.RawMessage `json:"request"`
			Reply   struct {
				Result  json.RawMessage `json:"result"`
				Failure *string         `json:"failure"`
			} `json:"reply"`
		} `json:"exchanges"`
	}
	require.NoError(t, json.Unmarshal(raw, &s))
	out := make([]recorded, len(s.Exchanges))
	for i, e := range s.Exchanges {
		r := recorded{Method: e.Method, Result: e.Reply.Result, Context: map[string]any{}}
		require.NoError(t, json.Unmarshal(e.Request["args"], &r.Args))
		for k, v := range e.Request {
			if name, ok := strings.CutPrefix(k, "_context_"); ok {
				var val any
				require.NoError(t, json.Unmarshal(v, &val))
				r.Context[name] = val
			}
		}
		if e.Reply.Failure != nil {
			require.NoError(t, json.Unmarshal([]byte(*e.Reply.Failure), &r.Failure))
		}
		out[i] = r
	}
	return out
}

// TestRecordedSession replays, in process, every request karbor's API sent
// to the Python service in the recorded session (same methods, arguments and
// context, ids substituted where they must name what this run created) and
// compares each reply with the recorded one: the same JSON shape and values
// but for ids and dates, or the same exception class, message and kwargs.
//
// Deliberate differences (docs/compatibility.md P8): the noop plugin here
// verifies, so the verification that failed upstream with FlowError
// succeeds. A checkpoint the recording shows "protecting" right after
// protect may already be "available" here (the noop flow is that fast).
func TestRecordedSession(t *testing.T) {
	e := newEnv(t, envOptions{})
	var checkpointID, recordedID string
	for i, x := range loadSession(t) {
		args := substitute(x.Args, recordedID, checkpointID)
		got := e.call(t, x.Method, x.Context, args)
		name := x.Method
		switch {
		case x.Method == "verification":
			assert.NoError(t, got.Err, "%d %s: the noop plugin verifies (P8)", i, name)
			assert.JSONEq(t, "null", string(got.Result))
			continue
		case x.Failure != nil:
			sameFailure(t, x.Failure, got.Err, recordedID, checkpointID)
			continue
		}
		require.NoError(t, got.Err, "%d %s", i, name)
		if x.Method == "protect" {
			require.NoError(t, json.Unmarshal(x.Result, &recordedID))
			require.NoError(t, json.Unmarshal(got.Result, &checkpointID))
			continue
		}
		if status := recordedStatus(x); status == "available" || status == "deleted" {
			e.waitStatus(t, noopID, checkpointID, status) // the recording waited too
			got = e.call(t, x.Method, x.Context, args)
		}
		sameShape(t, x.Result, got.Result, recordedID, checkpointID, name)
	}
	require.NotEmpty(t, checkpointID)
	assert.Equal(t, "deleted", e.status(t, noopID, checkpointID))
}

// recordedStatus is the status of a recorded show_checkpoint reply.
func recordedStatus(x recorded) string {
	var cp struct{ Status string }
	if x.Method != "show_checkpoint" || json.Unmarshal(x.Result, &cp) != nil {
		return ""
	}
	return cp.Status
}

// substitute replaces the recorded checkpoint id by this run's in the
// arguments (and in primitives' data).
func substitute(args map[string]any, from, to string) map[string]any {
	if from == "" {
		return args
	}
	raw, _ := json.Marshal(args)
	var out map[string]any
	_ = json.Unmarshal([]byte(strings.ReplaceAll(string(raw), from, to)), &out)
	return out
}

// sameShape compares a result with the recorded one after putting this
// run's checkpoint id in place of the recorded one; creation dates are
// compared by format only, and a recorded "protecting" accepts
// "available".
func sameShape(t *testing.T, recordedRaw, got json.RawMessage, recordedID, ourID, name string) {
	t.Helper()
	want := recordedRaw
	if recordedID != "" {
		want = json.RawMessage(strings.ReplaceAll(string(recordedRaw), recordedID, ourID))
	}
	var w, g any
	require.NoError(t, json.Unmarshal(want, &w))
	require.NoError(t, json.Unmarshal(got, &g), name)
	normalise(w)
	normalise(g)
	assert.Equal(t, w, g, "%s: reply differs from the Python service's\nwant %s\ngot  %s", name, want, got)
}

// normalise blanks what differs from run to run: created_at dates (checked
// for their format) and the protecting/available race.
func normalise(v any) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			normalise(e)
		}
	case map[string]any:
		if d, ok := v["created_at"].(string); ok && len(d) == len("2026-11-22") && d[4] == '-' && d[7] == '-' {
			v["created_at"] = "<date>"
		}
		if v["status"] == "protecting" {
			v["status"] = "available"
		}
		for _, e := range v {
			normalise(e)
		}
	}
}

// sameFailure compares a failure with the recorded one: module, class,
// message and kwargs (code included) as the client rebuilds them.
func sameFailure(t *testing.T, want map[string]any, got error, recordedID, ourID string) {
	t.Helper()
	require.Error(t, got)
	re, ok := got.(rpc.RemoteException)
	require.True(t, ok, "%T %v has no Python face", got, got)
	fix := func(s string) string { return strings.ReplaceAll(s, recordedID, ourID) }
	assert.Equal(t, want["module"], re.PythonModule())
	assert.Equal(t, want["class"], re.PythonClass())
	assert.Equal(t, fix(want["message"].(string)), re.Error())
	wantKw, _ := json.Marshal(want["kwargs"])
	gotKw, _ := json.Marshal(re.PythonKwargs())
	assert.JSONEq(t, fix(string(wantKw)), string(gotKw))
}
