package rpctest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// PyEvent is one call or cast the Python server dispatched.
type PyEvent struct {
	Method  string         `json:"method"`
	Args    map[string]any `json:"args"`
	Context map[string]any `json:"context"`
}

// PyServer is a real oslo.messaging RPC server in a Python process, serving
// the demo endpoints: Endpoint (version 1.0: echo, ret_none, ret_str,
// ret_list, slow(seconds), fail(provider_id) raising
// karbor.exception.ProviderNotFound, fail_builtin raising
// ValueError("bad value", 42), fail_keyerror, _private) and OtherEndpoint
// (namespace "other", version 2.3: ns_echo(x)).
type PyServer struct {
	p       *process
	mu      sync.Mutex
	events  []PyEvent
	changed chan struct{}
}

// StartPythonServer starts a Python oslo.messaging RPC server for
// Target(exchange, topic, server) on spec.URL; it stops when the test ends.
func StartPythonServer(t testing.TB, spec Spec) *PyServer {
	t.Helper()
	if spec.Server == "" {
		spec.Server = "pyhost"
	}
	s := &PyServer{changed: make(chan struct{})}
	s.p = startDriver(t, "server", spec, s.onLine)
	return s
}

func (s *PyServer) onLine(line json.RawMessage) {
	var ev PyEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		s.p.t.Errorf("Python server wrote %q: %v", line, err)
		return
	}
	s.mu.Lock()
	s.events = append(s.events, ev)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Events returns the calls and casts dispatched so far.
func (s *PyServer) Events() []PyEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PyEvent(nil), s.events...)
}

// WaitEvent waits for a dispatched call or cast that match accepts.
func (s *PyServer) WaitEvent(t testing.TB, match func(PyEvent) bool, within time.Duration) PyEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		s.mu.Lock()
		for _, ev := range s.events {
			if match(ev) {
				s.mu.Unlock()
				return ev
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the Python server dispatched no matching call within %s (events: %+v); stderr:\n%s", within, s.Events(), s.p.Stderr())
			return PyEvent{}
		}
	}
}

// Stderr is what the Python server logged so far.
func (s *PyServer) Stderr() string { return s.p.Stderr() }
