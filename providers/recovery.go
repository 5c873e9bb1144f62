package providers

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
)

// RecoveryStatus is the status Recover gives a checkpoint an operation left
// in progress: error, from which the operator can delete the checkpoint
// again or reset it. A dead delete goes to error too, not error-deleting:
// its flow never ran to the end, and error is what the recovery
// promises ("nothing stays stuck"). "" for a status no operation is running
// in.
func RecoveryStatus(status string) string {
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

// Recover fails the operations a dead service instance left unfinished,
// which the Python service leaves in progress for ever: every checkpoint of
// every provider that is protecting, copying, wait_copying or deleting while
// its owner's bank lease is missing or expired (bank.Checkpoints.Orphans)
// gets the status RecoveryStatus gives, and a warning is logged. The
// manager calls it at start, before serving, so that no operation of this
// instance is running yet; checkpoints of live instances (and of this one)
// are left alone, and so is one whose owner comes back meanwhile.
//
// Operation-log rows and restores or verifications left in progress are not
// in the bank and are not touched. Every provider is tried; the error joins
// what could not be recovered.
func Recover(ctx context.Context, r *Registry) ([]Recovered, error) {
	var done []Recovered
	var errs []error
	for _, p := range r.sorted {
		rec, err := recoverProvider(logctx.WithFields(ctx, logrus.Fields{"provider_id": p.id}), p)
		done = append(done, rec...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return done, errors.Join(errs...)
}

func recoverProvider(ctx context.Context, p *Provider) ([]Recovered, error) {
	orphans, err := p.checkpoints.Orphans(ctx, p.id)
	if err != nil {
		return nil, fmt.Errorf("providers: recovery of provider %s: %w", p.id, err)
	}
	var done []Recovered
	var errs []error
	for _, cp := range orphans {
		to := RecoveryStatus(cp.Status)
		if to == "" {
			continue
		}
		log := logctx.From(ctx).WithFields(logrus.Fields{
			"checkpoint_id": cp.ID, "status": cp.Status, "new_status": to, "dead_owner": cp.OwnerID})
		if _, err := p.checkpoints.SetStatus(ctx, cp.ID, to); err != nil {
			var notOwner *bank.NotOwnerError
			if errors.As(err, &notOwner) {
				log.Info("Checkpoint's owner is alive again; left alone")
				continue
			}
			log.WithError(err).Error("Could not recover checkpoint left in progress by a dead service instance")
			errs = append(errs, fmt.Errorf("providers: recover checkpoint %s: %w", cp.ID, err))
			continue
		}
		log.Warn("Checkpoint left in progress by a dead service instance; marked failed")
		done = append(done, Recovered{ProviderID: p.id, CheckpointID: cp.ID, From: cp.Status, To: to, DeadOwner: cp.OwnerID})
	}
	return done, errors.Join(errs...)
}
