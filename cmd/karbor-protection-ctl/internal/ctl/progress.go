package ctl

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// Progress is one observation of a running operation.
type Progress struct {
	Status string
	// Done and Total count the operation's resources done; Total is 0
	// when the source cannot tell.
	Done, Total int
}

// source follows one operation and reports each observation until the
// operation reaches a final status, which it returns: the service's
// /operations when its operator listener answers (operationsSource), else
// polling the status the service exposes (statusPoller).
type source interface {
	follow(ctx context.Context, report func(Progress)) (Progress, error)
}

// statusPoller polls the operation's state every interval.
type statusPoller struct {
	interval time.Duration
	// poll reads the current state.
	poll func(ctx context.Context) (Progress, error)
	// final reports whether a status ends the operation.
	final func(status string) bool
}

func (p *statusPoller) follow(ctx context.Context, report func(Progress)) (Progress, error) {
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		pr, err := p.poll(ctx)
		if err != nil {
			return Progress{}, err
		}
		report(pr)
		if p.final(pr.Status) {
			return pr, nil
		}
		select {
		case <-ctx.Done():
			return pr, ctx.Err()
		case <-tick.C:
		}
	}
}

// waitFailedError is an operation that ended in a failure status.
type waitFailedError struct {
	what, status string
}

func (e *waitFailedError) Error() string {
	return fmt.Sprintf("%s ended in status %s", e.what, e.status)
}

// wait follows an operation on what (e.g. "checkpoint 1234"), drawing its
// progress on standard error, and fails when it ends in a status ok
// refuses.
func (s *session) wait(ctx context.Context, what string, src source, ok func(status string) bool) error {
	var v view = &lineView{w: s.env.Stderr, what: what}
	if s.env.IsTerminal(s.env.Stderr) {
		v = &barView{w: s.env.Stderr, what: what, start: time.Now(), width: 30}
	}
	final, err := src.follow(ctx, v.update)
	v.end(final, err)
	if err != nil {
		return err
	}
	if !ok(final.Status) {
		return &waitFailedError{what: what, status: final.Status}
	}
	return nil
}

// view shows progress.
type view interface {
	update(p Progress)
	end(final Progress, err error)
}

// lineView writes a plain line each time the status or the count changes:
// for logs and pipes, where a redrawn bar would be noise.
type lineView struct {
	w    io.Writer
	what string
	last string
}

func (v *lineView) update(p Progress) {
	line := v.what + ": " + p.Status
	if p.Total > 0 {
		line += fmt.Sprintf(" (%d/%d done)", p.Done, p.Total)
	}
	if line != v.last {
		fmt.Fprintln(v.w, line)
		v.last = line
	}
}

func (v *lineView) end(Progress, error) {}

// barView redraws one line on a terminal: a bar filled to Done/Total, or
// a block moving back and forth while the total is unknown, the status
// and the time spent.
type barView struct {
	w      io.Writer
	what   string
	start  time.Time
	width  int
	frames int
	drawn  bool
}

func (v *barView) draw(p Progress, final bool) {
	fill := make([]byte, v.width)
	for i := range fill {
		fill[i] = ' '
	}
	pct := ""
	switch {
	case final:
		for i := range fill {
			fill[i] = '#'
		}
		pct = "100%"
	case p.Total > 0:
		n := v.width * p.Done / p.Total
		for i := 0; i < n; i++ {
			fill[i] = '#'
		}
		pct = fmt.Sprintf("%3d%%", 100*p.Done/p.Total)
	default:
		// Bounce a 3-wide block so the operator sees it is alive.
		span := v.width - 3
		pos := v.frames % (2 * span)
		if pos > span {
			pos = 2*span - pos
		}
		copy(fill[pos:], "<=>")
		pct = "   ?"
	}
	v.frames++
	elapsed := time.Since(v.start).Round(time.Second)
	// \r and erase-line: redraw in place.
	fmt.Fprintf(v.w, "\r\x1b[2K[%s] %s %s: %s %s", fill, pct, v.what, p.Status, elapsed)
	v.drawn = true
}

func (v *barView) update(p Progress) { v.draw(p, false) }

func (v *barView) end(final Progress, err error) {
	if err == nil {
		v.draw(final, true)
	}
	if v.drawn {
		fmt.Fprintln(v.w)
	}
}

// checkpointSource polls show_checkpoint; a checkpoint that is gone is
// "deleted" (the end of a delete).
func (s *session) checkpointSource(providerID, checkpointID string, interval time.Duration) *statusPoller {
	return &statusPoller{interval: interval, final: checkpointFinal, poll: func(ctx context.Context) (Progress, error) {
		var cp struct {
			Status string `json:"status"`
		}
		err := s.call(ctx, "show_checkpoint", map[string]any{"provider_id": providerID, "checkpoint_id": checkpointID}, &cp)
		if isRemote(err, "CheckpointNotFound") {
			return Progress{Status: "deleted"}, nil
		}
		return Progress{Status: cp.Status}, err
	}}
}

// rowSource polls a restore's or verification's row in karbor's database:
// its status, and how many of the checkpoint's total resources have a
// final per-resource status.
func rowSource(read func(ctx context.Context) (db.TargetState, error), total int, interval time.Duration) *statusPoller {
	return &statusPoller{interval: interval, final: func(st string) bool { return st != karbor.RestoreStatusInProgress },
		poll: func(ctx context.Context) (Progress, error) {
			st, err := read(ctx)
			if err != nil {
				return Progress{}, err
			}
			done := 0
			for _, r := range st.ResourcesStatus {
				if resourceDone[r] {
					done++
				}
			}
			return Progress{Status: st.Status, Done: min(done, total), Total: total}, nil
		}}
}

// resourceDone are the per-resource statuses that end a resource's part.
var resourceDone = map[string]bool{"available": true, "error": true, "deleted": true, "success": true, "fail": true}

// inProgress are the checkpoint statuses an operation passes through.
var inProgress = map[string]bool{"protecting": true, "deleting": true, "copying": true, "wait_copying": true}

func checkpointFinal(status string) bool { return !inProgress[status] }

func oneOf(statuses ...string) func(string) bool {
	return func(s string) bool {
		for _, ok := range statuses {
			if strings.EqualFold(s, ok) {
				return true
			}
		}
		return false
	}
}
