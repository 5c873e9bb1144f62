package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// operationsEnv names the service's operator listener when
// --operations-url is not given.
const operationsEnv = "KARBOR_OPERATIONS_URL"

// operationsSource follows an operation in the service's /operations
// ([monitoring] listen): its phase and resources done while it runs, its
// final status once it has ended. When /operations does not answer (no
// listener, another host, a Python service) it says so once and hands
// over to fallback, the status poller; when the operation is not listed
// (not started yet, or no longer kept) one poll of fallback tells whether
// it has ended. Without a fallback (a restore without karbor's database)
// an operation not listed yet is waited for.
type operationsSource struct {
	base     string     // the listener's base URL
	query    url.Values // selects the operation
	interval time.Duration
	client   *http.Client
	fallback *statusPoller // nil: none
	note     io.Writer     // where the fallback is announced
}

// errNoFallback is a wait that /operations cannot serve and nothing else
// can.
var errNoFallback = errors.New("nothing else to follow the operation with")

// operationView is an operation as /operations shows it.
type operationView struct {
	ResourcesDone  int    `json:"resources_done"`
	ResourcesTotal int    `json:"resources_total"`
	Phase          string `json:"phase"`
	Status         string `json:"status"`
}

type operationsPage struct {
	Running  []operationView `json:"running"`
	Finished []operationView `json:"finished"`
}

// read fetches the operation: listed false when /operations does not show
// it, ended true once it has finished.
func (o *operationsSource) read(ctx context.Context) (p Progress, listed, ended bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.base+"/operations?"+o.query.Encode(), nil)
	if err != nil {
		return p, false, false, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return p, false, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return p, false, false, fmt.Errorf("GET %s: %s", req.URL.Redacted(), resp.Status)
	}
	var page operationsPage
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&page); err != nil {
		return p, false, false, fmt.Errorf("GET %s: %w", req.URL.Redacted(), err)
	}
	switch {
	case len(page.Finished) > 0: // most recent first
		v := page.Finished[0]
		return Progress{Status: v.Status, Done: v.ResourcesDone, Total: v.ResourcesTotal}, true, true, nil
	case len(page.Running) > 0:
		v := page.Running[0]
		return Progress{Status: v.Phase, Done: v.ResourcesDone, Total: v.ResourcesTotal}, true, false, nil
	}
	return p, false, false, nil
}

func (o *operationsSource) follow(ctx context.Context, report func(Progress)) (Progress, error) {
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for {
		p, listed, ended, err := o.read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return p, ctx.Err()
			}
			if o.fallback == nil {
				return p, fmt.Errorf("%s/operations: %w; %w", o.base, err, errNoFallback)
			}
			fmt.Fprintf(o.note, "%s/operations unreachable (%v); polling the status instead\n", o.base, err)
			return o.fallback.follow(ctx, report)
		}
		if !listed {
			p = Progress{Status: "starting"}
			if o.fallback != nil {
				if p, err = o.fallback.poll(ctx); err != nil {
					return p, err
				}
				if o.fallback.final(p.Status) {
					report(p)
					return p, nil
				}
			}
		}
		report(p)
		if ended {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-tick.C:
		}
	}
}

// operationsURL is the operator listener --wait asks, "" for none.
func (s *session) operationsURL(c *cmdFlags) string {
	if c.operationsURL != "" {
		return c.operationsURL
	}
	return s.env.Getenv(operationsEnv)
}

// follow is how --wait follows an operation: through /operations when an
// operator listener is named (--operations-url or $KARBOR_OPERATIONS_URL),
// selected by query; else, and when it does not answer, with fallback
// (which may be nil only when a listener is named).
func (s *session) follow(c *cmdFlags, query url.Values, fallback *statusPoller) source {
	base := strings.TrimSuffix(s.operationsURL(c), "/")
	if base == "" {
		return fallback
	}
	return &operationsSource{base: base, query: query, interval: c.waitInterval, client: http.DefaultClient, fallback: fallback, note: s.env.Stderr}
}

// operationQuery selects an operation in /operations.
func operationQuery(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}
