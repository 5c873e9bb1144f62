package manager

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbortest"
	"github.com/gokarbor/karbor-protection/rpc"
)

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
	for i, x := range karbortest.Session(t) {
		recordedArgs, err := x.ArgValues()
		require.NoError(t, err)
		reqCtx, err := x.ContextValues()
		require.NoError(t, err)
		args := substitute(recordedArgs, recordedID, checkpointID)
		got := e.call(t, x.Method, reqCtx, args)
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
			got = e.call(t, x.Method, reqCtx, args)
		}
		sameShape(t, x.Result, got.Result, recordedID, checkpointID, name)
	}
	require.NotEmpty(t, checkpointID)
	assert.Equal(t, "deleted", e.status(t, noopID, checkpointID))
}

// recordedStatus is the status of a recorded show_checkpoint reply.
func recordedStatus(x karbortest.Exchange) string {
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
func sameFailure(t *testing.T, want *karbortest.Failure, got error, recordedID, ourID string) {
	t.Helper()
	require.Error(t, got)
	re, ok := got.(rpc.RemoteException)
	require.True(t, ok, "%T %v has no Python face", got, got)
	fix := func(s string) string { return strings.ReplaceAll(s, recordedID, ourID) }
	assert.Equal(t, want.Module, re.PythonModule())
	assert.Equal(t, want.Class, re.PythonClass())
	assert.Equal(t, fix(want.Message), re.Error())
	wantKw, _ := json.Marshal(want.Kwargs)
	gotKw, _ := json.Marshal(re.PythonKwargs())
	assert.JSONEq(t, fix(string(wantKw)), string(gotKw))
}
