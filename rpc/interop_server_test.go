package rpc

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real Python RPCClient (karbor-api's side) calls our server.
func TestPythonClientCallsGoServer(t *testing.T) {
	url := rpctest.Vhost(t)
	rec := &callRecorder{}
	srv := startServer(t, url, nil, demoEndpoints(demoOptions{sleepUnit: time.Second, onCall: rec.record})...)
	py := rpctest.StartPythonClient(t, pySpec(url))

	t.Run("results", func(t *testing.T) {
		tests := []struct {
			call PyCallCase
			want string
		}{
			{PyCallCase{method: "echo", args: map[string]any{"a": 1, "b": "two", "c": []any{1, 2}, "d": map[string]any{"x": nil}, "e": 1.5, "f": true}},
				`{"echo": {"a": 1, "b": "two", "c": [1, 2], "d": {"x": null}, "e": 1.5, "f": true}, "ctx_user_id": "u-1234", "ctx_request_id": "req-results"}`},
			{PyCallCase{method: "ret_list"}, `[1, "two", 3.5, true, null, {"k": "v"}]`},
			{PyCallCase{method: "ret_str"}, `"hello"`},
			{PyCallCase{method: "ret_none"}, `null`},
			{PyCallCase{method: "echo", args: map[string]any{"text": "Grüße €😀 <&>", "big": json.Number("1180591620717411303424")}},
				`{"echo": {"text": "Grüße €😀 <&>", "big": 1180591620717411303424}, "ctx_user_id": "u-1234", "ctx_request_id": "req-results"}`},
			{PyCallCase{method: "ns_echo", namespace: "other", version: "2.0", args: map[string]any{"x": 8}}, `{"ns": "other", "x": 8}`},
			{PyCallCase{method: "echo", server: testHost, args: map[string]any{"a": 3}},
				`{"echo": {"a": 3}, "ctx_user_id": "u-1234", "ctx_request_id": "req-results"}`},
		}
		for _, tt := range tests {
			t.Run(tt.call.method, func(t *testing.T) {
				out := py.Do(t, tt.call.py("req-results"))
				require.Nil(t, out.Exception, "%+v", out.Exception)
				assert.JSONEq(t, tt.want, string(out.Result))
			})
		}
	})

	t.Run("failures", func(t *testing.T) {
		t.Run("karbor exception allowed", func(t *testing.T) {
			out := py.Do(t, PyCallCase{method: "fail", args: map[string]any{"provider_id": "prov-9"}}.py("req-f1"))
			e := out.Exception
			require.NotNil(t, e)
			assert.Equal(t, "ProviderNotFound_Remote", e.Class)
			assert.Equal(t, "karbor.exception_Remote", e.Module)
			assert.True(t, e.IsA("karbor.exception.ProviderNotFound"), "%v", e.MRO)
			assert.True(t, e.IsA("karbor.exception.NotFound"))
			assert.Equal(t, map[string]any{"provider_id": "prov-9", "code": float64(404)}, e.Kwargs)
			assert.Equal(t, float64(404), e.Code)
			assert.Equal(t, "Provider prov-9 could not be found.", e.Msg)
			assert.True(t, strings.HasPrefix(e.Str, "Provider prov-9 could not be found.\n"), e.Str)
			assert.False(t, e.IsRemoteError)
		})
		t.Run("builtins", func(t *testing.T) {
			out := py.Do(t, PyCallCase{method: "fail_builtin"}.py("req-f2"))
			require.NotNil(t, out.Exception)
			assert.Equal(t, "ValueError", out.Exception.Class)
			assert.Equal(t, "builtins", out.Exception.Module)
			// Python cannot swap a builtin's class: it prefixes args[0] with
			// the message and the remote traceback instead.
			require.Len(t, out.Exception.Args, 2)
			assert.True(t, strings.HasPrefix(out.Exception.Args[0].(string), "('bad value', 42)\nTraceback"), out.Exception.Args[0])
			assert.Equal(t, float64(42), out.Exception.Args[1])

			out = py.Do(t, PyCallCase{method: "fail_keyerror"}.py("req-f3"))
			require.NotNil(t, out.Exception)
			assert.Equal(t, "KeyError", out.Exception.Class)
		})
		t.Run("oslo dispatcher errors arrive as RemoteError", func(t *testing.T) {
			for _, c := range []struct {
				call     PyCallCase
				excType  string
				contains string
			}{
				{PyCallCase{method: "no_such_method"}, "NoSuchMethod", "Endpoint does not support RPC method no_such_method"},
				{PyCallCase{method: "_private"}, "NoSuchMethod", "Endpoint does not support RPC method _private"},
				{PyCallCase{method: "echo", version: "1.1"}, "UnsupportedVersion", "Endpoint does not support RPC version 1.1. Attempted method: echo"},
				{PyCallCase{method: "echo", version: "2.0"}, "UnsupportedVersion", "Endpoint does not support RPC version 2.0. Attempted method: echo"},
				{PyCallCase{method: "echo", namespace: "nonexistent"}, "UnsupportedVersion", "Endpoint does not support RPC version 1.0. Attempted method: echo"},
				{PyCallCase{method: "fail_plain"}, "RuntimeError", ""},
				{PyCallCase{method: "panic"}, "RuntimeError", "handler bug"},
			} {
				t.Run(c.call.method+c.call.version+c.call.namespace, func(t *testing.T) {
					out := py.Do(t, c.call.py("req-d"))
					e := out.Exception
					require.NotNil(t, e)
					if c.excType == "RuntimeError" {
						assert.Equal(t, "RuntimeError", e.Class, "builtins are rebuilt, not RemoteError")
						assert.Contains(t, e.Str, c.contains)
						return
					}
					assert.True(t, e.IsRemoteError, "%+v", e)
					assert.Equal(t, c.excType, e.ExcType)
					assert.Equal(t, c.contains, e.Value)
				})
			}
		})
		t.Run("wrong arguments are a TypeError", func(t *testing.T) {
			out := py.Do(t, PyCallCase{method: "ret_none", args: map[string]any{"bogus": 1}}.py("req-t1"))
			require.NotNil(t, out.Exception)
			assert.Equal(t, "TypeError", out.Exception.Class)
			assert.True(t, strings.HasPrefix(out.Exception.Str, "Endpoint.ret_none() got an unexpected keyword argument 'bogus'\n"), out.Exception.Str)

			out = py.Do(t, PyCallCase{method: "slow"}.py("req-t2"))
			require.NotNil(t, out.Exception)
			assert.Equal(t, "TypeError", out.Exception.Class)
			assert.True(t, strings.HasPrefix(out.Exception.Str, "Endpoint.slow() missing 1 required positional argument: 'seconds'\n"), out.Exception.Str)
		})
		t.Run("karbor module not allowed gives RemoteError", func(t *testing.T) {
			spec := pySpec(url)
			spec.AllowedRemoteExmods = []string{}
			strict := rpctest.StartPythonClient(t, spec)
			out := strict.Do(t, PyCallCase{method: "fail", args: map[string]any{"provider_id": "p"}}.py("req-r"))
			require.NotNil(t, out.Exception)
			assert.True(t, out.Exception.IsRemoteError)
			assert.Equal(t, "ProviderNotFound", out.Exception.ExcType)
			assert.Equal(t, "Provider p could not be found.", out.Exception.Value)
		})
	})

	t.Run("python timeout against a slow handler", func(t *testing.T) {
		start := time.Now()
		out := py.Do(t, PyCallCase{method: "slow", args: map[string]any{"seconds": 3}, timeout: 1}.py("req-slow"))
		require.NotNil(t, out.Exception)
		assert.True(t, out.Exception.IsTimeout, "%+v", out.Exception)
		assert.Equal(t, "MessagingTimeout", out.Exception.Class)
		assert.Less(t, time.Since(start), 3*time.Second)
	})

	t.Run("call monitor heartbeats keep a slow call alive", func(t *testing.T) {
		out := py.Do(t, PyCallCase{method: "slow", args: map[string]any{"seconds": 3}, timeout: 20, callMonitor: 2}.py("req-cm"))
		require.Nil(t, out.Exception, "%+v", out.Exception)
		assert.JSONEq(t, `"slept 3"`, string(out.Result))
		require.Eventually(t, func() bool { return len(srv.logs.Lines("Sent call-monitor heartbeat", "req-cm")) >= 2 }, 5*time.Second, 50*time.Millisecond)
	})

	t.Run("casts reach the server", func(t *testing.T) {
		for _, c := range []PyCallCase{
			{op: "cast", method: "echo", args: map[string]any{"kind": "topic"}},
			{op: "cast", method: "echo", server: testHost, args: map[string]any{"kind": "server"}},
			{op: "cast", method: "echo", fanout: true, args: map[string]any{"kind": "fanout"}},
		} {
			out := py.Do(t, c.py("req-cast"))
			require.Nil(t, out.Exception)
		}
		for _, kind := range []string{"topic", "server", "fanout"} {
			require.Eventually(t, func() bool { return rec.has("echo", `"kind":"`+kind+`"`) }, 10*time.Second, 20*time.Millisecond, kind)
		}
	})

	t.Run("every line about a request carries its request_id", func(t *testing.T) {
		out := py.Do(t, PyCallCase{method: "fail", args: map[string]any{"provider_id": "x"}}.py("req-logged"))
		require.NotNil(t, out.Exception)
		lines := srv.logs.Lines(`"method":"fail"`, `"provider_id`)
		lines = append(lines, srv.logs.Lines("Provider x could not")...)
		require.NotEmpty(t, lines)
		for _, l := range lines {
			assert.Contains(t, l, `"request_id":"req-logged"`)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, c := range rec.calls {
			assert.Equal(t, c.requestID, c.logged.Data["request_id"], "the handler's ctx carries the entry")
		}
	})
}

// PyCallCase is a compact PyCall for tables; the request context is karbor's.
type PyCallCase struct {
	op, method, server, version, namespace string
	fanout                                 bool
	args                                   map[string]any
	timeout, callMonitor                   float64
}

func (c PyCallCase) py(requestID string) rpctest.PyCall {
	return rpctest.PyCall{
		Op: c.op, Method: c.method, Args: c.args, Context: karborContext(requestID), Server: c.server,
		Fanout: c.fanout, Timeout: c.timeout, Version: c.version, Namespace: c.namespace, CallMonitorTimeout: c.callMonitor,
	}
}
