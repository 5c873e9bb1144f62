package ctl

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pages serves scripted /operations answers, one per request, repeating
// the last; it records the queries.
type pages struct {
	mu      sync.Mutex
	bodies  []string
	code    int
	queries []string
}

func (p *pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queries = append(p.queries, r.URL.Path+"?"+r.URL.RawQuery)
	if p.code != 0 {
		w.WriteHeader(p.code)
		return
	}
	body := p.bodies[0]
	if len(p.bodies) > 1 {
		p.bodies = p.bodies[1:]
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(body))
}

// poller answers the statuses in turn, repeating the last.
func poller(statuses ...string) *statusPoller {
	var mu sync.Mutex
	return &statusPoller{interval: time.Millisecond, final: checkpointFinal, poll: func(context.Context) (Progress, error) {
		mu.Lock()
		defer mu.Unlock()
		st := statuses[0]
		if len(statuses) > 1 {
			statuses = statuses[1:]
		}
		return Progress{Status: st}, nil
	}}
}

func TestOperationsSource(t *testing.T) {
	const (
		none     = `{"running": [], "finished": []}`
		running1 = `{"running": [{"phase": "on_main", "resources_done": 1, "resources_total": 4}], "finished": []}`
		running3 = `{"running": [{"phase": "on_complete", "resources_done": 3, "resources_total": 4}], "finished": []}`
		done     = `{"running": [], "finished": [{"phase": "ended", "status": "available", "resources_done": 4, "resources_total": 4}]}`
		failed   = `{"running": [], "finished": [{"phase": "ended", "status": "error", "resources_done": 2, "resources_total": 4}]}`
	)
	tests := []struct {
		name      string
		bodies    []string
		code      int
		fallback  *statusPoller
		wantLines string
		wantErr   error
	}{
		{"progress to the end", []string{running1, running3, done}, 0, poller("protecting"),
			"checkpoint c: on_main (1/4 done)\ncheckpoint c: on_complete (3/4 done)\ncheckpoint c: available (4/4 done)\n", nil},
		{"a failure", []string{running1, failed}, 0, poller("protecting"),
			"checkpoint c: on_main (1/4 done)\ncheckpoint c: error (2/4 done)\n", &waitFailedError{}},
		{"not listed yet", []string{none, running3, done}, 0, poller("protecting"),
			"checkpoint c: protecting\ncheckpoint c: on_complete (3/4 done)\ncheckpoint c: available (4/4 done)\n", nil},
		{"not listed any more: the status says it ended", []string{none}, 0, poller("available"),
			"checkpoint c: available\n", nil},
		{"not listed, no fallback: waited for", []string{none, done}, 0, nil,
			"checkpoint c: starting\ncheckpoint c: available (4/4 done)\n", nil},
		{"an error answer: the status is polled", nil, http.StatusNotFound, poller("protecting", "available"),
			"/operations unreachable (GET /operations?checkpoint_id=c: 404 Not Found); polling the status instead\ncheckpoint c: protecting\ncheckpoint c: available\n", nil},
		{"an error answer and no fallback", nil, http.StatusNotFound, nil, "", errNoFallback},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &pages{bodies: tc.bodies, code: tc.code}
			srv := httptest.NewServer(p)
			defer srv.Close()
			var stderr bytes.Buffer
			s := &session{env: Env{Stderr: &stderr, Getenv: func(string) string { return "" }, IsTerminal: func(io.Writer) bool { return false }}}
			src := s.follow(&cmdFlags{operationsURL: srv.URL + "/", waitInterval: time.Millisecond}, operationQuery("checkpoint_id", "c"), tc.fallback)
			err := s.wait(context.Background(), "checkpoint c", src, oneOf("available"))
			switch want := tc.wantErr.(type) {
			case nil:
				require.NoError(t, err)
			case *waitFailedError:
				require.ErrorAs(t, err, &want)
			default:
				require.ErrorIs(t, err, want)
			}
			assert.Equal(t, tc.wantLines, string(bytes.ReplaceAll(stderr.Bytes(), []byte(srv.URL), nil)))
			assert.Contains(t, p.queries, "/operations?checkpoint_id=c")
		})
	}
}

func TestFollowWithoutListener(t *testing.T) {
	s := &session{env: Env{Getenv: func(k string) string { return map[string]string{operationsEnv: "http://env:9785"}[k] }}}
	fallback := poller("available")
	src := s.follow(&cmdFlags{}, operationQuery("checkpoint_id", "c"), fallback)
	assert.Equal(t, "http://env:9785", src.(*operationsSource).base, "the environment names the listener")
	src = s.follow(&cmdFlags{operationsURL: "http://flag:1/"}, operationQuery("checkpoint_id", "c"), fallback)
	assert.Equal(t, "http://flag:1", src.(*operationsSource).base, "the flag wins")
	s.env.Getenv = func(string) string { return "" }
	assert.Same(t, fallback, s.follow(&cmdFlags{}, nil, fallback), "no listener named: status polling")
}
