package cinder

import (
	"context"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
)

// The status getters of the polls: a 404 reads as statusNotFound.

func volumeStatus(c *gophercloud.ServiceClient, id string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		v, err := volumes.Get(ctx, c, id).Extract()
		return status(v, err, func(v *volumes.Volume) string { return v.Status })
	}
}

func snapshotStatus(c *gophercloud.ServiceClient, id string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		s, err := snapshots.Get(ctx, c, id).Extract()
		return status(s, err, func(s *snapshots.Snapshot) string { return s.Status })
	}
}

func backupStatus(c *gophercloud.ServiceClient, id string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		b, err := backups.Get(ctx, c, id).Extract()
		return status(b, err, func(b *backups.Backup) string { return b.Status })
	}
}

func status[T any](v *T, err error, f func(*T) string) (string, error) {
	if notFound(err) {
		return statusNotFound, nil
	}
	if err != nil {
		return "", err
	}
	return f(v), nil
}

// deleteAndWait deletes a snapshot or backup (a 404 counts as deleted) and
// polls until it is gone; ending in a failure status is an error that
// names what ("snapshot <id>") and the status.
func deleteAndWait(ctx context.Context, interval time.Duration, what string, del error, s statuses, get func(context.Context) (string, error)) error {
	if del != nil && !notFound(del) {
		return del
	}
	st, ok, err := poll(ctx, interval, s, get)
	if err == nil && !ok {
		err = fmt.Errorf("%s is %s", what, st)
	}
	return err
}
