package swift

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gokarbor/karbor-protection/bank"
)

// The lease object's metadata beyond Python's: which process holds it.
// The Python service's leases have neither (a zero bank.Holder).
const (
	hostHeader        = "X-Object-Meta-Host"
	incarnationHeader = "X-Object-Meta-Incarnation"
)

func (p *Plugin) leasePath(ownerID string) string { return leasesContainer + "/" + ownerID }

// leaseHeader is what every write of the lease sends: Swift's POST
// replaces all metadata, so a renewal repeats the holder.
func (p *Plugin) leaseHeader() map[string]string {
	h := map[string]string{"X-Delete-After": strconv.Itoa(int(p.opts.LeaseExpireWindow / time.Second))}
	if p.opts.Holder.Host != "" {
		h[hostHeader] = p.opts.Holder.Host
	}
	if p.opts.Holder.Incarnation != "" {
		h[incarnationHeader] = p.opts.Holder.Incarnation
	}
	return h
}

// putLease writes leases/<owner_id> as Python's acquire_lease does: the
// owner id as body, X-Delete-After lease_expire_window, so Swift removes
// it when the owner stops renewing. The local expiry counts from before
// the request, so it is never later than Swift's.
func (p *Plugin) putLease(ctx context.Context, c *conn) error {
	start := time.Now()
	r := request{
		method:  http.MethodPut,
		path:    p.leasePath(p.opts.OwnerID),
		header:  p.leaseHeader(),
		body:    []byte(p.opts.OwnerID),
		okCodes: []int{201, 202},
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

func (p *Plugin) setExpiry(start time.Time) {
	p.expiry.Set(start.Add(p.opts.LeaseExpireWindow))
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
	resp, err := c.do(ctx, request{method: http.MethodPost, path: p.leasePath(p.opts.OwnerID), header: p.leaseHeader(), okCodes: []int{202}})
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
	return p.expiry.Valid(time.Now(), p.opts.LeaseValidityWindow)
}

// WritersHoldLeases is true: the Python plugin takes its lease before its
// first write, so an owner without a lease object is dead.
func (p *Plugin) WritersHoldLeases() bool { return true }

// Lease reads leases/<ownerID> with a HEAD. Swift hides an object once its
// X-Delete-At has passed, so an owner that stopped renewing has none.
func (p *Plugin) Lease(ctx context.Context, ownerID string) (bank.Lease, bool, error) {
	if err := ctx.Err(); err != nil {
		return bank.Lease{}, false, err
	}
	if !bank.ValidOwnerID(ownerID) {
		return bank.Lease{}, false, nil
	}
	c, err := p.conn(ctx)
	if err != nil {
		return bank.Lease{}, false, err
	}
	resp, err := c.do(ctx, request{method: http.MethodHead, path: p.leasePath(ownerID), okCodes: []int{200}})
	if isStatus(err, http.StatusNotFound) {
		return bank.Lease{}, false, nil
	}
	if err != nil {
		return bank.Lease{}, false, err
	}
	drain(resp)
	return p.leaseFromHeader(ownerID, resp.Header), true, nil
}

// leaseFromHeader is a lease object's facts. Its expiry is X-Delete-At;
// a lease object without one (not written by karbor) counts as written
// with the default window at its Last-Modified time.
func (p *Plugin) leaseFromHeader(ownerID string, h http.Header) bank.Lease {
	l := bank.Lease{OwnerID: ownerID, Holder: bank.Holder{Host: h.Get(hostHeader), Incarnation: h.Get(incarnationHeader)}}
	if at, err := strconv.ParseInt(h.Get("X-Delete-At"), 10, 64); err == nil {
		l.ExpiresAt = time.Unix(at, 0)
	} else if lm, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		l.ExpiresAt = lm.Add(p.opts.LeaseExpireWindow)
	}
	return l
}

// Leases lists the lease container and reads each lease. Names that
// cannot be owner ids, and leases gone between the listing and the read,
// are skipped.
func (p *Plugin) Leases(ctx context.Context) ([]bank.Lease, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	var out []bank.Lease
	marker := ""
	for {
		q := "format=json&limit=" + strconv.Itoa(listingLimit)
		if marker != "" {
			q += "&marker=" + marker // owner ids are key characters: no escaping needed
		}
		resp, err := c.do(ctx, request{method: http.MethodGet, path: leasesContainer, query: q, okCodes: []int{200, 204}})
		if err != nil {
			return nil, fmt.Errorf("swift bank: list leases: %w", err)
		}
		var entries []listEntry
		if resp.StatusCode == http.StatusOK {
			err = decodeJSON(resp, &entries)
		}
		drain(resp)
		if err != nil {
			return nil, fmt.Errorf("swift bank: list leases: %w", err)
		}
		for _, e := range entries {
			marker = e.Name
			if !bank.ValidOwnerID(e.Name) {
				continue
			}
			l, ok, err := p.Lease(ctx, e.Name)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, l)
			}
		}
		if len(entries) < listingLimit {
			return out, nil
		}
	}
}

// RemoveLease deletes leases/<ownerID>; a missing one is no error. The own
// lease is refused: only Close releases it.
func (p *Plugin) RemoveLease(ctx context.Context, ownerID string) error {
	if ownerID == p.opts.OwnerID {
		return fmt.Errorf("swift bank: refusing to remove the own lease of %s", ownerID)
	}
	if !bank.ValidOwnerID(ownerID) {
		return nil
	}
	c, err := p.conn(ctx)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, request{method: http.MethodDelete, path: p.leasePath(ownerID), okCodes: []int{204, 404}})
	if err != nil {
		return fmt.Errorf("swift bank: remove lease of %s: %w", ownerID, err)
	}
	drain(resp)
	return nil
}
