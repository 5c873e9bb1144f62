package providers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
)

// recoveryStatus is the status Recover gives a checkpoint an operation left
// in progress: error, from which the operator can delete the checkpoint
// again or reset it. A dead delete goes to error too, not error-deleting:
// its flow never ran to the end, and error is what the recovery
// promises ("nothing stays stuck"). "" for a status no operation is running
// in.
func recoveryStatus(status string) string {
	switch status {
	case bank.StatusProtecting, bank.StatusCopying, bank.StatusWaitCopying, bank.StatusDeleting:
		return bank.StatusError
	}
	return ""
}

// Recovered is one checkpoint Recover moved out of an in-progress status.
type Recovered struct {
	ProviderID   string
	CheckpointID string
	From, To     string
	// DeadOwner is the owner id of the service instance that left it.
	DeadOwner string
}

// Recover fails the operations dead service instances left unfinished,
// which the Python service leaves in progress for ever: every checkpoint of
// every provider that is protecting, copying, wait_copying or deleting while
// its owner is dead (bank.Checkpoints.Unfinished says which) gets the status
// recoveryStatus gives, and a warning is logged. An owner is dead when its
// lease expired or was left by a previous run of this instance (same host),
// or when it holds no lease and the evidence (the services heartbeats) says
// no instance without a lease of ours is alive. Checkpoints whose owner may
// be alive are left alone, and so are those of owners without a lease when
// there is no evidence: that is logged, once per pass, as a warning.
//
// The checkpoint's open operation-log rows are closed with the same
// status, and a protect or copy whose row the dead instance never wrote (its
// writes are queued, and a SIGKILL loses the queue) gets one. Once a dead
// owner has no checkpoint in progress left, its lease is removed.
//
// The program calls Recover at start, before serving, and then every
// periodic_interval; this instance's own checkpoints are never touched.
// Every provider is tried; the error joins what could not be recovered.
func (b *Builder) Recover(ctx context.Context, r *Registry) ([]Recovered, error) {
	var done []Recovered
	var errs []error
	for _, p := range r.sorted {
		rec, err := b.recoverProvider(logctx.WithFields(ctx, logrus.Fields{"provider_id": p.id}), p)
		done = append(done, rec...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return done, errors.Join(errs...)
}

func (b *Builder) recoverProvider(ctx context.Context, p *Provider) ([]Recovered, error) {
	unfinished, err := p.checkpoints.Unfinished(ctx)
	if err != nil {
		return nil, fmt.Errorf("providers: recovery of provider %s: %w", p.id, err)
	}
	var done []Recovered
	var errs []error
	busy := map[string]bool{} // owners that keep a checkpoint in progress
	var unknown []string
	alive := 0
	for _, u := range unfinished {
		cp := u.Checkpoint
		to := recoveryStatus(cp.Status)
		if cp.ProviderID != p.id || to == "" || u.Owner.Liveness != bank.OwnerDead {
			busy[cp.OwnerID] = true
			switch {
			case cp.ProviderID != p.id:
			case u.Owner.Liveness == bank.OwnerUnknown:
				unknown = append(unknown, cp.ID)
			case u.Owner.Liveness == bank.OwnerAlive:
				alive++
			}
			continue
		}
		log := logctx.From(ctx).WithFields(logrus.Fields{
			"checkpoint_id": cp.ID, "status": cp.Status, "new_status": to, "dead_owner": cp.OwnerID})
		if _, err := p.checkpoints.SetStatus(ctx, cp.ID, to); err != nil {
			busy[cp.OwnerID] = true
			var notOwner *bank.NotOwnerError
			if errors.As(err, &notOwner) {
				log.WithField("owner", notOwner.Owner.Reason).Info("Checkpoint's owner may be alive again; left alone")
				continue
			}
			log.WithError(err).Error("Could not recover checkpoint left in progress by a dead service instance")
			errs = append(errs, fmt.Errorf("providers: recover checkpoint %s: %w", cp.ID, err))
			continue
		}
		log.WithField("reason", u.Owner.Reason).Warn("Checkpoint left in progress by a dead service instance; marked failed")
		if err := b.recorder.CheckpointRecovered(ctx, cp.ID, to, lostLog(cp)); err != nil {
			log.WithError(err).Warn("Could not close the checkpoint's operation log")
		}
		done = append(done, Recovered{ProviderID: p.id, CheckpointID: cp.ID, From: cp.Status, To: to, DeadOwner: cp.OwnerID})
		if b.obs != nil {
			b.obs.CheckpointRecovered(cp.Status, to)
		}
	}
	logctx.From(ctx).WithFields(logrus.Fields{"recovered": len(done), "owner_alive": alive, "owner_unknown": len(unknown)}).
		Debug("Recovery pass done")
	if len(unknown) > 0 {
		logctx.From(ctx).WithField("checkpoint_ids", unknown).Warnf(
			"%d checkpoint(s) in progress whose owner holds no lease were left alone: there is no evidence that the owner "+
				"(a Python karbor-protection instance?) is dead. Configure [database] connection so that the services "+
				"heartbeats can tell, or set [DEFAULT] recover_unleased_checkpoints = true once no Python instance uses this bank",
			len(unknown))
	}
	removed, err := p.checkpoints.RemoveDeadLeases(ctx, busy)
	for _, l := range removed {
		logctx.From(ctx).WithFields(logrus.Fields{"dead_owner": l.OwnerID, "host": l.Holder.Host}).Info("Removed the lease of a dead service instance")
	}
	if err != nil {
		errs = append(errs, err)
	}
	return done, errors.Join(errs...)
}

// lostLog is the operation-log row an operation that died on cp would have
// written first (protect, copy), for recovery to write if it is missing.
// A delete's row is not rebuilt: it would carry the protect type (as
// karbor writes it) and could not be told from the protect's own row.
func lostLog(cp *bank.Checkpoint) *karbor.OperationLog {
	typ := karbor.OperationProtect
	switch cp.Status {
	case bank.StatusProtecting:
	case bank.StatusCopying, bank.StatusWaitCopying:
		typ = karbor.OperationCopy
	default:
		return nil
	}
	l := checkpointLog(cp, typ)
	l.StartedAt = time.Unix(cp.Timestamp, 0).UTC()
	return &l
}
