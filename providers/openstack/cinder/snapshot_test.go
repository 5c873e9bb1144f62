package cinder_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// TestSnapshotProtect walks the snapshot plugin's protection through
// Cinder's answers.
func TestSnapshotProtect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		volume []string
		setup  func(*fakeCinder)
		params map[string]string
		reason string
	}{
		{name: "available", volume: []string{"available"}, params: map[string]string{"snapshot_name": "s", "description": "d", "force": "True"}},
		{name: "snapshot status unknown, then available", volume: []string{"available"},
			setup: func(f *fakeCinder) { f.created["snapshots"] = []string{"creating", "backing-up", "available"} }},
		{name: "volume in error", volume: []string{"error"}, reason: "Volume is in a error status: error"},
		{name: "volume gone", volume: []string{"not-found"}, reason: "Volume is in a error status: Expected HTTP response code [200]"},
		{name: "snapshot in error", volume: []string{"available"}, reason: "The status of snapshot is error",
			setup: func(f *fakeCinder) { f.created["snapshots"] = []string{"creating", "error"} }},
		{name: "snapshot refused", volume: []string{"available"}, reason: "Expected HTTP response code [202]",
			setup: func(f *fakeCinder) { f.fail["POST snapshots"] = []int{500} }},
		{name: "bad force", volume: []string{"available"}, params: map[string]string{"force": "sometimes"}, reason: `parameter force: "sometimes" is not a boolean`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCinder(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			vol := f.add("volumes", map[string]any{"size": 3}, tc.volume...)
			e := snapshotEnv(t, f)
			cp, err := e.protect(t, vol, tc.params)
			if tc.reason != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, karbor.ExcCreateResourceFailed)
				assert.Contains(t, err.Error(), "Create Volume Snapshot failed: "+tc.reason)
				assert.Equal(t, bank.StatusError, cp.Status)
				assert.Equal(t, "error", e.section(t, cp, vol, "status"))
				assert.Empty(t, f.live("snapshots"), "a failed snapshot is removed: %v", f.requests())
				return
			}
			require.NoError(t, err)
			snaps := f.live("snapshots")
			require.Len(t, snaps, 1)
			assert.Equal(t, "available", e.section(t, cp, vol, "status"))
			assert.Equal(t, `{"volume_id": "`+vol+`", "size": 3, "snapshot_id": "`+snaps[0]+`"}`, e.section(t, cp, vol, "metadata"))
			if tc.params != nil {
				f.mu.Lock()
				fields := f.objects["snapshots"][snaps[0]].fields
				f.mu.Unlock()
				assert.Equal(t, "s", fields["name"])
				assert.Equal(t, "d", fields["description"])
			}
		})
	}
}

// TestSnapshotRestoreVerifyDelete: a snapshot checkpoint restores into a
// new volume of the recorded size, reported under the original volume;
// verifies; deletes; each failure path reports its reason.
func TestSnapshotRestoreVerifyDelete(t *testing.T) {
	f := newFakeCinder(t)
	e := snapshotEnv(t, f)
	vol := f.add("volumes", map[string]any{"size": 3}, "available")
	cp, err := e.protect(t, vol, nil)
	require.NoError(t, err)
	snap := f.live("snapshots")[0]
	key := karbor.VolumeResourceType + "#" + vol

	t.Run("restore", func(t *testing.T) {
		rec, row, err := e.restore(t, cp, vol, map[string]string{"restore_name": "r"})
		require.NoError(t, err)
		assert.Equal(t, []string{"restoring", "available"}, rec.Statuses())
		assert.Equal(t, map[string]string{key: "available"}, row.ResourcesStatus)
		f.mu.Lock()
		defer f.mu.Unlock()
		var made map[string]any
		for id, o := range f.objects["volumes"] {
			if id != vol {
				made = o.fields
			}
		}
		require.NotNil(t, made)
		assert.Equal(t, "r", made["name"])
		assert.EqualValues(t, 3, made["size"])
		assert.Equal(t, snap, made["snapshot_id"])
	})
	t.Run("restore default name, volume in error", func(t *testing.T) {
		f.created["volumes"] = []string{"creating", "error"}
		defer func() { f.created["volumes"] = []string{"creating", "available"} }()
		before := f.live("volumes")
		rec, row, err := e.restore(t, cp, vol, nil)
		require.Error(t, err)
		assert.ErrorIs(t, err, karbor.ExcRestoreResourceFailed)
		assert.Equal(t, []string{"restoring", "error"}, rec.Statuses())
		assert.Equal(t, "Invalid status: error", row.ResourcesReason[key])
		assert.ElementsMatch(t, before, f.live("volumes"), "the volume in error is removed")
		assert.Contains(t, f.requests(), "POST /volumes")
	})
	t.Run("verify", func(t *testing.T) {
		rec, _, err := e.verify(t, cp, vol)
		require.NoError(t, err)
		assert.Equal(t, []string{"available"}, rec.Statuses())
		f.setStatuses("snapshots", snap, "error")
		rec, row, err := e.verify(t, cp, vol)
		require.Error(t, err)
		assert.ErrorIs(t, err, karbor.ExcVerifyResourceFailed)
		assert.Contains(t, err.Error(), "Verify Volume snapshot failed")
		assert.Equal(t, []string{"error"}, rec.Statuses())
		assert.Equal(t, "The status of volume snapshot status is error.", row.ResourcesReason[key])
		f.setStatuses("snapshots", snap, "available")
	})
	t.Run("delete", func(t *testing.T) {
		f.deleting["snapshots"] = []string{"deleting", "unmanaging", "not-found"}
		require.NoError(t, e.delete(t, cp, vol))
		assert.Empty(t, f.live("snapshots"))
		assert.Equal(t, "deleted", e.section(t, cp, vol, "status"))
	})
}

// TestDeleteWithoutMetadata: a protection that failed (and cleaned up)
// wrote no metadata; deleting its checkpoint deletes nothing in Cinder and
// succeeds.
func TestDeleteWithoutMetadata(t *testing.T) {
	f := newFakeCinder(t)
	e := backupEnv(t, f, "True")
	vol := f.add("volumes", nil, "error")
	cp, err := e.protect(t, vol, nil)
	require.Error(t, err)
	require.Equal(t, bank.StatusError, cp.Status)
	n := len(f.requests())
	require.NoError(t, e.delete(t, cp, vol))
	assert.Equal(t, "deleted", e.section(t, cp, vol, "status"))
	assert.Zero(t, count(f.requests()[n:], "DELETE"), "nothing to delete in Cinder")
}

// TestRefusedToken: Cinder's 401 ends the protection in error with
// Keystone's words.
func TestRefusedToken(t *testing.T) {
	f := newFakeCinder(t)
	e := backupEnv(t, f, "False")
	e.rc.AuthToken = "expired"
	vol := f.add("volumes", nil, "available")
	cp, err := e.protect(t, vol, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.Equal(t, bank.StatusError, cp.Status)
	assert.Empty(t, f.live("backups"))
}
