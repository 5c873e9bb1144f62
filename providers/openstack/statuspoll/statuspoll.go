// Package statuspoll waits for an OpenStack object's status the way
// karbor's plugins do (status_poll): read it every poll_interval and stop on
// a success, a failure or a status nobody expected, but never outlive the
// operation's context, so a stopping service drains instead of waiting out
// a long backup.
package statuspoll

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// NotFound is the status a reader reports for an object the service
// answers 404 for, so that rules can name disappearance like any status.
const NotFound = "not-found"

// Rule says what a wait does with each status it sees: stop with success,
// stop with failure, keep waiting; any other status stops with failure
// unless IgnoreUnexpected.
type Rule struct {
	Success, Failure, Ignore []string
	IgnoreUnexpected         bool
}

// Wait reads a status every interval, the first after one interval, until
// r says to stop; it returns the last status and whether it is a success.
// An error from get, or the end of ctx, ends it with that error.
func Wait(ctx context.Context, interval time.Duration, r Rule, get func(context.Context) (string, error)) (string, bool, error) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", false, fmt.Errorf("stopped waiting: %w", context.Cause(ctx))
		case <-t.C:
		}
		status, err := get(ctx)
		if err != nil {
			return "", false, err
		}
		switch {
		case slices.Contains(r.Success, status):
			return status, true, nil
		case slices.Contains(r.Failure, status):
			return status, false, nil
		case !slices.Contains(r.Ignore, status) && !r.IgnoreUnexpected:
			return status, false, nil
		}
		t.Reset(interval)
	}
}
