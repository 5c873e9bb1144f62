package opshttp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start runs a server on a free local port until the test ends and returns
// its base URL.
func start(t *testing.T, s *Server) string {
	t.Helper()
	addr, err := s.Listen()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = s.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		assert.NoError(t, runErr)
	})
	return "http://" + addr.String()
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

func TestHealthz(t *testing.T) {
	base := start(t, New(Options{Addr: "127.0.0.1:0"}))
	code, body := get(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"status": "alive"}`, string(body))
}

func TestReadyz(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name     string
		checks   []Check
		wantCode int
		wantBody string
	}{
		{"no checks", nil, http.StatusOK, `{"status": "ready", "checks": []}`},
		{"all pass", []Check{{"broker", ok}, {"database", ok}}, http.StatusOK,
			`{"status": "ready", "checks": [{"name": "broker", "ok": true}, {"name": "database", "ok": true}]}`},
		{"one fails", []Check{{"broker", down}, {"bank noop", ok}}, http.StatusServiceUnavailable,
			`{"status": "not ready", "checks": [{"name": "broker", "ok": false, "error": "connection refused"}, {"name": "bank noop", "ok": true}]}`},
		{"a probe that hangs times out", []Check{{"bank swift", slow}}, http.StatusServiceUnavailable,
			`{"status": "not ready", "checks": [{"name": "bank swift", "ok": false, "error": "context deadline exceeded"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := start(t, New(Options{Addr: "127.0.0.1:0", Checks: tc.checks, ProbeTimeout: 50 * time.Millisecond}))
			code, body := get(t, base+"/readyz")
			assert.Equal(t, tc.wantCode, code)
			assert.JSONEq(t, tc.wantBody, string(body))
		})
	}
}

func TestReadyzFollowsTheProbes(t *testing.T) {
	var broken atomic.Bool
	base := start(t, New(Options{Addr: "127.0.0.1:0", Checks: []Check{{"broker", func(context.Context) error {
		if broken.Load() {
			return errors.New("not consuming")
		}
		return nil
	}}}}))
	for _, b := range []bool{false, true, false} {
		broken.Store(b)
		code, body := get(t, base+"/readyz")
		var r readiness
		require.NoError(t, json.Unmarshal(body, &r))
		if b {
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Equal(t, "not ready", r.Status)
		} else {
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, "ready", r.Status)
		}
	}
}

func TestHandleMountsHandlers(t *testing.T) {
	s := New(Options{Addr: "127.0.0.1:0"})
	s.Handle("/metrics", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "up 1\n") }))
	base := start(t, s)
	code, body := get(t, base+"/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "up 1\n", string(body))
	code, _ = get(t, base+"/nothing")
	assert.Equal(t, http.StatusNotFound, code)
}

func TestListenErrors(t *testing.T) {
	s := New(Options{Addr: "127.0.0.1:0"})
	addr, err := s.Listen()
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.ln.Close() })
	_, err = s.Listen()
	assert.ErrorContains(t, err, "Listen called twice")

	busy := New(Options{Addr: addr.String()})
	_, err = busy.Listen()
	assert.ErrorContains(t, err, "address already in use")

	bad := New(Options{Addr: "no-port"})
	_, err = bad.Listen()
	assert.ErrorContains(t, err, "listen on no-port")

	assert.ErrorContains(t, New(Options{}).Run(context.Background()), "Run before Listen")
}

// TestRunDrains: a request in flight when the context ends is answered
// before Run returns, and nothing is accepted after.
func TestRunDrains(t *testing.T) {
	s := New(Options{Addr: "127.0.0.1:0"})
	entered, release := make(chan struct{}), make(chan struct{})
	s.Handle("/slow", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	}))
	addr, err := s.Listen()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-entered
	cancel()
	close(release)
	assert.Equal(t, "done", <-got)
	require.NoError(t, <-ran)
	_, err = http.Get("http://" + addr.String() + "/healthz")
	assert.Error(t, err, "closed after Run")
}
