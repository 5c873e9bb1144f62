// Package opshttp is the service's operator HTTP listener, separate from
// anything karbor's API knows: /healthz says the process answers,
// /readyz whether it can do its work (each of its checks, named in a JSON
// body), and the program mounts more handlers on it (/operations,
// /metrics) before it starts.
//
// It imports nothing of the module: the program gives it checks as
// functions and handlers as http.Handlers.
package opshttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Check is one condition of readiness.
type Check struct {
	// Name names the check in /readyz's body ("broker", "bank <provider>",
	// "database").
	Name string
	// Probe returns nil when the condition holds, else what is wrong. It
	// must return once ctx ends.
	Probe func(ctx context.Context) error
}

// Defaults of Options.
const (
	defaultProbeTimeout    = 5 * time.Second
	defaultShutdownTimeout = 5 * time.Second
)

// Options configure a Server.
type Options struct {
	// Addr is host:port to listen on (port 0: any free port).
	Addr string
	// Checks are /readyz's conditions, run at once on each request.
	Checks []Check
	// ProbeTimeout bounds each probe of a /readyz request
	// (5 s when 0).
	ProbeTimeout time.Duration
	// ShutdownTimeout bounds how long Run waits for requests in flight once
	// its context ends (5 s when 0).
	ShutdownTimeout time.Duration
	// ErrorLog receives the http.Server's own errors, one line per call
	// (nil: the standard logger, as http.Server does).
	ErrorLog func(line string)
}

// Server is the operator listener.
type Server struct {
	opts Options
	mux  *http.ServeMux
	srv  *http.Server

	mu sync.Mutex
	ln net.Listener
}

// New returns a server serving /healthz and /readyz; Handle mounts more
// before Listen.
func New(opts Options) *Server {
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = defaultProbeTimeout
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = defaultShutdownTimeout
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	if opts.ErrorLog != nil {
		s.srv.ErrorLog = log.New(lineWriter(opts.ErrorLog), "", 0)
	}
	return s
}

// Handle mounts h at pattern (http.ServeMux's syntax), before Listen.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Listen opens the listening socket, so that a bad or busy address fails
// the start of the program rather than its run. It returns the address
// listened on.
func (s *Server) Listen() (net.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil, errors.New("opshttp: Listen called twice")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("opshttp: listen on %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Run serves until ctx ends, then stops listening and lets the requests in
// flight finish (up to ShutdownTimeout). Listen must have been called.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("opshttp: Run before Listen")
	}
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("opshttp: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("opshttp: shutdown: %w", err)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}

// readiness is /readyz's body.
type readiness struct {
	// Status is "ready" or "not ready".
	Status string        `json:"status"`
	Checks []checkResult `json:"checks"`
}

// checkResult is one check's outcome.
type checkResult struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// ready runs every check at once, each within ProbeTimeout, and reports
// them in the order given.
func (s *Server) ready(ctx context.Context) readiness {
	res := make([]checkResult, len(s.opts.Checks))
	var wg sync.WaitGroup
	for i, c := range s.opts.Checks {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, s.opts.ProbeTimeout)
			defer cancel()
			res[i] = checkResult{Name: c.Name, OK: true}
			if err := c.Probe(pctx); err != nil {
				res[i].OK, res[i].Error = false, err.Error()
			}
		})
	}
	wg.Wait()
	r := readiness{Status: "ready", Checks: res}
	for _, c := range res {
		if !c.OK {
			r.Status = "not ready"
		}
	}
	return r
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ready := s.ready(r.Context())
	code := http.StatusOK
	if ready.Status != "ready" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, ready)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// lineWriter hands each line log.Logger writes to a function.
type lineWriter func(line string)

func (f lineWriter) Write(p []byte) (int, error) {
	f(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
