package s3

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gokarbor/karbor-protection/bank"
)

// Lease object metadata. leaseExpireMeta is the Python plugin's (boto3's
// Metadata={'lease-expire-time': '<epoch seconds>'}, on the wire
// x-amz-meta-lease-expire-time). S3 has no expiry of its own: the Python
// plugin re-PUTs the object with a new time at every renewal, and a reader
// compares the time with its clock. host and incarnation record the
// bank.Holder; Python's leases have neither.
const (
	leaseExpireMeta      = "lease-expire-time"
	leaseHostMeta        = "host"
	leaseIncarnationMeta = "incarnation"
)

// AcquireLease writes the lease object <owner_id> in the lease bucket, body
// the owner id, expiring lease_expire_window from now (whole seconds, as
// Python's math.floor(time.time())).
func (p *Plugin) AcquireLease(ctx context.Context) error {
	expires := p.opts.Clock().Truncate(time.Second).Add(p.opts.LeaseExpireWindow)
	if err := p.writeLease(ctx, expires); err != nil {
		return &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	p.expiry.Set(expires)
	return nil
}

func (p *Plugin) writeLease(ctx context.Context, expires time.Time) error {
	meta := map[string]string{leaseExpireMeta: strconv.FormatInt(expires.Unix(), 10)}
	if h := p.opts.Holder; h.Host != "" || h.Incarnation != "" {
		meta[leaseHostMeta], meta[leaseIncarnationMeta] = h.Host, h.Incarnation
	}
	_, err := p.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(p.opts.LeaseBucket),
		Key:           aws.String(p.opts.OwnerID),
		Body:          strings.NewReader(p.opts.OwnerID),
		ContentLength: aws.Int64(int64(len(p.opts.OwnerID))),
		Metadata:      meta,
	})
	return p.newError("PutObject", err)
}

// RenewLease re-writes the lease with a new expiry, as Python does.
func (p *Plugin) RenewLease(ctx context.Context) error { return p.AcquireLease(ctx) }

// LeaseValid is check_lease_validity: at least lease_validity_window of
// the lease is left.
func (p *Plugin) LeaseValid() bool {
	return p.expiry.Valid(p.opts.Clock(), p.opts.LeaseValidityWindow)
}

// WritersHoldLeases is true: the Python S3 plugin writes its lease object
// before its first write, so an owner without one is dead.
func (p *Plugin) WritersHoldLeases() bool { return true }

// Lease reads the lease object of ownerID (a HEAD: everything is in the
// metadata). An object without a readable lease-expire-time is not a lease.
func (p *Plugin) Lease(ctx context.Context, ownerID string) (bank.Lease, bool, error) {
	if err := ctx.Err(); err != nil {
		return bank.Lease{}, false, err
	}
	if !bank.ValidOwnerID(ownerID) {
		return bank.Lease{}, false, nil
	}
	out, err := confirmMissing(p, "HeadObject", func() (*s3.HeadObjectOutput, error) {
		return p.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(p.opts.LeaseBucket), Key: aws.String(ownerID)})
	})
	if err != nil {
		err = p.newError("HeadObject", err)
		if errors.Is(err, bank.ErrNotFound) {
			return bank.Lease{}, false, nil
		}
		return bank.Lease{}, false, err
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(metadata(out.Metadata, leaseExpireMeta)), 10, 64)
	if err != nil {
		return bank.Lease{}, false, fmt.Errorf("s3 bank: lease object %s/%s has no lease-expire-time", p.opts.LeaseBucket, ownerID)
	}
	return bank.Lease{
		OwnerID:   ownerID,
		Holder:    bank.Holder{Host: metadata(out.Metadata, leaseHostMeta), Incarnation: metadata(out.Metadata, leaseIncarnationMeta)},
		ExpiresAt: time.Unix(secs, 0),
	}, true, nil
}

// Leases lists the lease bucket and reads each lease; objects that are not
// leases are skipped.
func (p *Plugin) Leases(ctx context.Context) ([]bank.Lease, error) {
	var out []bank.Lease
	after := ""
	for {
		in := &s3.ListObjectsInput{Bucket: aws.String(p.opts.LeaseBucket), MaxKeys: aws.Int32(pageSize)}
		if after != "" {
			in.Marker = aws.String(after)
		}
		res, err := p.client.ListObjects(ctx, in)
		if err != nil {
			return nil, &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: p.newError("ListObjects", err)}
		}
		for _, o := range res.Contents {
			owner := aws.ToString(o.Key)
			l, ok, err := p.Lease(ctx, owner)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				p.log.WithError(err).WithField("lease", owner).Warn("Skipping an unreadable lease object")
				continue
			}
			if ok {
				out = append(out, l)
			}
		}
		if !aws.ToBool(res.IsTruncated) || len(res.Contents) == 0 {
			return out, nil
		}
		after = aws.ToString(res.Contents[len(res.Contents)-1].Key)
	}
}

// RemoveLease deletes ownerID's lease object. Removing the own lease is
// refused: only Close releases it.
func (p *Plugin) RemoveLease(ctx context.Context, ownerID string) error {
	if ownerID == p.opts.OwnerID {
		return fmt.Errorf("s3 bank: refusing to remove the own lease of %s", ownerID)
	}
	if !bank.ValidOwnerID(ownerID) {
		return nil
	}
	_, err := p.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(p.opts.LeaseBucket), Key: aws.String(ownerID)})
	return p.newError("DeleteObject", err)
}

// releaseLease stores the own lease expired now, so the owner is dead at
// once and its Holder stays known until recovery removes the lease.
func (p *Plugin) releaseLease(ctx context.Context) error {
	return p.writeLease(ctx, p.opts.Clock())
}

// renewLoop renews the lease every lease_renew_window until ctx ends.
func (p *Plugin) renewLoop(ctx context.Context) {
	bank.RenewEvery(ctx, p.opts.LeaseRenewWindow, p.RenewLease, p.log)
}
