package rpc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Our client calls a real Python oslo.messaging server.
func TestGoClientCallsPythonServer(t *testing.T) {
	url := rpctest.Vhost(t)
	spec := pySpec(url)
	spec.Server = "pyhost"
	py := rpctest.StartPythonServer(t, spec)
	c := dialClient(t, url, nil)
	ctx := context.Background()
	target := Target{Topic: testTopic, Version: "1.0"}

	t.Run("results", func(t *testing.T) {
		tests := []struct {
			target Target
			method string
			args   map[string]any
			want   string
		}{
			{target, "echo", map[string]any{"a": 1, "s": "Grüße <&>"}, `{"echo": {"a": 1, "s": "Grüße <&>"}, "ctx_user_id": "u-1234", "ctx_request_id": "req-go"}`},
			{target, "ret_list", nil, `[1, "two", 3.5, true, null, {"k": "v"}]`},
			{target, "ret_str", nil, `"hello"`},
			{target, "ret_none", nil, `null`},
			{Target{Topic: testTopic, Server: "pyhost"}, "ret_str", nil, `"hello"`},
			{Target{Topic: testTopic, Namespace: "other", Version: "2.1"}, "ns_echo", map[string]any{"x": 8}, `{"ns": "other", "x": 8}`},
		}
		for _, tt := range tests {
			t.Run(tt.method, func(t *testing.T) {
				got, err := c.Call(ctx, tt.target, tt.method, tt.args, karborContext("req-go"))
				require.NoError(t, err)
				assert.JSONEq(t, tt.want, string(got))
			})
		}
	})

	t.Run("exceptions", func(t *testing.T) {
		tests := []struct {
			method  string
			target  Target
			args    map[string]any
			module  string
			class   string
			message string
			kwargs  map[string]any
		}{
			{"fail", target, map[string]any{"provider_id": "prov-9"}, "karbor.exception", "ProviderNotFound", "Provider prov-9 could not be found.",
				map[string]any{"provider_id": "prov-9", "code": float64(404)}},
			{"fail_builtin", target, nil, "builtins", "ValueError", "('bad value', 42)", map[string]any{}},
			{"fail_keyerror", target, nil, "builtins", "KeyError", "'missing'", map[string]any{}},
			{"nope", target, nil, DispatcherModule, "NoSuchMethod", "Endpoint does not support RPC method nope", map[string]any{}},
			{"echo", Target{Topic: testTopic, Version: "1.1"}, nil, DispatcherModule, "UnsupportedVersion",
				"Endpoint does not support RPC version 1.1. Attempted method: echo", map[string]any{}},
			{"ret_none", target, map[string]any{"bogus": 1}, "builtins", "TypeError",
				"Endpoint.ret_none() got an unexpected keyword argument 'bogus'", map[string]any{}},
		}
		for _, tt := range tests {
			t.Run(tt.class, func(t *testing.T) {
				_, err := c.Call(ctx, tt.target, tt.method, tt.args, karborContext("req-go"))
				var re *RemoteError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tt.module, re.Module)
				assert.Equal(t, tt.class, re.Class)
				assert.Equal(t, tt.message, re.Message)
				assert.Equal(t, tt.kwargs, re.Kwargs)
				require.NotEmpty(t, re.Traceback)
				assert.Equal(t, "Traceback (most recent call last):\n", re.Traceback[0])
			})
		}
	})

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		_, err := c.Call(ctx, Target{Topic: testTopic, Timeout: 500 * time.Millisecond}, "slow", map[string]any{"seconds": 2}, nil)
		assert.ErrorIs(t, err, ErrTimeout)
		assert.Less(t, time.Since(start), 2*time.Second)

		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err = c.Call(cctx, Target{Topic: testTopic}, "slow", map[string]any{"seconds": 2}, nil)
		assert.ErrorIs(t, err, ErrTimeout, "the context deadline is the call timeout")
	})

	t.Run("call monitor", func(t *testing.T) {
		got, err := c.Call(ctx, Target{Topic: testTopic, Timeout: 20 * time.Second, CallMonitorTimeout: 2 * time.Second},
			"slow", map[string]any{"seconds": 3}, nil)
		require.NoError(t, err, "heartbeats every second keep the 2 s monitor alive for 3 s")
		assert.JSONEq(t, `"slept 3"`, string(got))
	})

	t.Run("casts", func(t *testing.T) {
		for i, tg := range []Target{{Topic: testTopic}, {Topic: testTopic, Server: "pyhost"}, {Topic: testTopic, Fanout: true}} {
			tag := []string{"topic", "server", "fanout"}[i]
			require.NoError(t, c.Cast(ctx, tg, "echo", map[string]any{"cast": tag}, karborContext("req-cast-"+tag)))
			ev := py.WaitEvent(t, func(ev rpctest.PyEvent) bool { return ev.Method == "echo" && ev.Args["cast"] == tag }, 10*time.Second)
			assert.Equal(t, "req-cast-"+tag, ev.Context["request_id"], "context flattened and rebuilt")
			assert.Equal(t, []any{"member", "reader"}, ev.Context["roles"])
		}
	})

	t.Run("invalid targets", func(t *testing.T) {
		_, err := c.Call(ctx, Target{Topic: testTopic, Fanout: true}, "echo", nil, nil)
		assert.ErrorIs(t, err, ErrInvalidTarget)
		assert.ErrorIs(t, c.Cast(ctx, Target{}, "echo", nil, nil), ErrInvalidTarget)
		_, err = c.Call(ctx, target, "echo", []int{1}, nil)
		assert.Error(t, err)
	})

	t.Run("no server gives a timeout", func(t *testing.T) {
		_, err := c.Call(ctx, Target{Topic: "nobody-listens", Timeout: 300 * time.Millisecond}, "echo", nil, nil)
		assert.ErrorIs(t, err, ErrTimeout)
	})

	t.Run("closed client", func(t *testing.T) {
		c2 := dialClient(t, url, nil)
		done := make(chan error, 1)
		go func() {
			_, err := c2.Call(ctx, Target{Topic: testTopic}, "slow", map[string]any{"seconds": 2}, nil)
			done <- err
		}()
		py.WaitEvent(t, func(ev rpctest.PyEvent) bool { return ev.Method == "slow" && ev.Args["seconds"] == float64(2) }, 10*time.Second)
		c2.Close()
		select {
		case err := <-done:
			assert.True(t, errors.Is(err, ErrClosed), "%v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not end the call")
		}
		_, err := c2.Call(ctx, target, "ret_str", nil, nil)
		assert.Error(t, err)
	})
}

// The declarations of the Go server and client are equivalent to oslo's:
// a Python client and server share the broker with them, and the
// management API shows oslo's topology (docs/karbor-behaviour.md#topology).
func TestTopologyOnTheBroker(t *testing.T) {
	url := rpctest.Vhost(t)
	srv := startServer(t, url, nil)
	c := dialClient(t, url, nil)
	spec := pySpec(url)
	spec.Server = testHost
	rpctest.StartPythonServer(t, spec) // re-declares everything: a 406 would kill it
	_, err := c.Call(context.Background(), Target{Topic: testTopic, Server: testHost}, "ret_str", nil, nil)
	require.NoError(t, err)

	queues := map[string]rpctest.Queue{}
	for _, q := range rpctest.Queues(t, url) {
		queues[q.Name] = q
	}
	for _, name := range []string{testTopic, testTopic + "." + testHost} {
		q, ok := queues[name]
		require.True(t, ok, name)
		assert.False(t, q.Durable, name)
		assert.False(t, q.AutoDelete, name)
		assert.Empty(t, q.Arguments, name)
	}
	fq, ok := queues[srv.FanoutQueue()]
	require.True(t, ok)
	assert.Equal(t, map[string]any{"x-expires": float64(1800000)}, fq.Arguments)
	rq, ok := queues[c.ReplyQueue()]
	require.True(t, ok)
	assert.Equal(t, map[string]any{"x-expires": float64(1800000)}, rq.Arguments)
	assert.False(t, rq.Durable || rq.AutoDelete || rq.Exclusive)

	exchanges := map[string]rpctest.Exchange{}
	for _, x := range rpctest.Exchanges(t, url) {
		exchanges[x.Name] = x
	}
	assert.Equal(t, rpctest.Exchange{Name: testExchange, Type: "topic", Arguments: map[string]any{}}, exchanges[testExchange])
	assert.Equal(t, rpctest.Exchange{Name: testTopic + "_fanout", Type: "fanout", AutoDelete: true, Arguments: map[string]any{}}, exchanges[testTopic+"_fanout"])

	srv.stop()
	for _, q := range rpctest.Queues(t, url) {
		assert.NotEqual(t, srv.FanoutQueue(), q.Name, "graceful stop deletes the fanout queue")
	}
}

// Deployments with non-default queue options: every party (Go server, Python
// server re-declaring the same queues, Python and Go clients declaring the
// exchange) must agree, or someone gets a 406.
func TestTopologyVariantsInterop(t *testing.T) {
	tests := []struct {
		name, query string
		check       func(t *testing.T, q rpctest.Queue)
	}{
		{"durable", "amqp_durable_queues=true", func(t *testing.T, q rpctest.Queue) {
			assert.True(t, q.Durable)
		}},
		{"quorum", "rabbit_quorum_queue=true&rabbit_quorum_delivery_limit=5", func(t *testing.T, q rpctest.Queue) {
			assert.Equal(t, "quorum", q.Type)
			assert.Equal(t, float64(5), q.Arguments["x-delivery-limit"])
		}},
		{"ha, ttl and auto-delete", "rabbit_ha_queues=true&rabbit_transient_queues_ttl=600&amqp_auto_delete=true", func(t *testing.T, q rpctest.Queue) {
			assert.Equal(t, "all", q.Arguments["x-ha-policy"])
			assert.True(t, q.AutoDelete)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := rpctest.Vhost(t)
			url := base + "?" + tt.query
			startServer(t, url, nil)
			spec := pySpec(url)
			spec.Server = "pyhost"
			rpctest.StartPythonServer(t, spec)
			py := rpctest.StartPythonClient(t, pySpec(url))
			out := py.Do(t, rpctest.PyCall{Method: "ret_str", Server: testHost, Timeout: 20})
			require.Nil(t, out.Exception, "%+v", out.Exception)
			c := dialClient(t, url, nil)
			got, err := c.Call(context.Background(), Target{Topic: testTopic, Server: "pyhost", Timeout: 20 * time.Second}, "ret_str", nil, nil)
			require.NoError(t, err, "the Python server consumes: its declarations matched ours")
			assert.JSONEq(t, `"hello"`, string(got))
			found := false
			for _, q := range rpctest.Queues(t, url) {
				if q.Name == testTopic {
					found = true
					tt.check(t, q)
				}
			}
			require.True(t, found)

			if tt.name == "durable" {
				// A Go client with the default (non-durable) options is
				// refused at once, as a Python one would be.
				c := dialClient(t, base, nil)
				_, err := c.Call(context.Background(), Target{Topic: testTopic, Timeout: 10 * time.Second}, "ret_str", nil, nil)
				require.Error(t, err)
				assert.NotErrorIs(t, err, ErrTimeout)
				assert.Contains(t, err.Error(), "inequivalent arg 'durable'")
			}
		})
	}
}

// kombu_compression=gzip on every party: bodies travel zlib-compressed with
// the "compression" header, both ways.
func TestCompressedInterop(t *testing.T) {
	url := rpctest.Vhost(t) + "?kombu_compression=gzip"
	startServer(t, url, nil)
	py := rpctest.StartPythonClient(t, pySpec(url))
	out := py.Do(t, rpctest.PyCall{Method: "echo", Args: map[string]any{"a": "Grüße"}, Context: karborContext("req-z"), Timeout: 20})
	require.Nil(t, out.Exception, "%+v", out.Exception)
	assert.JSONEq(t, `{"echo": {"a": "Grüße"}, "ctx_user_id": "u-1234", "ctx_request_id": "req-z"}`, string(out.Result))

	c := dialClient(t, url, nil)
	got, err := c.Call(context.Background(), Target{Topic: testTopic}, "ret_list", nil, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `[1, "two", 3.5, true, null, {"k": "v"}]`, string(got))
}
