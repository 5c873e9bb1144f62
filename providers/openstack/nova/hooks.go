package nova

import (
	"context"
	"errors"
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

type verifyHooks struct{ providers.BaseHooks }

// OnMain checks the saved status, as Python's verify.
func (verifyHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	sec, err := a.Checkpoint.ResourceSection(a.Resource.ID)
	return providers.VerifySectionStatus(ctx, a, sec, err, verifyName, "server")
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
	if err := providers.DeleteSectionData(ctx, sec); err != nil {
		if serr := markError(ctx, sec); serr != nil {
			err = errors.Join(err, serr)
		}
		return karbor.DeleteResourceFailed(backupName, err.Error(), id, karbor.ServerResourceType)
	}
	return nil
}
