package karbortest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The session decodes into its 24 exchanges, each with its method, context
// and either a result or a failure; every call returns values of its own.
func TestSession(t *testing.T) {
	s := Session(t)
	require.Len(t, s, 24)
	assert.Equal(t, "list_providers", s[0].Method)
	failures := 0
	for i, x := range s {
		assert.NotEmpty(t, x.Method, "%d", i)
		assert.JSONEq(t, `"`+x.Method+`"`, string(x.Request["method"]), "%d", i)
		assert.NotContains(t, x.Context, "_context_project_id", "%d: prefix kept", i)
		assert.Contains(t, x.Context, "project_id", "%d", i)
		if x.Failure != nil {
			failures++
			assert.NotEmpty(t, x.Failure.Class, "%d", i)
			assert.NotEmpty(t, x.Failure.Module, "%d", i)
			assert.Contains(t, x.Failure.Text, x.Failure.Class, "%d", i)
		}
	}
	assert.NotZero(t, failures, "the session has failures")
	args, err := s[0].ArgValues()
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"marker": nil, "limit": nil, "sort_keys": nil, "sort_dirs": nil, "filters": nil}, args)
	ctx, err := s[0].ContextValues()
	require.NoError(t, err)
	assert.Equal(t, false, ctx["read_only"], "a bool decodes as a bool")

	delete(s[0].Args, "marker")
	assert.Contains(t, Session(t)[0].Args, "marker", "a caller's change shows in the next Session")
}

// The rows are those of the tables the session wrote.
func TestDBRows(t *testing.T) {
	rows := DBRows(t)
	for _, table := range []string{"services", "operation_logs", "restores", "verifications"} {
		assert.NotEmpty(t, rows[table], table)
	}
}

// A fixture that does not decode is a clear error, not a partial session.
func TestDecodeSessionErrors(t *testing.T) {
	for name, data := range map[string]string{
		"not JSON":       `{`,
		"args":           `{"exchanges": [{"method": "m", "request": {"args": [1]}, "reply": {}}]}`,
		"failure":        `{"exchanges": [{"method": "m", "request": {"args": {}}, "reply": {"failure": "{"}}]}`,
		"exchanges kind": `{"exchanges": {}}`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decodeSession([]byte(data))
			assert.Error(t, err)
			assert.Nil(t, got)
		})
	}
}
