package fs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/gokarbor/karbor-protection/bank"
)

// leaseFile is the content of leases/<owner_id>: the swift lease object's
// facts (owner, expiry) plus where the owner runs, for operators.
type leaseFile struct {
	OwnerID   string    `json:"owner_id"`
	ExpiresAt time.Time `json:"expires_at"`
	Host      string    `json:"host,omitempty"`
	PID       int       `json:"pid,omitempty"`
}

func (p *Plugin) leaseName(ownerID string) string { return leasesDir + "/" + ownerID }

// AcquireLease writes this owner's lease, valid for lease_expire_window.
func (p *Plugin) AcquireLease(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	host, _ := os.Hostname()
	expires := p.opts.Clock().Add(p.opts.LeaseExpireWindow)
	data, err := json.Marshal(leaseFile{OwnerID: p.opts.OwnerID, ExpiresAt: expires.UTC(), Host: host, PID: os.Getpid()})
	if err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	if err := p.writeAtomic(p.leaseName(p.opts.OwnerID), data); err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	p.leaseMu.Lock()
	p.expireAt = expires
	p.leaseMu.Unlock()
	return nil
}

// RenewLease extends the lease by lease_expire_window from now.
func (p *Plugin) RenewLease(ctx context.Context) error { return p.AcquireLease(ctx) }

// LeaseValid is check_lease_validity: at least lease_validity_window of
// the lease is left.
func (p *Plugin) LeaseValid() bool {
	p.leaseMu.Lock()
	defer p.leaseMu.Unlock()
	return p.expireAt.Sub(p.opts.Clock()) >= p.opts.LeaseValidityWindow
}

// OwnerAlive reports whether ownerID's lease file exists and has not
// expired. Owners that never had a lease here (checkpoints written by the
// Python service, which takes none) are not alive.
func (p *Plugin) OwnerAlive(ctx context.Context, ownerID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if ownerID == p.opts.OwnerID {
		return p.LeaseValid(), nil
	}
	if ownerID == "" || !bank.ValidKeyChars(ownerID) || strings.Contains(ownerID, "/") || strings.Trim(ownerID, ".") == "" {
		return false, nil // cannot name a lease file, so holds none
	}
	data, err := p.readFile(p.leaseName(ownerID))
	if errors.Is(err, bank.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var lf leaseFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return false, fmt.Errorf("lease file of %s: %w", ownerID, err)
	}
	return lf.ExpiresAt.After(p.opts.Clock()), nil
}

// renewLoop renews the lease every lease_renew_window until ctx ends.
// Failures are logged and retried at the next tick; writes check
// LeaseValid, so a lease that could not be renewed for too long stops them.
func (p *Plugin) renewLoop(ctx context.Context) {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.LeaseRenewWindow)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.RenewLease(ctx); err != nil && ctx.Err() == nil {
				p.log.WithError(err).Warn("bank lease renewal failed")
			}
		}
	}
}

// sweepTemporaries removes the temporary directories of owners that are
// gone (crashed mid-write); live owners' writes are left alone.
func (p *Plugin) sweepTemporaries(ctx context.Context) {
	d, err := p.root.Open(tmpDir)
	if err != nil {
		return
	}
	entries, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return
	}
	for _, e := range entries {
		owner := e.Name()
		if owner == p.opts.OwnerID {
			continue
		}
		alive, err := p.OwnerAlive(ctx, owner)
		if err != nil || alive {
			continue
		}
		if err := p.root.RemoveAll(tmpDir + "/" + owner); err != nil && !errors.Is(err, fs.ErrNotExist) {
			p.log.WithError(err).Warn("removing a dead owner's temporary files failed")
		}
	}
}
