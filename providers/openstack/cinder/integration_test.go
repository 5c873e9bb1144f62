package cinder_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/openstack/cinder"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
)

// realCinder is the demo project of the real Cinder
// (scripts/ensure-openstack.sh): a client as the demo user, one as admin (to
// put a volume in error), and a unique prefix for every name.
type realCinder struct {
	peers  ostest.Peers
	rc     karbor.RequestContext
	c, adm *gophercloud.ServiceClient
	prefix string
	// files is where the file-backed volume driver keeps each volume's
	// bytes ("" when not on this machine).
	files string
}

func newRealCinder(t testing.TB) *realCinder {
	peers := ostest.RealPeers(t)
	f := peers.Factory(t)
	ctx := context.Background()
	// Keystone refuses tokens issued in the second of a revocation event
	// (other tests revoke the demo user's tokens): take one Cinder accepts.
	var (
		rc  karbor.RequestContext
		c   *gophercloud.ServiceClient
		err error
	)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ostest.WaitFor(t, wctx, "a token Cinder accepts", func() (bool, error) {
		rc = peers.Context(t)
		if c, err = f.Client(ctx, &rc, clients.Cinder); err != nil {
			return false, err
		}
		_, err := volumes.Get(wctx, c, "00000000-0000-0000-0000-000000000000").Extract()
		var te *clients.TokenError
		if errors.As(err, &te) {
			return false, nil
		}
		if gophercloud.ResponseCodeIs(err, 404) {
			return true, nil
		}
		return false, err
	})
	tok, body := peers.Token(t, peers.AdminUser, peers.AdminPass, peers.AdminProj)
	arc := ostest.ContextFromToken(t, tok, body)
	adm, err := f.Client(ctx, &arc, clients.Cinder)
	require.NoError(t, err)
	files := filepath.Join(os.Getenv("KARBOR_TEST_PEERS_DIR"), "cinder", "files")
	if os.Getenv("KARBOR_TEST_PEERS_DIR") == "" {
		files = "/var/lib/karbor-test-peers/cinder/files"
	}
	if _, err := os.Stat(files); err != nil {
		files = ""
	}
	return &realCinder{peers: peers, rc: rc, c: c, adm: adm, prefix: "karbor-test-" + uuid.NewString()[:8], files: files}
}

func (r *realCinder) env(t testing.TB, plugin, extra string) *env {
	rc := r.rc
	return newEnv(t, plugin, extra, r.peers.KarborConf(), &rc)
}

func (r *realCinder) wait(t testing.TB, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ostest.WaitFor(t, ctx, what, func() (bool, error) { return cond(ctx) })
}

// deleteVolume deletes a volume, its backups (a failed test may leave
// them) and its snapshots, and waits until it is gone.
func (r *realCinder) deleteVolume(t testing.TB, id string) {
	t.Helper()
	ostest.DeleteBackups(t, r.c, id)
	r.wait(t, "volume "+id+" settled", func(ctx context.Context) (bool, error) {
		v, err := volumes.Get(ctx, r.c, id).Extract()
		if gophercloud.ResponseCodeIs(err, 404) {
			return true, nil
		}
		return err == nil && v.Status != "creating" && v.Status != "restoring-backup" && v.Status != "backing-up", err
	})
	err := volumes.Delete(context.Background(), r.c, id, volumes.DeleteOpts{Cascade: true}).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("delete volume %s: %v", id, err)
		return
	}
	r.wait(t, "volume "+id+" gone", func(ctx context.Context) (bool, error) {
		_, err := volumes.Get(ctx, r.c, id).Extract()
		if gophercloud.ResponseCodeIs(err, 404) {
			return true, nil
		}
		return false, err
	})
}

// volume creates an available 1 GiB volume, deleted when the test ends;
// with the file-backed driver its first and a middle block get known
// bytes.
func (r *realCinder) volume(t testing.TB, name string) (string, []byte) {
	t.Helper()
	v, err := volumes.Create(context.Background(), r.c, volumes.CreateOpts{Size: 1, Name: r.prefix + "-" + name}, nil).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { r.deleteVolume(t, v.ID) })
	r.wait(t, "volume available", func(ctx context.Context) (bool, error) {
		got, err := volumes.Get(ctx, r.c, v.ID).Extract()
		return err == nil && got.Status == "available", err
	})
	if r.files == "" {
		return v.ID, nil
	}
	data := []byte(r.prefix + " " + name + " " + uuid.NewString())
	f, err := os.OpenFile(filepath.Join(r.files, "volume-"+v.ID), os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(data, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(data, 512<<20)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return v.ID, data
}

// assertBytes checks a restored volume holds the original's bytes.
func (r *realCinder) assertBytes(t testing.TB, id string, data []byte) {
	t.Helper()
	if r.files == "" {
		t.Log("the volume driver's files are not on this machine: bytes not compared")
		return
	}
	f, err := os.Open(filepath.Join(r.files, "volume-"+id))
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	for _, off := range []int64{0, 512 << 20} {
		got := make([]byte, len(data))
		_, err := f.ReadAt(got, off)
		require.NoError(t, err)
		assert.Equal(t, string(data), string(got), "bytes at %d", off)
	}
}

// leftovers are the snapshots and backups of a volume in Cinder.
func (r *realCinder) leftovers(t testing.TB, vol string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	pages, err := snapshots.ListDetail(r.c, snapshots.ListOpts{VolumeID: vol}).AllPages(ctx)
	require.NoError(t, err)
	ss, err := snapshots.ExtractSnapshots(pages)
	require.NoError(t, err)
	for _, s := range ss {
		out = append(out, "snapshot "+s.ID+" "+s.Status)
	}
	pages, err = backups.ListDetail(r.c, nil).AllPages(ctx)
	require.NoError(t, err)
	bs, err := backups.ExtractBackups(pages)
	require.NoError(t, err)
	for _, b := range bs {
		if b.VolumeID == vol {
			out = append(out, "backup "+b.ID+" "+b.Status)
		}
	}
	return out
}

// restored finds the volume a restore made by its (unique) name and has it
// deleted when the test ends.
func (r *realCinder) restored(t testing.TB, name string) volumes.Volume {
	t.Helper()
	pages, err := volumes.List(r.c, volumes.ListOpts{Name: name}).AllPages(context.Background())
	require.NoError(t, err)
	vs, err := volumes.ExtractVolumes(pages)
	require.NoError(t, err)
	require.Len(t, vs, 1, "one volume named %s", name)
	t.Cleanup(func() { r.deleteVolume(t, vs[0].ID) })
	return vs[0]
}

func metadata(t testing.TB, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &m), raw)
	return m
}

// TestRealCinderBackup: protect → available → verify → restore (the new
// volume holds the original bytes) → delete (the backup and the temporary
// snapshot are gone), against the real Cinder.
func TestRealCinderBackup(t *testing.T) {
	t.Parallel()
	r := newRealCinder(t)
	for _, fromSnapshot := range []bool{true, false} {
		name := map[bool]string{true: "from-snapshot", false: "direct"}[fromSnapshot]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			vol, data := r.volume(t, name)
			e := r.env(t, cinder.BackupPluginName, "[cinder_backup_protection_plugin]\npoll_interval = 1\nbackup_from_snapshot = "+map[bool]string{true: "True", false: "False"}[fromSnapshot]+"\n")
			start := time.Now()
			cp, err := e.protect(t, vol, map[string]string{"backup_name": r.prefix + "-backup", "backup_mode": "full", "force": "False"})
			require.NoError(t, err)
			t.Logf("protect: %v", time.Since(start))
			assert.Equal(t, bank.StatusAvailable, cp.Status)
			assert.Equal(t, "available", e.section(t, cp, vol, "status"))
			md := metadata(t, e.section(t, cp, vol, "metadata"))
			assert.Equal(t, vol, md["volume_id"])
			backupID, _ := md["backup_id"].(string)
			require.NotEmpty(t, backupID)
			b, err := backups.Get(context.Background(), r.c, backupID).Extract()
			require.NoError(t, err)
			assert.Equal(t, "available", b.Status)
			assert.Equal(t, r.prefix+"-backup", b.Name)
			assert.Equal(t, []string{"backup " + backupID + " available"}, r.leftovers(t, vol), "the temporary snapshot is gone")

			rec, row, err := e.verify(t, cp, vol)
			require.NoError(t, err)
			assert.Equal(t, []string{"available"}, rec.Statuses())
			assert.Equal(t, map[string]string{karbor.VolumeResourceType + "#" + vol: "available"}, row.ResourcesStatus)

			start = time.Now()
			rec, row, err = e.restore(t, cp, vol, map[string]string{"restore_name": r.prefix + "-restored-" + name, "restore_description": "restored"})
			require.NoError(t, err)
			t.Logf("restore: %v", time.Since(start))
			assert.Equal(t, []string{"restoring", "available"}, rec.Statuses())
			assert.Equal(t, map[string]string{karbor.VolumeResourceType + "#" + vol: "available"}, row.ResourcesStatus)
			nv := r.restored(t, r.prefix+"-restored-"+name)
			assert.Equal(t, "available", nv.Status)
			assert.Equal(t, "restored", nv.Description)
			assert.Equal(t, 1, nv.Size)
			r.assertBytes(t, nv.ID, data)

			start = time.Now()
			require.NoError(t, e.delete(t, cp, vol))
			t.Logf("delete: %v", time.Since(start))
			_, err = backups.Get(context.Background(), r.c, backupID).Extract()
			assert.True(t, gophercloud.ResponseCodeIs(err, 404), "the backup is gone: %v", err)
			assert.Empty(t, r.leftovers(t, vol))
		})
	}
}

// TestRealCinderSnapshot: the snapshot plugin's protect → verify → restore
// (recorded under the original volume) → delete, against the real Cinder.
func TestRealCinderSnapshot(t *testing.T) {
	t.Parallel()
	r := newRealCinder(t)
	vol, data := r.volume(t, "snap")
	e := r.env(t, cinder.SnapshotPluginName, "[volume_snapshot_plugin]\npoll_interval = 1\n")
	cp, err := e.protect(t, vol, map[string]string{"snapshot_name": r.prefix + "-snapshot", "force": "False"})
	require.NoError(t, err)
	assert.Equal(t, bank.StatusAvailable, cp.Status)
	md := metadata(t, e.section(t, cp, vol, "metadata"))
	assert.Equal(t, vol, md["volume_id"])
	assert.EqualValues(t, 1, md["size"])
	snapID, _ := md["snapshot_id"].(string)
	assert.Equal(t, []string{"snapshot " + snapID + " available"}, r.leftovers(t, vol))

	rec, _, err := e.verify(t, cp, vol)
	require.NoError(t, err)
	assert.Equal(t, []string{"available"}, rec.Statuses())

	rec, row, err := e.restore(t, cp, vol, map[string]string{"restore_name": r.prefix + "-restored"})
	require.NoError(t, err)
	assert.Equal(t, []string{"restoring", "available"}, rec.Statuses())
	assert.Equal(t, map[string]string{karbor.VolumeResourceType + "#" + vol: "available"}, row.ResourcesStatus)
	nv := r.restored(t, r.prefix+"-restored")
	r.assertBytes(t, nv.ID, data)
	// The restored volume depends on the snapshot: it goes first.
	r.deleteVolume(t, nv.ID)

	require.NoError(t, e.delete(t, cp, vol))
	assert.Empty(t, r.leftovers(t, vol))
	assert.Equal(t, "deleted", e.section(t, cp, vol, "status"))
}

// TestRealCinderFailures: a volume in error, a volume deleted before its
// protection runs, a backup that fails in cinder-backup and a refused token
// end the protection in error with the reason, and leave nothing in Cinder.
// The failing backup is asked for into a container the posix backup driver
// (scripts/ensure-openstack.sh) cannot create: an absolute path under
// /proc, which it joins to its backup_posix_path as such.
func TestRealCinderFailures(t *testing.T) {
	t.Parallel()
	r := newRealCinder(t)
	errored, _ := r.volume(t, "error")
	require.NoError(t, volumes.ResetStatus(context.Background(), r.adm, errored, volumes.ResetStatusOpts{Status: "error"}).ExtractErr())
	gone, _ := r.volume(t, "gone")
	r.deleteVolume(t, gone)
	healthy, _ := r.volume(t, "healthy")

	// Its own volume: the other cases look for leftovers on theirs.
	backedUp, _ := r.volume(t, "backed-up")
	failing := "/proc/" + r.prefix + "-no-such-container"
	for _, tc := range []struct {
		name, plugin, extra, vol, token, reason string
		params                                  map[string]string
	}{
		{"a backup that fails", cinder.BackupPluginName, "backup_from_snapshot = True", backedUp, "", failing, map[string]string{"container": failing}},
		{"backup of a volume in error", cinder.BackupPluginName, "backup_from_snapshot = False", errored, "", "Volume is in errorneous state: error", nil},
		{"backup from snapshot of a volume in error", cinder.BackupPluginName, "backup_from_snapshot = True", errored, "", "Error creating snapshot for volume", nil},
		{"backup of a deleted volume", cinder.BackupPluginName, "backup_from_snapshot = True", gone, "", "Error creating snapshot for volume", nil},
		{"backup with a refused token", cinder.BackupPluginName, "backup_from_snapshot = True", healthy, "invalid", "401", nil},
		{"snapshot of a volume in error", cinder.SnapshotPluginName, "", errored, "", "Volume is in a error status: error", nil},
		{"snapshot of a deleted volume", cinder.SnapshotPluginName, "", gone, "", "Volume is in a error status", nil},
		{"snapshot with a refused token", cinder.SnapshotPluginName, "", healthy, "invalid", "401", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			group := map[string]string{cinder.BackupPluginName: "cinder_backup_protection_plugin", cinder.SnapshotPluginName: "volume_snapshot_plugin"}[tc.plugin]
			e := r.env(t, tc.plugin, "["+group+"]\npoll_interval = 1\n"+tc.extra+"\n")
			if tc.token != "" {
				e.rc.AuthToken = tc.token
				e.rc.AuthTokenInfo = nil
			}
			cp, err := e.protect(t, tc.vol, tc.params)
			require.Error(t, err)
			assert.ErrorIs(t, err, karbor.ExcCreateResourceFailed)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Equal(t, bank.StatusError, cp.Status)
			assert.Equal(t, "error", e.section(t, cp, tc.vol, "status"))
			assert.Empty(t, r.leftovers(t, tc.vol), "nothing left behind in Cinder")
		})
	}
}

// TestRealCinderVolumeDeletedMidProtect: the volume is deleted once its
// protection has started (its section says protecting) and before the
// first poll; the protection ends in error with the volume's status and
// makes no backup.
func TestRealCinderVolumeDeletedMidProtect(t *testing.T) {
	t.Parallel()
	r := newRealCinder(t)
	vol, _ := r.volume(t, "mid")
	// The first poll comes poll_interval after the status is written:
	// room enough to delete the volume first.
	e := r.env(t, cinder.BackupPluginName, "[cinder_backup_protection_plugin]\npoll_interval = 3\nbackup_from_snapshot = False\n")
	deleted := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			matches, _ := filepath.Glob(filepath.Join(e.bank, "*", "checkpoints", "*", "resource-data", vol, "status"))
			if len(matches) == 1 {
				if b, err := os.ReadFile(matches[0]); err == nil && string(b) == "protecting" {
					deleted <- volumes.Delete(ctx, r.c, vol, volumes.DeleteOpts{}).ExtractErr()
					return
				}
			}
			select {
			case <-ctx.Done():
				deleted <- ctx.Err()
				return
			case <-tick.C:
			}
		}
	}()
	cp, err := e.protect(t, vol, nil)
	require.NoError(t, <-deleted, "the volume is deleted while protected")
	require.Error(t, err)
	assert.ErrorIs(t, err, karbor.ExcCreateResourceFailed)
	assert.Regexp(t, `Volume is in errorneous state: (deleting|not-found)`, err.Error())
	assert.Equal(t, bank.StatusError, cp.Status)
	assert.Equal(t, "error", e.section(t, cp, vol, "status"))
	assert.Empty(t, r.leftovers(t, vol))
}
