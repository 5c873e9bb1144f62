package swift

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gokarbor/karbor-protection/bank"
)

func (p *Plugin) leasePath(ownerID string) string { return leasesContainer + "/" + ownerID }

// putLease writes leases/<owner_id> as Python's acquire_lease does: the
// owner id as body, X-Delete-After lease_expire_window, so Swift removes
// it when the owner stops renewing. The local expiry counts from before
// the request, so it is never later than Swift's.
func (p *Plugin) putLease(ctx context.Context, c *conn) error {
	start := time.Now()
	r := request{
		method:  http.MethodPut,
		path:    p.leasePath(p.opts.OwnerID),
		header:  map[string]string{"X-Delete-After": p.expireSeconds()},
		body:    []byte(p.opts.OwnerID),
		okCodes: []int{201},
	}
	resp, err := c.do(ctx, r)
	if isStatus(err, http.StatusNotFound) { // the leases container was deleted
		if err = c.putContainer(ctx, leasesContainer); err == nil {
			resp, err = c.do(ctx, r)
		}
	}
	if err != nil {
		return err
	}
	drain(resp)
	p.setExpiry(start)
	return nil
}

func (p *Plugin) expireSeconds() string {
	return strconv.Itoa(int(p.opts.LeaseExpireWindow / time.Second))
}

func (p *Plugin) setExpiry(start time.Time) {
	p.leaseMu.Lock()
	p.expireAt = start.Add(p.opts.LeaseExpireWindow)
	p.leaseMu.Unlock()
}

// AcquireLease takes (or takes again) this owner's lease.
func (p *Plugin) AcquireLease(ctx context.Context) error {
	c, err := p.conn(ctx)
	if err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	if err := p.putLease(ctx, c); err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	return nil
}

// RenewLease extends the lease with Python's POST and X-Delete-After. A
// lease Swift already removed (the owner could not renew in time) is taken
// again with a PUT, where Python would only log the 404 and lose it for
// good.
func (p *Plugin) RenewLease(ctx context.Context) error {
	c, err := p.conn(ctx)
	if err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	start := time.Now()
	resp, err := c.do(ctx, request{
		method:  http.MethodPost,
		path:    p.leasePath(p.opts.OwnerID),
		header:  map[string]string{"X-Delete-After": p.expireSeconds()},
		okCodes: []int{202},
	})
	if isStatus(err, http.StatusNotFound) {
		err = p.putLease(ctx, c)
	} else if err == nil {
		drain(resp)
		p.setExpiry(start)
	}
	if err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	return nil
}

// LeaseValid is check_lease_validity: at least lease_validity_window of
// the lease is left.
func (p *Plugin) LeaseValid() bool {
	p.leaseMu.Lock()
	defer p.leaseMu.Unlock()
	return time.Until(p.expireAt) >= p.opts.LeaseValidityWindow
}

// OwnerAlive reports whether ownerID's lease object exists: Swift hides an
// object once its X-Delete-After has passed, so an owner that stopped
// renewing is dead from then on. Owners that cannot name a lease object
// hold none.
func (p *Plugin) OwnerAlive(ctx context.Context, ownerID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if ownerID == p.opts.OwnerID {
		return p.LeaseValid(), nil
	}
	if !validOwner(ownerID) {
		return false, nil
	}
	c, err := p.conn(ctx)
	if err != nil {
		return false, err
	}
	resp, err := c.do(ctx, request{method: http.MethodHead, path: p.leasePath(ownerID), okCodes: []int{200}})
	if isStatus(err, http.StatusNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	drain(resp)
	return true, nil
}
