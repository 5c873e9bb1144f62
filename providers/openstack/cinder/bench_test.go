package cinder_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/providers/openstack/cinder"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// planVolumes is the size of the plan BenchmarkProtect50Volumes protects:
// 50, or KARBOR_BENCH_PLAN_VOLUMES. cinder-backup holds a backup_file_size
// buffer for each backup it makes (up to 15 at once); with its default
// (1.9 GB) each 1 GiB test volume's backup holds the whole volume, so a
// deployment older than scripts/ensure-openstack.sh's 64 MiB needs a
// smaller plan on a small machine.
func planVolumes(b *testing.B) int {
	n, err := strconv.Atoi(rpctest.EnvOr("KARBOR_BENCH_PLAN_VOLUMES", "50"))
	require.NoError(b, err, "KARBOR_BENCH_PLAN_VOLUMES")
	require.Positive(b, n, "KARBOR_BENCH_PLAN_VOLUMES")
	return n
}

// volumesNamed lists the project's volumes whose names start with prefix.
func (r *realCinder) volumesNamed(ctx context.Context, prefix string) ([]volumes.Volume, error) {
	pages, err := volumes.List(r.c, volumes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	all, err := volumes.ExtractVolumes(pages)
	var mine []volumes.Volume
	for _, v := range all {
		if strings.HasPrefix(v.Name, prefix) {
			mine = append(mine, v)
		}
	}
	return mine, err
}

// backupsSpread is the time between the first and the last creation of the
// volumes' backups, as Cinder records them (to the second): how far from
// all at once the plugin asked for them.
func (r *realCinder) backupsSpread(b *testing.B, vols []string) time.Duration {
	b.Helper()
	pages, err := backups.ListDetail(r.c, nil).AllPages(context.Background())
	require.NoError(b, err)
	all, err := backups.ExtractBackups(pages)
	require.NoError(b, err)
	var first, last time.Time
	found := 0
	for _, bk := range all {
		if !slices.Contains(vols, bk.VolumeID) {
			continue
		}
		found++
		if first.IsZero() || bk.CreatedAt.Before(first) {
			first = bk.CreatedAt
		}
		if bk.CreatedAt.After(last) {
			last = bk.CreatedAt
		}
	}
	require.Equal(b, len(vols), found, "one backup of each volume")
	return last.Sub(first)
}

// volumes creates n available 1 GiB volumes at once, deleted (with their
// backups) when the benchmark ends.
func (r *realCinder) volumes(b *testing.B, n int) []string {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	prefix := r.prefix + "-bench-"
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		vs, err := r.volumesNamed(ctx, prefix)
		require.NoError(b, err)
		for _, v := range vs {
			ostest.DeleteBackups(b, r.c, v.ID)
			if err := volumes.Delete(ctx, r.c, v.ID, volumes.DeleteOpts{Cascade: true}).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
				b.Errorf("delete volume %s: %v", v.ID, err)
			}
		}
		ostest.WaitFor(b, ctx, "the benchmark's volumes gone", func() (bool, error) {
			vs, err := r.volumesNamed(ctx, prefix)
			return len(vs) == 0, err
		})
	})
	ids := make([]string, n)
	for i := range ids {
		v, err := volumes.Create(ctx, r.c, volumes.CreateOpts{Size: 1, Name: prefix + strconv.Itoa(i)}, nil).Extract()
		require.NoError(b, err)
		ids[i] = v.ID
	}
	ostest.WaitFor(b, ctx, "the benchmark's volumes available", func() (bool, error) {
		vs, err := r.volumesNamed(ctx, prefix)
		ready := 0
		for _, v := range vs {
			if v.Status == "available" {
				ready++
			}
		}
		return ready == n, err
	})
	return ids
}

// BenchmarkProtect50Volumes protects, with the Cinder backup plugin against
// the real Cinder and its backup service, one volume alone and then a plan
// of 50 (planVolumes; the first among them) in the same run. It reports
// both wall times, the plan's against 50 times the one volume's (1: the
// backups ran one after the other; 1/50: they all overlapped) and how long
// after the first backup the last was asked for. Each checkpoint is deleted
// (its backups with it) outside the timings. The backups are made from the
// volumes directly (backup_from_snapshot = False), so that what is measured
// is the backups.
func BenchmarkProtect50Volumes(b *testing.B) {
	n := planVolumes(b)
	r := newRealCinder(b)
	vols := r.volumes(b, n)
	e := r.env(b, cinder.BackupPluginName, "[cinder_backup_protection_plugin]\npoll_interval = 1\nbackup_from_snapshot = False\n")

	var one, all, spread time.Duration
	for b.Loop() {
		start := time.Now()
		cp, err := e.protect(b, vols[0], nil)
		one += time.Since(start)
		require.NoError(b, err)
		require.Equal(b, bank.StatusAvailable, cp.Status)
		require.NoError(b, e.delete(b, cp, vols[0]))

		start = time.Now()
		cp, err = e.protectAll(b, vols, nil)
		all += time.Since(start)
		require.NoError(b, err)
		require.Equal(b, bank.StatusAvailable, cp.Status)
		spread = max(spread, r.backupsSpread(b, vols))
		require.NoError(b, e.delete(b, cp, vols...))
	}
	b.ReportMetric(one.Seconds()/float64(b.N), "one-volume-s")
	b.ReportMetric(float64(n), "volumes")
	b.ReportMetric(all.Seconds()/float64(b.N), "plan-s")
	b.ReportMetric(all.Seconds()/(float64(n)*one.Seconds()), "x-of-serial")
	b.ReportMetric(spread.Seconds(), "backups-created-within-s")
}
