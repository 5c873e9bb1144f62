package nova

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
)

// cleanupTimeout bounds what runs after a hook failed (recording the
// error status, deleting a server the restore booted), which runs even
// when the hook's context has ended; stoppingCleanupTimeout, when it has
// (a stopping service waits for it).
const (
	cleanupTimeout         = 2 * time.Minute
	stoppingCleanupTimeout = 30 * time.Second
)

// statusNotFound is the status a poll sees for something Nova answers 404
// for.
const statusNotFound = "not-found"

// statuses are what a poll does with each status it sees (karbor's
// status_poll): stop with success, stop with failure, keep polling; any
// other status stops with failure unless unexpected ones are ignored.
type statuses struct {
	success, failure, ignore []string
	ignoreUnexpected         bool
}

// poll reads a status every interval, the first after one interval, until
// s says to stop; it returns the last status and whether it is a success.
// An error from get, or the end of ctx, ends it with that error.
func poll(ctx context.Context, interval time.Duration, s statuses, get func(context.Context) (string, error)) (string, bool, error) {
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
		case slices.Contains(s.success, status):
			return status, true, nil
		case slices.Contains(s.failure, status):
			return status, false, nil
		case !slices.Contains(s.ignore, status) && !s.ignoreUnexpected:
			return status, false, nil
		}
		t.Reset(interval)
	}
}

// cleanup runs f with a context that outlives the hook's (a cancelled
// operation still cleans up) but is bounded; a failure is only logged, the
// hook's own failure being what the caller reports.
func cleanup(ctx context.Context, what string, f func(ctx context.Context) error) {
	if err := detached(ctx, f); err != nil {
		logctx.From(ctx).WithError(err).Warnf("Failed cleaning up %s", what)
	}
}

// detached runs f under a bounded context not cancelled with ctx.
func detached(ctx context.Context, f func(ctx context.Context) error) error {
	bound := cleanupTimeout
	if ctx.Err() != nil {
		bound = stoppingCleanupTimeout
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	return f(cctx)
}

// markError records the error status of a server whose protection or
// delete failed.
func markError(ctx context.Context, sec *bank.Section) error {
	return detached(ctx, func(ctx context.Context) error {
		return sec.PutString(ctx, "status", karbor.ResourceStatusError)
	})
}

// report records the server's result under its id in the checkpoint.
func report(ctx context.Context, a *providers.HookArgs, status, why string) {
	r := karbor.ResourceResult{Type: karbor.ServerResourceType, ID: a.Resource.ID, Status: status}
	if why != "" {
		r.Reason = &why
	}
	a.ReportResult(ctx, r)
}

type verifyHooks struct{ providers.BaseHooks }

// OnMain checks the saved status, as Python's verify.
func (verifyHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	sec, err := a.Checkpoint.ResourceSection(id)
	status := ""
	if err == nil {
		status, err = sec.GetString(ctx, "status")
	}
	if err != nil {
		why := "The status of server backup cannot be read: " + err.Error()
		report(ctx, a, karbor.ResourceStatusError, why)
		return karbor.VerifyResourceFailed(verifyName, why, id, a.Resource.Type)
	}
	if status == karbor.ResourceStatusAvailable {
		report(ctx, a, karbor.ResourceStatusAvailable, "")
		return nil
	}
	why := fmt.Sprintf("The status of server backup status is %s.", status)
	report(ctx, a, status, why)
	return karbor.VerifyResourceFailed(verifyName, why, id, a.Resource.Type)
}

type deleteHooks struct{ providers.BaseHooks }

// OnMain removes every object of the section but its status, which ends
// "deleted", as Python's delete; OpenStack is not touched.
func (deleteHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	sec, err := a.Checkpoint.ResourceSection(id)
	if err != nil {
		return karbor.DeleteResourceFailed(backupName, err.Error(), id, karbor.ServerResourceType)
	}
	if err := deleteObjects(ctx, sec); err != nil {
		if serr := markError(ctx, sec); serr != nil {
			err = errors.Join(err, serr)
		}
		return karbor.DeleteResourceFailed(backupName, err.Error(), id, karbor.ServerResourceType)
	}
	return nil
}

func deleteObjects(ctx context.Context, sec *bank.Section) error {
	if err := sec.PutString(ctx, "status", karbor.ResourceStatusDeleting); err != nil {
		return err
	}
	keys, err := sec.ListObjects(ctx, bank.ListOptions{})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k == "status" {
			continue
		}
		if err := sec.DeleteObject(ctx, k); err != nil {
			return err
		}
	}
	return sec.PutString(ctx, "status", karbor.ResourceStatusDeleted)
}
