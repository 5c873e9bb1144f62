package cinder_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/providers/providerstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/cinder"
)

func backupEnv(t *testing.T, f *fakeCinder, fromSnapshot string) *env {
	return newEnv(t, cinder.BackupPluginName, "[cinder_backup_protection_plugin]\npoll_interval = 0\nbackup_from_snapshot = "+fromSnapshot+"\n", f.karborConf(), f.context())
}

func snapshotEnv(t *testing.T, f *fakeCinder) *env {
	return newEnv(t, cinder.SnapshotPluginName, "[volume_snapshot_plugin]\npoll_interval = 0\n", f.karborConf(), f.context())
}

// TestPluginsAndSchemas: both plugins register under karbor's entry-point
// and class names, protect volumes, publish karbor's schemas and implement
// every operation but copy.
func TestPluginsAndSchemas(t *testing.T) {
	assert.Contains(t, providers.Plugins(), cinder.BackupPluginName)
	assert.Contains(t, providers.Plugins(), cinder.SnapshotPluginName)
	b, err := cinder.NewBackupPlugin(nil, nil)
	require.NoError(t, err)
	s, err := cinder.NewSnapshotPlugin(nil, nil)
	require.NoError(t, err)
	for name, p := range map[string]providers.ProtectionPlugin{"backup": b, "snapshot": s} {
		assert.Equal(t, []string{karbor.VolumeResourceType}, p.ResourceTypes())
		sc := p.Schemas(karbor.VolumeResourceType)
		for kind, got := range map[string]json.RawMessage{"options": sc.Options, "restore": sc.Restore, "saved_info": sc.SavedInfo} {
			want, err := os.ReadFile("schemas/" + name + "_" + kind + ".json")
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got), "%s %s", name, kind)
			assert.True(t, json.Valid(got))
		}
		for _, op := range []providers.Op{providers.OpProtect, providers.OpRestore, providers.OpVerify, providers.OpDelete} {
			h, err := p.Hooks(op, graph.Resource{Type: karbor.VolumeResourceType, ID: "v"})
			require.NoError(t, err)
			assert.NotNil(t, h)
		}
		_, err := p.Hooks(providers.OpCopy, graph.Resource{Type: karbor.VolumeResourceType, ID: "v"})
		assert.ErrorIs(t, err, providers.ErrNotImplemented)
	}
	var opts map[string]any
	require.NoError(t, json.Unmarshal(b.Schemas("").Options, &opts))
	assert.Equal(t, []any{"full", "incremental"}, opts["properties"].(map[string]any)["backup_mode"].(map[string]any)["enum"])
}

// TestBadOptions: a provider file with an unreadable or negative
// poll_interval, or a non-boolean backup_from_snapshot, fails to load with
// the option named.
func TestBadOptions(t *testing.T) {
	for _, tc := range []struct{ group, body, want string }{
		{"cinder_backup_protection_plugin", "poll_interval = soon", "poll_interval"},
		{"cinder_backup_protection_plugin", "poll_interval = -1", "poll_interval: -1 is negative"},
		{"cinder_backup_protection_plugin", "backup_from_snapshot = maybe", "backup_from_snapshot"},
		{"volume_snapshot_plugin", "poll_interval = 1.5", "poll_interval"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			f, err := config.ParseFile("p.conf", []byte("["+tc.group+"]\n"+tc.body+"\n"))
			require.NoError(t, err)
			conf := config.New(config.ProviderRegistry(), []*config.File{f}, nil)
			if tc.group == "volume_snapshot_plugin" {
				_, err = cinder.NewSnapshotPlugin(conf, nil)
			} else {
				_, err = cinder.NewBackupPlugin(conf, nil)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestBackupProtect walks the backup plugin's protection through Cinder's
// answers: each ends with the checkpoint's status and the section's, the
// reason, and nothing left in Cinder but the backup of a success.
func TestBackupProtect(t *testing.T) {
	for _, tc := range []struct {
		name         string
		fromSnapshot string
		volume       []string // the volume's statuses
		setup        func(*fakeCinder)
		params       map[string]string
		reason       string // "" for success
		backupLeft   bool
		noBackupPost bool
	}{
		{name: "from snapshot", fromSnapshot: "True", volume: []string{"available"}, backupLeft: true},
		{name: "direct", fromSnapshot: "False", volume: []string{"available"}, backupLeft: true},
		{name: "volume busy, then in use", fromSnapshot: "True", volume: []string{"backing-up", "attaching", "in-use"}, backupLeft: true,
			params: map[string]string{"backup_mode": "incremental", "force": "True", "container": "c", "backup_name": "n", "description": "d"}},
		{name: "volume in error", fromSnapshot: "True", volume: []string{"error"}, reason: "Volume is in errorneous state: error", noBackupPost: true},
		{name: "volume gone", fromSnapshot: "False", volume: []string{"not-found"}, reason: "Volume is in errorneous state: not-found", noBackupPost: true},
		{name: "volume in an unknown status", fromSnapshot: "False", volume: []string{"maintenance"}, reason: "Volume is in errorneous state: maintenance", noBackupPost: true},
		{name: "snapshot in error", fromSnapshot: "True", volume: []string{"available"}, reason: "Error creating snapshot for volume: snapshot", noBackupPost: true,
			setup: func(f *fakeCinder) { f.created["snapshots"] = []string{"creating", "error"} }},
		{name: "snapshot refused", fromSnapshot: "True", volume: []string{"available"}, reason: "Error creating snapshot for volume: Expected HTTP response code [202]", noBackupPost: true,
			setup: func(f *fakeCinder) { f.fail["POST snapshots"] = []int{500} }},
		{name: "backup in error", fromSnapshot: "True", volume: []string{"available"}, reason: "the backup driver failed",
			setup: func(f *fakeCinder) { f.created["backups"] = []string{"creating", "error"} }},
		{name: "backup refused", fromSnapshot: "True", volume: []string{"available"}, reason: "500",
			setup: func(f *fakeCinder) { f.fail["POST backups"] = []int{503} }},
		{name: "backup polled into a 5xx", fromSnapshot: "False", volume: []string{"available"}, reason: "500",
			setup: func(f *fakeCinder) { f.fail["GET backups"] = []int{500} }},
		{name: "bad backup_mode", fromSnapshot: "True", volume: []string{"available"}, params: map[string]string{"backup_mode": "differential"},
			reason: `parameter backup_mode: "differential" is neither full nor incremental`, noBackupPost: true},
		{name: "bad force", fromSnapshot: "False", volume: []string{"available"}, params: map[string]string{"force": "yes please"},
			reason: `parameter force: "yes please" is not a boolean`, noBackupPost: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCinder(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			vol := f.add("volumes", map[string]any{"size": 1}, tc.volume...)
			e := backupEnv(t, f, tc.fromSnapshot)
			cp, err := e.protect(t, vol, tc.params)
			log := f.requests()
			if tc.reason == "" {
				require.NoError(t, err)
				assert.Equal(t, bank.StatusAvailable, cp.Status)
				assert.Equal(t, "available", e.section(t, cp, vol, "status"))
				backups := f.live("backups")
				require.Len(t, backups, 1)
				assert.Equal(t, `{"volume_id": "`+vol+`", "backup_id": "`+backups[0]+`"}`, e.section(t, cp, vol, "metadata"), "karbor's metadata, as json.dumps writes it")
			} else {
				require.Error(t, err)
				assert.ErrorIs(t, err, karbor.ExcCreateResourceFailed)
				assert.Contains(t, err.Error(), tc.reason)
				assert.Contains(t, err.Error(), "Create Volume Backup failed")
				assert.Equal(t, bank.StatusError, cp.Status)
				assert.Equal(t, "error", e.section(t, cp, vol, "status"))
				assert.Empty(t, f.live("backups"), "a failed backup is removed: %v", log)
			}
			if tc.backupLeft {
				assert.Len(t, f.live("backups"), 1)
			}
			assert.Empty(t, f.live("snapshots"), "the temporary snapshot is removed: %v", log)
			assert.Equal(t, map[string]int{"True": 1, "False": 0}[tc.fromSnapshot], count(log, "POST /snapshots"), log)
			if tc.noBackupPost {
				assert.Zero(t, count(log, "POST /backups"), log)
			}
		})
	}
}

// TestBackupProtectParameters: the plan's parameters reach Cinder's backup
// request as karbor sends them.
func TestBackupProtectParameters(t *testing.T) {
	f := newFakeCinder(t)
	vol := f.add("volumes", nil, "available")
	var body map[string]any
	f.onRequest = func(line string) {
		if line == "POST /backups" {
			f.mu.Lock()
			defer f.mu.Unlock()
			for id, o := range f.objects["backups"] {
				body = map[string]any{"id": id}
				for k, v := range o.fields {
					body[k] = v
				}
			}
		}
	}
	e := backupEnv(t, f, "True")
	_, err := e.protect(t, vol, map[string]string{"backup_name": "nightly", "description": "d"})
	require.NoError(t, err)
	require.NotNil(t, body)
	assert.Equal(t, "nightly", body["name"])
	assert.Equal(t, "d", body["description"])
	assert.Equal(t, vol, body["volume_id"])
	assert.NotEmpty(t, body["snapshot_id"], "backed up from the temporary snapshot")
}

// TestBackupProtectCancelled: a stopping service ends a protection waiting
// on a long backup at once; the backup, once Cinder finishes it, and the
// temporary snapshot are removed.
func TestBackupProtectCancelled(t *testing.T) {
	f := newFakeCinder(t)
	f.created["backups"] = []string{"creating"}
	vol := f.add("volumes", nil, "available")
	e := newEnv(t, cinder.BackupPluginName, "[cinder_backup_protection_plugin]\npoll_interval = 1\n", f.karborConf(), f.context())
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	e.ctx = ctx
	f.onRequest = func(line string) {
		if line == "POST /backups" {
			cancel()
			// Cinder finishes the backup after the service stopped
			// waiting for it.
			f.mu.Lock()
			for _, o := range f.objects["backups"] {
				o.statuses = []string{"creating", "available"}
			}
			f.mu.Unlock()
		}
	}
	start := time.Now()
	plan := &karbor.Plan{ID: "632d8f7d-e2c3-4f31-82ea-900d8afb9880", ProviderID: providerID, ProjectID: fakeProject,
		Resources: []karbor.PlanResource{{ID: vol, Type: karbor.VolumeResourceType}}}
	op, _, err := providers.NewBuilder(providerstest.FixedGraph(volumeGraph(vol)), db.NewMemory()).BuildProtect(ctx, e.rc, e.p, plan, providers.CheckpointProperties{})
	require.NoError(t, err)
	err = op.Run(ctx)
	require.Error(t, err)
	t.Logf("cancelled protect returned after %v", time.Since(start))
	assert.Empty(t, f.live("backups"), f.requests())
	assert.Empty(t, f.live("snapshots"), f.requests())
}

// TestLongBackupBlocksNothingElse: while one volume's backup stays
// "creating", another protection on the same provider runs to its end and
// the provider's checkpoints are read; the long one then ends in its turn.
func TestLongBackupBlocksNothingElse(t *testing.T) {
	f := newFakeCinder(t)
	e := newEnv(t, cinder.BackupPluginName, "[cinder_backup_protection_plugin]\npoll_interval = 1\nbackup_from_snapshot = False\n", f.karborConf(), f.context())
	slow, quick := f.add("volumes", nil, "available"), f.add("volumes", nil, "available")
	f.mu.Lock()
	f.created["backups"] = []string{"creating"} // until released below
	f.mu.Unlock()
	plan := &karbor.Plan{ID: "632d8f7d-e2c3-4f31-82ea-900d8afb9880", ProviderID: providerID, ProjectID: fakeProject,
		Resources: []karbor.PlanResource{{ID: slow, Type: karbor.VolumeResourceType}}}
	op, slowCP, err := providers.NewBuilder(providerstest.FixedGraph(volumeGraph(slow)), db.NewMemory()).BuildProtect(e.ctx, e.rc, e.p, plan, providers.CheckpointProperties{})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- op.Run(e.ctx) }()
	var long string
	require.Eventually(t, func() bool {
		if b := f.live("backups"); len(b) == 1 {
			long = b[0]
			return true
		}
		return false
	}, 30*time.Second, 10*time.Millisecond, "the slow volume's backup is being made")
	f.mu.Lock()
	f.created["backups"] = []string{"creating", "available"}
	f.mu.Unlock()

	cp, err := e.protect(t, quick, nil)
	require.NoError(t, err)
	assert.Equal(t, bank.StatusAvailable, cp.Status)
	cps, err := e.p.Checkpoints().List(e.ctx, bank.ListQuery{ProviderID: providerID, ProjectID: fakeProject})
	require.NoError(t, err)
	statuses := map[string]int{}
	for _, c := range cps {
		statuses[c.Status]++
	}
	assert.Equal(t, map[string]int{bank.StatusProtecting: 1, bank.StatusAvailable: 1}, statuses)
	select {
	case <-done:
		t.Fatal("the slow volume's protection ended while its backup was being made")
	default:
	}

	f.setStatuses("backups", long, "available")
	require.NoError(t, <-done)
	got, err := e.p.Checkpoints().Get(e.ctx, slowCP)
	require.NoError(t, err)
	assert.Equal(t, bank.StatusAvailable, got.Status)
}

// protected is a checkpoint the backup plugin protected on the fake, its
// volume and backup; setup, if any, then changes the fake.
func protected(t *testing.T, f *fakeCinder, e *env, setup func(*fakeCinder, string)) (*bank.Checkpoint, string, string) {
	t.Helper()
	vol := f.add("volumes", map[string]any{"size": 1}, "available")
	cp, err := e.protect(t, vol, nil)
	require.NoError(t, err)
	backups := f.live("backups")
	require.Len(t, backups, 1)
	if setup != nil {
		setup(f, backups[0])
	}
	return cp, vol, backups[0]
}

// TestBackupRestore: the restore's volume, its name, the results reported
// and the cleanup of a failed one.
func TestBackupRestore(t *testing.T) {
	for _, tc := range []struct {
		name     string
		restored []string
		setup    func(*fakeCinder, string)
		params   map[string]string
		reason   string
		trail    []string
	}{
		{name: "default name", restored: []string{"restoring-backup", "downloading", "available"}, trail: []string{"restoring", "available"}},
		{name: "named", restored: []string{"available"}, params: map[string]string{"restore_name": "back", "restore_description": "again"}, trail: []string{"restoring", "available"}},
		{name: "restored volume in error", restored: []string{"restoring-backup", "error"}, reason: "Error creating volume: error", trail: []string{"restoring", "error"}},
		{name: "restored volume vanishes", restored: []string{"not-found"}, reason: "Error creating volume: Expected HTTP response code [200]", trail: []string{"restoring", "error"}},
		{name: "backup gone", setup: func(f *fakeCinder, b string) { f.setStatuses("backups", b, "not-found") },
			reason: "Error creating volume: Expected HTTP response code [202]", trail: []string{"error"}},
		{name: "restore refused", setup: func(f *fakeCinder, _ string) { f.fail["POST backups"] = []int{500} },
			reason: "Error creating volume", trail: []string{"error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCinder(t)
			e := backupEnv(t, f, "True")
			cp, vol, _ := protected(t, f, e, tc.setup)
			if tc.restored != nil {
				f.created["restored"] = tc.restored
			}
			before := f.live("volumes")
			rec, row, err := e.restore(t, cp, vol, tc.params)
			assert.Equal(t, tc.trail, rec.Statuses())
			key := karbor.VolumeResourceType + "#" + vol
			if tc.reason != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, karbor.ExcRestoreResourceFailed)
				assert.Contains(t, err.Error(), tc.reason)
				assert.Equal(t, map[string]string{key: "error"}, row.ResourcesStatus)
				assert.Contains(t, row.ResourcesReason[key], tc.reason)
				assert.ElementsMatch(t, before, f.live("volumes"), "a failed restore leaves no volume: %v", f.requests())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, map[string]string{key: "available"}, row.ResourcesStatus)
			var made string
			for _, id := range f.live("volumes") {
				if id != vol {
					made = id
				}
			}
			require.NotEmpty(t, made)
			f.mu.Lock()
			fields := f.objects["volumes"][made].fields
			f.mu.Unlock()
			if tc.params == nil {
				assert.Equal(t, cp.ID+"@"+vol, fields["name"])
				assert.NotContains(t, fields, "description")
			} else {
				assert.Equal(t, "back", fields["name"])
				assert.Equal(t, "again", fields["description"])
			}
		})
	}
}

// TestBackupVerify: available is available; any other status, a missing
// backup or a 5xx is that status or error, with the reason, and fails.
func TestBackupVerify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(*fakeCinder, string)
		status string
		reason string
	}{
		{name: "available", status: "available"},
		{name: "in error", setup: func(f *fakeCinder, b string) { f.setStatuses("backups", b, "error") }, status: "error",
			reason: "The status of volume backup status is error."},
		{name: "restoring", setup: func(f *fakeCinder, b string) { f.setStatuses("backups", b, "restoring") }, status: "restoring",
			reason: "The status of volume backup status is restoring."},
		{name: "gone", setup: func(f *fakeCinder, b string) { f.setStatuses("backups", b, "not-found") }, status: "error",
			reason: "Error getting volume backup: Expected HTTP response code [200]"},
		{name: "5xx", setup: func(f *fakeCinder, _ string) { f.fail["GET backups"] = []int{500} }, status: "error", reason: "Error getting volume backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCinder(t)
			e := backupEnv(t, f, "False")
			cp, vol, _ := protected(t, f, e, tc.setup)
			rec, row, err := e.verify(t, cp, vol)
			key := karbor.VolumeResourceType + "#" + vol
			assert.Equal(t, []string{tc.status}, rec.Statuses())
			assert.Equal(t, map[string]string{key: tc.status}, row.ResourcesStatus)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, karbor.ExcVerifyResourceFailed)
			assert.Contains(t, row.ResourcesReason[key], tc.reason)
		})
	}
}

// TestBackupDelete: the backup goes, then the metadata; a backup already
// gone is deleted; one that fails to go leaves the section in error.
func TestBackupDelete(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deleting []string
		setup    func(*fakeCinder, string)
		reason   string
	}{
		{name: "deleted", deleting: []string{"deleting", "deleting", "not-found"}},
		{name: "already gone", setup: func(f *fakeCinder, b string) { f.setStatuses("backups", b, "not-found") }},
		{name: "error deleting", deleting: []string{"deleting", "error_deleting"}, reason: "is error_deleting"},
		{name: "5xx", setup: func(f *fakeCinder, _ string) { f.fail["DELETE backups"] = []int{500} }, reason: "500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCinder(t)
			e := backupEnv(t, f, "True")
			cp, vol, backup := protected(t, f, e, tc.setup)
			if tc.deleting != nil {
				f.deleting["backups"] = tc.deleting
			}
			err := e.delete(t, cp, vol)
			if tc.reason == "" {
				require.NoError(t, err)
				assert.Empty(t, f.live("backups"))
				assert.Equal(t, "deleted", e.section(t, cp, vol, "status"))
				assert.Contains(t, e.section(t, cp, vol, "metadata"), "<bank: get ", "the metadata is gone")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Equal(t, "error", e.section(t, cp, vol, "status"))
			assert.Contains(t, e.section(t, cp, vol, "metadata"), backup, "the metadata stays for a retry")
		})
	}
}
