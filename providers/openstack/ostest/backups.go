package ostest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
)

// DeleteBackups deletes every Cinder backup of volume, once it is no
// longer being made, and waits until they are gone: a test that protected
// the volume and failed before deleting its checkpoint leaves nothing.
func DeleteBackups(t testing.TB, c *gophercloud.ServiceClient, volume string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mine := func() ([]backups.Backup, error) {
		pages, err := backups.ListDetail(c, nil).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		all, err := backups.ExtractBackups(pages)
		return slices.DeleteFunc(all, func(b backups.Backup) bool { return b.VolumeID != volume }), err
	}
	WaitFor(t, ctx, "backups of volume "+volume+" gone", func() (bool, error) {
		bs, err := mine()
		for _, b := range bs {
			if b.Status == "available" || b.Status == "error" {
				if err := backups.Delete(ctx, c, b.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
					return false, err
				}
			}
		}
		return len(bs) == 0, err
	})
}
