package rpc

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
)

const (
	testExchange = "karbor"
	testTopic    = "karbor-protection"
	testHost     = "host1"
)

// testMaxInflated is the decompression limit of unit tests that decode
// bodies directly: the default.
const testMaxInflated = DefaultMaxDecompressedSize

// fastOptions reconnect quickly, so that reliability tests stay short.
func fastOptions() *RabbitOptions {
	o := DefaultRabbitOptions()
	o.KombuReconnectDelay = 100 * time.Millisecond
	o.RabbitRetryInterval = 200 * time.Millisecond
	o.RabbitRetryBackoff = 200 * time.Millisecond
	o.RabbitIntervalMax = time.Second
	return &o
}

// logBuffer records log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the lines that contain every one of subs.
func (b *logBuffer) Lines(subs ...string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		ok := l != ""
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

func newTestLogger() (*logrus.Entry, *logBuffer) {
	buf := &logBuffer{}
	l := logrus.New()
	l.SetOutput(buf)
	l.SetLevel(logrus.DebugLevel)
	l.SetFormatter(&logrus.JSONFormatter{})
	return logrus.NewEntry(l), buf
}

type testServer struct {
	*Server
	logs *logBuffer
	stop func() // cancels Run and waits for it
}

// startServer runs a server on url until the test ends (or stop).
func startServer(t *testing.T, url string, mutate func(*ServerConfig), endpoints ...*Endpoint) *testServer {
	t.Helper()
	log, logs := newTestLogger()
	cfg := ServerConfig{
		TransportURL: url, Exchange: testExchange, Topic: testTopic, Server: testHost,
		Rabbit: fastOptions(), Logger: log, GracefulTimeout: 10 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	if len(endpoints) == 0 {
		endpoints = demoEndpoints(demoOptions{sleepUnit: time.Second})
	}
	s, err := NewServer(cfg, endpoints...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(60 * time.Second):
				t.Errorf("Server.Run did not return 60 s after cancel")
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("server stopped before consuming: %v\n%s", err, logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("server not consuming after 30 s: %v\n%s", s.Health(), logs)
	}
	return &testServer{Server: s, logs: logs, stop: stop}
}

// dialClient connects a Go client to url until the test ends.
func dialClient(t testing.TB, url string, mutate func(*ClientConfig)) *Client {
	t.Helper()
	log, logs := newTestLogger()
	cfg := ClientConfig{TransportURL: url, Exchange: testExchange, Rabbit: fastOptions(), Logger: log, ResponseTimeout: 30 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			t.Logf("client log:\n%s", logs)
		}
	})
	return c
}

func pySpec(url string) rpctest.Spec {
	return rpctest.Spec{URL: url, Exchange: testExchange, Topic: testTopic}
}

// karborContext is a karbor RequestContext.to_dict() as karbor-api sends it.
func karborContext(requestID string) map[string]any {
	return map[string]any{
		"user": "u-1234", "project_id": "p-5678", "system_scope": nil, "project": "p-5678",
		"domain": nil, "user_domain": "default", "project_domain": "default", "is_admin": false,
		"read_only": false, "show_deleted": false, "auth_token": "gAAAAA-token", "request_id": requestID,
		"global_request_id": nil, "resource_uuid": nil, "roles": []string{"member", "reader"},
		"user_identity": "u-1234 p-5678 - default default", "is_admin_project": true, "user_id": "u-1234",
		"project_name": "demo", "read_deleted": "no", "remote_address": "10.0.0.5",
		"timestamp": "2024-01-02T03:04:05.678901", "quota_class": nil, "service_catalog": []any{},
		"auth_token_info": map[string]any{"token": map[string]any{"methods": []string{"password"}}},
	}
}

// waitGoroutines waits until the goroutine count is back to at most base
// (plus slack for runtime helpers), failing after within.
func waitGoroutines(t *testing.T, base int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= base+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, baseline %d, after %s:\n%s", n, base, within, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// callRecorder records the calls a demo endpoint saw (demoOptions.onCall).
type callRecorder struct {
	mu    sync.Mutex
	calls []recordedCall
}

type recordedCall struct {
	method    string
	args      string
	requestID string
	logged    *logrus.Entry
}

func (r *callRecorder) record(ctx context.Context, c *Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, recordedCall{method: c.Method, args: string(c.Args), requestID: c.RequestID(), logged: logctx.From(ctx)})
}

// has reports whether method was called with args containing argsPart.
func (r *callRecorder) has(method, argsPart string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		if c.method == method && strings.Contains(strings.ReplaceAll(c.args, " ", ""), argsPart) {
			return true
		}
	}
	return false
}

func (r *callRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}
