package karbor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbortest"
	"github.com/gokarbor/karbor-protection/rpc"
)

// Both kinds of error reach the caller with their Python face: the rpc
// package turns a RemoteException into an oslo failure.
var (
	_ rpc.RemoteException = (*Error)(nil)
	_ rpc.RemoteException = (*BuiltinError)(nil)
)

type goldenConstruction struct {
	KwargsIn  map[string]any `json:"kwargs_in"`
	Message   string         `json:"message"`
	Args      []any          `json:"args"`
	Kwargs    map[string]any `json:"kwargs"`
	KwargKeys []string       `json:"kwarg_keys"`
}

type goldenClass struct {
	Class    string             `json:"class"`
	Parent   string             `json:"parent"`
	Code     int                `json:"code"`
	Template string             `json:"template"`
	Full     goldenConstruction `json:"full"`
	Empty    goldenConstruction `json:"empty"`
	Message  goldenConstruction `json:"message"`
}

func loadCatalogGolden(t *testing.T) []goldenClass {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "exceptions.golden.json"))
	require.NoError(t, err)
	var classes []goldenClass
	require.NoError(t, json.Unmarshal(data, &classes))
	require.Len(t, classes, 77)
	return classes
}

// assertFailure checks an error against what Python put on the wire.
func assertFailure(t *testing.T, want goldenConstruction, got *Error) {
	t.Helper()
	assert.Equal(t, want.Message, got.Error())
	assert.Equal(t, want.Args, roundTrip(t, got.PythonArgs()))
	assert.Equal(t, want.Kwargs, roundTrip(t, got.PythonKwargs()))
	assert.Equal(t, want.KwargKeys, got.PythonKwargKeys())
}

// roundTrip gives a value the shape encoding/json decodes it into.
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var out T
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}

// TestCatalogGolden replays karbor's own exception classes (frozen by
// make_exception_golden.py): class tree, codes, templates, and the message,
// args and kwargs of three constructions of each.
func TestCatalogGolden(t *testing.T) {
	for _, g := range loadCatalogGolden(t) {
		t.Run(g.Class, func(t *testing.T) {
			c, ok := LookupClass(g.Class)
			require.True(t, ok, "class missing from the catalog")
			assert.Equal(t, g.Code, c.Code())
			assert.Equal(t, g.Template, c.Template())
			if g.Parent == "Exception" {
				assert.Nil(t, c.Parent())
			} else if assert.NotNil(t, c.Parent()) {
				assert.Equal(t, g.Parent, c.Parent().Name())
			}
			var kw []Kwarg
			for _, name := range c.KwargNames() {
				v := g.Full.KwargsIn[name]
				if f, isNum := v.(float64); isNum {
					v = int(f)
				}
				kw = append(kw, Kwarg{name, v})
			}
			assert.Len(t, kw, len(g.Full.KwargsIn), "template kwargs")
			assertFailure(t, g.Full, reorder(c.New(kw...), g.Full.KwargKeys))
			assertFailure(t, g.Empty, c.New())
			assertFailure(t, g.Message, c.NewWithMessage("a free-text message"))
		})
	}
}

// reorder rebuilds err with its kwargs in the given key order, for classes
// whose usual kwargs order (that of the constructors) is not the template's.
func reorder(err *Error, keys []string) *Error {
	var kw []Kwarg
	for _, k := range keys {
		v, _ := err.Kwarg(k)
		kw = append(kw, Kwarg{k, v})
	}
	return err.class.New(kw...)
}

func TestConstructors(t *testing.T) {
	golden := map[string]goldenClass{}
	for _, g := range loadCatalogGolden(t) {
		golden[g.Class] = g
	}
	require.Len(t, constructorCalls, len(golden)-1, "one constructor per class but KarborException")
	for _, call := range constructorCalls {
		t.Run(call.class, func(t *testing.T) {
			g := golden[call.class]
			assert.Equal(t, call.class, call.err.PythonClass())
			assert.Equal(t, ExceptionModule, call.err.PythonModule())
			assert.Equal(t, g.Full.Message, call.err.Error())
			assert.Equal(t, g.Full.Args, roundTrip(t, call.err.PythonArgs()))
			assert.Equal(t, g.Full.Kwargs, roundTrip(t, call.err.PythonKwargs()))
		})
	}
	free := KarborException("Failed to create delete checkpoint flow.")
	assert.Equal(t, "Failed to create delete checkpoint flow.", free.Error())
	assert.Equal(t, map[string]any{"code": 500}, free.PythonKwargs())
	assert.Equal(t, "An unknown exception occurred.", KarborException("").Error())
}

// sessionFailure is a failure recorded in pkg/karbortest's session, with its
// kwargs in wire order.
type sessionFailure struct {
	Method    string
	Class     string
	Module    string
	Message   string
	Args      []any
	Kwargs    map[string]any
	KwargKeys []string
}

func sessionFailures(t *testing.T) []sessionFailure {
	t.Helper()
	var out []sessionFailure
	for _, e := range karbortest.Session(t) {
		if e.Failure != nil {
			out = append(out, decodeFailure(t, e.Method, e.Failure.Text))
		}
	}
	return out
}

func decodeFailure(t *testing.T, method, failure string) sessionFailure {
	t.Helper()
	var f struct {
		Class   string          `json:"class"`
		Module  string          `json:"module"`
		Message string          `json:"message"`
		Args    []any           `json:"args"`
		Kwargs  json.RawMessage `json:"kwargs"`
	}
	require.NoError(t, json.Unmarshal([]byte(failure), &f))
	s := sessionFailure{Method: method, Class: f.Class, Module: f.Module, Message: f.Message, Args: f.Args}
	require.NoError(t, json.Unmarshal(f.Kwargs, &s.Kwargs))
	dec := json.NewDecoder(bytes.NewReader(f.Kwargs))
	_, _ = dec.Token()
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		s.KwargKeys = append(s.KwargKeys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return s
}

// TestSessionFailures builds, with the constructors, every failure the real
// Python service sent in the recorded API session and compares what goes on
// the wire.
func TestSessionFailures(t *testing.T) {
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	build := map[string]func(kw map[string]any) *Error{
		"ProviderNotFound": func(kw map[string]any) *Error { return ProviderNotFound(str(kw, "provider_id")) },
		"FlowError":        func(kw map[string]any) *Error { return FlowError(str(kw, "flow"), str(kw, "error")) },
		"CheckpointNotFound": func(kw map[string]any) *Error {
			return CheckpointNotFound(str(kw, "checkpoint_id"))
		},
		"ListProtectableResourceFailed": func(kw map[string]any) *Error {
			return ListProtectableResourceFailed(str(kw, "type"), str(kw, "reason"))
		},
		"ProtectableResourceNotFound": func(kw map[string]any) *Error {
			return ProtectableResourceNotFound(str(kw, "id"), str(kw, "type"), str(kw, "reason"))
		},
	}
	failures := sessionFailures(t)
	require.Len(t, failures, 5)
	for _, f := range failures {
		t.Run(f.Method+"/"+f.Class, func(t *testing.T) {
			ctor, ok := build[f.Class]
			require.True(t, ok, "no constructor mapped for %s", f.Class)
			got := ctor(f.Kwargs)
			assert.Equal(t, f.Module, got.PythonModule())
			assert.Equal(t, f.Class, got.PythonClass())
			assert.Equal(t, f.Message, got.Error())
			assert.Equal(t, f.Args, roundTrip(t, got.PythonArgs()))
			assert.Equal(t, f.Kwargs, roundTrip(t, got.PythonKwargs()))
			assert.Equal(t, f.KwargKeys, got.PythonKwargKeys())
		})
	}
}

// TestOsloFixtureFailures checks the single-message fixtures of oslo: a
// karbor exception and two builtins.
func TestOsloFixtureFailures(t *testing.T) {
	tests := []struct {
		file string
		err  rpc.RemoteException
	}{
		{"reply_failure_karbor_exception.json", ProviderNotFound("prov-9")},
		{"reply_failure_builtin_keyerror.json", KeyError("missing")},
		{"reply_failure_builtin_valueerror.json", NewBuiltin("ValueError", "bad value", 42)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			var msg struct {
				Body string `json:"body"`
			}
			require.NoError(t, json.Unmarshal(data, &msg))
			var env struct {
				Message string `json:"oslo.message"`
			}
			require.NoError(t, json.Unmarshal([]byte(msg.Body), &env))
			var reply struct {
				Failure string `json:"failure"`
			}
			require.NoError(t, json.Unmarshal([]byte(env.Message), &reply))
			want := decodeFailure(t, "", reply.Failure)
			assert.Equal(t, want.Module, tt.err.PythonModule())
			assert.Equal(t, want.Class, tt.err.PythonClass())
			assert.Equal(t, want.Message, tt.err.Error())
			assert.Equal(t, want.Args, roundTrip(t, tt.err.PythonArgs()))
			assert.Equal(t, want.Kwargs, roundTrip(t, tt.err.PythonKwargs()))
		})
	}
}

func TestErrorsIs(t *testing.T) {
	var err error = fmt.Errorf("show: %w", CheckpointNotFound("c1"))
	assert.ErrorIs(t, err, ExcCheckpointNotFound)
	assert.ErrorIs(t, err, ExcNotFound)
	assert.ErrorIs(t, err, ExcKarborException)
	assert.NotErrorIs(t, err, ExcInvalid)
	assert.NotErrorIs(t, err, ExcProviderNotFound)

	var kerr *Error
	require.ErrorAs(t, err, &kerr)
	assert.Equal(t, 404, kerr.Code())
	assert.Equal(t, ExcCheckpointNotFound, kerr.Class())
	assert.True(t, kerr.Class().IsA(ExcNotFound))
	v, ok := kerr.Kwarg("checkpoint_id")
	assert.True(t, ok)
	assert.Equal(t, "c1", v)

	assert.ErrorIs(t, DeleteCheckpointNotAllowed("c"), ExcNotAuthorized)
	assert.ErrorIs(t, InvalidTaskFlowObject("r"), ExcInvalid)
	assert.ErrorIs(t, CheckpointLimitExceeded(3), ExcQuotaError)
	assert.Equal(t, "karbor.exception.NotFound", ExcNotFound.Error())
	assert.False(t, errors.Is(KeyError("x"), ExcNotFound))
}

func TestKwargValues(t *testing.T) {
	osErr := NewBuiltin("OSError", "Object is not a file")
	e := ExcBankGetObjectFailed.New(Kwarg{"reason", osErr}, Kwarg{"key", "/checkpoints/x/index.json"})
	assert.Equal(t, "Get Object /checkpoints/x/index.json in Bank Failed: Object is not a file", e.Error())
	assert.Equal(t, "OSError('Object is not a file')", e.PythonKwargs()["reason"], "exceptions travel as their repr")
	plain := ExcBankGetObjectFailed.New(Kwarg{"reason", errors.New("disk on fire")}, Kwarg{"key", "k"})
	assert.Equal(t, "disk on fire", plain.PythonKwargs()["reason"])

	dup := ExcFlowError.New(Kwarg{"flow", "a"}, Kwarg{"error", "x"}, Kwarg{"flow", "b"})
	assert.Equal(t, "Flow: b, Error: x", dup.Error())
	assert.Equal(t, []string{"flow", "error", "code"}, dup.PythonKwargKeys())

	code := ExcQuotaError.New(Kwarg{"code", 429})
	assert.Equal(t, "Quota exceeded: code=429", code.Error())
	assert.Equal(t, 413, code.Code(), "the class code, as the API re-creates it")

	bad := ExcPlanLimitExceeded.New(Kwarg{"allowed", "many"})
	assert.Equal(t, "Maximum number of plans allowed (%(allowed)d) exceeded", bad.Error(), "unformattable: bare template")
}

func TestClasses(t *testing.T) {
	all := Classes()
	require.Len(t, all, 77)
	for i := 1; i < len(all); i++ {
		assert.Less(t, all[i-1].Name(), all[i].Name())
	}
	_, ok := LookupClass("SwiftConnectionFailed")
	assert.False(t, ok)
	assert.Panics(t, func() { newClass("NotFound", nil, 1, "") })
}
