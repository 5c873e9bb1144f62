package fs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gokarbor/karbor-protection/bank"
)

// leaseFile is the content of leases/<owner_id>: the swift lease object's
// facts (owner, expiry), the holder (the service's host and process
// incarnation, which tell a restarted instance its predecessor's leases and
// tell our hosts from the Python service's), and the pid, for operators.
type leaseFile struct {
	OwnerID     string    `json:"owner_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	Host        string    `json:"host,omitempty"`
	Incarnation string    `json:"incarnation,omitempty"`
	PID         int       `json:"pid,omitempty"`
}

func (p *Plugin) leaseName(ownerID string) string { return leasesDir + "/" + ownerID }

// AcquireLease writes this owner's lease, valid for lease_expire_window.
func (p *Plugin) AcquireLease(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	expires := p.opts.Clock().Add(p.opts.LeaseExpireWindow)
	if err := p.writeLease(expires); err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	p.expiry.Set(expires)
	return nil
}

func (p *Plugin) writeLease(expires time.Time) error {
	data, err := json.Marshal(leaseFile{OwnerID: p.opts.OwnerID, ExpiresAt: expires.UTC(),
		Host: p.opts.Holder.Host, Incarnation: p.opts.Holder.Incarnation, PID: os.Getpid()})
	if err != nil {
		return err
	}
	return p.writeAtomic(p.leaseName(p.opts.OwnerID), data)
}

// RenewLease extends the lease by lease_expire_window from now.
func (p *Plugin) RenewLease(ctx context.Context) error { return p.AcquireLease(ctx) }

// LeaseValid is check_lease_validity: at least lease_validity_window of
// the lease is left.
func (p *Plugin) LeaseValid() bool {
	return p.expiry.Valid(p.opts.Clock(), p.opts.LeaseValidityWindow)
}

// WritersHoldLeases is false: the Python file-system plugin takes no
// lease, so an owner without one may be a live Python instance.
func (p *Plugin) WritersHoldLeases() bool { return false }

// Lease reads leases/<ownerID>.
func (p *Plugin) Lease(ctx context.Context, ownerID string) (bank.Lease, bool, error) {
	if err := ctx.Err(); err != nil {
		return bank.Lease{}, false, err
	}
	if !bank.ValidOwnerID(ownerID) {
		return bank.Lease{}, false, nil // cannot name a lease file, so holds none
	}
	data, err := p.readFile(p.leaseName(ownerID))
	if errors.Is(err, bank.ErrNotFound) {
		return bank.Lease{}, false, nil
	}
	if err != nil {
		return bank.Lease{}, false, err
	}
	var lf leaseFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return bank.Lease{}, false, fmt.Errorf("fs bank: lease file of %s: %w", ownerID, err)
	}
	return bank.Lease{OwnerID: ownerID, Holder: bank.Holder{Host: lf.Host, Incarnation: lf.Incarnation}, ExpiresAt: lf.ExpiresAt}, true, nil
}

// Leases reads every file in leases/. A file that is not a lease (a
// foreign name, unreadable JSON) is skipped: it is nobody's lease.
func (p *Plugin) Leases(ctx context.Context) ([]bank.Lease, error) {
	d, err := p.root.Open(leasesDir)
	if err != nil {
		return nil, fmt.Errorf("fs bank: list leases: %w", err)
	}
	entries, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return nil, fmt.Errorf("fs bank: list leases: %w", err)
	}
	var out []bank.Lease
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		l, ok, err := p.Lease(ctx, e.Name())
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			p.log.WithError(err).WithField("lease", e.Name()).Warn("Skipping an unreadable lease file")
			continue
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// RemoveLease deletes leases/<ownerID>. Removing the own lease is refused:
// only Close releases it.
func (p *Plugin) RemoveLease(ctx context.Context, ownerID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ownerID == p.opts.OwnerID {
		return fmt.Errorf("fs bank: refusing to remove the own lease of %s", ownerID)
	}
	if !bank.ValidOwnerID(ownerID) {
		return nil
	}
	if err := p.root.Remove(p.leaseName(ownerID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fs bank: remove lease of %s: %w", ownerID, err)
	}
	return nil
}

// renewLoop renews the lease every lease_renew_window until ctx ends.
func (p *Plugin) renewLoop(ctx context.Context) {
	bank.RenewEvery(ctx, p.opts.LeaseRenewWindow, p.RenewLease, p.log)
}

// ownerGone reports whether an owner's temporary files can be removed: it
// holds no lease (temporary files are ours alone, so such an owner's lease
// was released and removed), its lease expired, or it is a previous run of
// this instance.
func (p *Plugin) ownerGone(ctx context.Context, ownerID string) bool {
	l, ok, err := p.Lease(ctx, ownerID)
	if err != nil {
		return false
	}
	return !ok || l.Expired(p.opts.Clock()) || p.opts.Holder.Supersedes(l)
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
		if owner == p.opts.OwnerID || !p.ownerGone(ctx, owner) {
			continue
		}
		if err := p.root.RemoveAll(tmpDir + "/" + owner); err != nil && !errors.Is(err, fs.ErrNotExist) {
			p.log.WithError(err).Warn("removing a dead owner's temporary files failed")
		}
	}
}
