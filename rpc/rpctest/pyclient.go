package rpctest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// PyCall is one command for the Python client: RPCClient.prepare(...) with
// the non-zero options, then call or cast.
type PyCall struct {
	Op                 string         `json:"op,omitempty"` // "call" (default) or "cast"
	Method             string         `json:"method"`
	Args               map[string]any `json:"args,omitempty"`
	Context            map[string]any `json:"context,omitempty"` // a plain dict context
	Server             string         `json:"server,omitempty"`
	Fanout             bool           `json:"fanout,omitempty"`
	Timeout            float64        `json:"timeout,omitempty"` // seconds
	Version            string         `json:"version,omitempty"`
	Namespace          string         `json:"namespace,omitempty"`
	CallMonitorTimeout float64        `json:"call_monitor_timeout,omitempty"`
}

// PyOutcome is what the Python client got: a result or an exception.
type PyOutcome struct {
	Result    json.RawMessage `json:"result"`
	Exception *PyException    `json:"exception"`
}

// PyException describes an exception the Python client raised.
type PyException struct {
	Class         string         `json:"class"`  // type(e).__name__, e.g. ProviderNotFound_Remote
	Module        string         `json:"module"` // type(e).__module__, e.g. karbor.exception_Remote
	Str           string         `json:"str"`    // str(e)
	Args          []any          `json:"args"`
	Kwargs        map[string]any `json:"kwargs"` // e.kwargs when it has them
	IsRemoteError bool           `json:"is_remote_error"`
	IsTimeout     bool           `json:"is_timeout"`
	MRO           []string       `json:"mro"`      // "module.Class" of the MRO
	Code          any            `json:"code"`     // e.code (karbor exceptions)
	Msg           any            `json:"msg"`      // e.msg (karbor exceptions)
	ExcType       string         `json:"exc_type"` // RemoteError.exc_type
	Value         string         `json:"value"`    // RemoteError.value
}

// IsA reports whether the exception is an instance of module.class.
func (e *PyException) IsA(qualified string) bool {
	for _, c := range e.MRO {
		if c == qualified {
			return true
		}
	}
	return false
}

// PyClient is a real oslo.messaging RPCClient in a Python process.
type PyClient struct {
	p       *process
	mu      sync.Mutex
	next    int
	pending map[int]chan PyOutcome
}

// StartPythonClient starts a Python oslo.messaging RPC client for
// spec.Exchange and spec.Topic on spec.URL; it stops when the test ends.
func StartPythonClient(t testing.TB, spec Spec) *PyClient {
	t.Helper()
	c := &PyClient{pending: map[int]chan PyOutcome{}}
	c.p = startDriver(t, "client", spec, c.onLine)
	return c
}

func (c *PyClient) onLine(line json.RawMessage) {
	var out struct {
		ID int `json:"id"`
		PyOutcome
	}
	if err := json.Unmarshal(line, &out); err != nil {
		c.p.t.Errorf("Python client wrote %q: %v", line, err)
		return
	}
	c.mu.Lock()
	ch := c.pending[out.ID]
	delete(c.pending, out.ID)
	c.mu.Unlock()
	if ch != nil {
		ch <- out.PyOutcome
	}
}

// Go sends a command and returns where its outcome will arrive; commands
// run concurrently in the Python process.
func (c *PyClient) Go(call PyCall) <-chan PyOutcome {
	ch := make(chan PyOutcome, 1)
	c.mu.Lock()
	c.next++
	id := c.next
	c.pending[id] = ch
	c.mu.Unlock()
	cmd := struct {
		ID int `json:"id"`
		PyCall
	}{id, call}
	c.p.send(cmd)
	return ch
}

// Do runs a command and waits for its outcome (failing the test if none
// comes within the call's timeout plus a minute).
func (c *PyClient) Do(t testing.TB, call PyCall) PyOutcome {
	t.Helper()
	wait := time.Minute + time.Duration(call.Timeout*float64(time.Second))
	if call.Timeout == 0 {
		wait += time.Minute
	}
	select {
	case out := <-c.Go(call):
		return out
	case <-c.p.done:
		t.Fatalf("Python client exited; stderr:\n%s", c.p.Stderr())
	case <-time.After(wait):
		t.Fatalf("no outcome from the Python client after %s; stderr:\n%s", wait, c.p.Stderr())
	}
	return PyOutcome{}
}

// Stderr is what the Python client logged so far.
func (c *PyClient) Stderr() string { return c.p.Stderr() }
