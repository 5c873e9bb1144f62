package fs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
)

func readLease(t *testing.T, dir, owner string) leaseFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "leases", owner))
	require.NoError(t, err)
	var lf leaseFile
	require.NoError(t, json.Unmarshal(data, &lf))
	return lf
}

func TestLeaseLifecycle(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	ctx := context.Background()
	withClock := func(o *Options) { o.Clock = clock.Now }
	holder := bank.Holder{Host: "node-a", Incarnation: "run-1"}
	a := newPlugin(t, dir, withClock, func(o *Options) { o.Holder = holder })
	b := newPlugin(t, dir, withClock)
	require.NotEqual(t, a.OwnerID(), b.OwnerID())
	assert.False(t, a.WritersHoldLeases(), "Python's fs plugin takes no lease")

	lf := readLease(t, dir, a.OwnerID())
	assert.Equal(t, a.OwnerID(), lf.OwnerID)
	assert.Equal(t, "node-a", lf.Host)
	assert.Equal(t, "run-1", lf.Incarnation)
	assert.Equal(t, os.Getpid(), lf.PID)
	assert.True(t, lf.ExpiresAt.Equal(clock.Now().Add(bank.DefaultLeaseExpireWindow)))

	l, ok, err := b.Lease(ctx, a.OwnerID())
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, bank.Lease{OwnerID: a.OwnerID(), Holder: holder, ExpiresAt: lf.ExpiresAt}, l)
	assert.False(t, l.Expired(clock.Now()))
	assert.True(t, a.LeaseValid())

	// check_lease_validity: valid while at least lease_validity_window
	// remains (600 - 100 = 500 s after the last renewal).
	clock.Advance(500 * time.Second)
	assert.True(t, a.LeaseValid())
	clock.Advance(time.Second)
	assert.False(t, a.LeaseValid())
	require.NoError(t, a.RenewLease(ctx))
	assert.True(t, a.LeaseValid())

	// An owner that stops renewing has an expired lease once its expiry
	// passes; the lease stays stored until someone removes it.
	clock.Advance(bank.DefaultLeaseExpireWindow)
	l, ok, err = b.Lease(ctx, a.OwnerID())
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, l.Expired(clock.Now()))

	for _, owner := range []string{"never-had-a-lease", "", "..", "a/b", "a b"} {
		_, ok, err = b.Lease(ctx, owner)
		require.NoError(t, err, owner)
		assert.False(t, ok, owner)
	}
}

func TestLeasesAndRemoveLease(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := newPlugin(t, dir, func(o *Options) { o.Holder = bank.Holder{Host: "node-a", Incarnation: "1"} })
	b := newPlugin(t, dir, func(o *Options) { o.Holder = bank.Holder{Host: "node-b", Incarnation: "2"} })
	// Things in leases/ that are not leases are skipped.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "leases", "garbage"), []byte("{not json"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "leases", "a-directory"), 0o755))

	leases, err := a.Leases(ctx)
	require.NoError(t, err)
	hosts := map[string]string{}
	for _, l := range leases {
		hosts[l.OwnerID] = l.Holder.Host
	}
	assert.Equal(t, map[string]string{a.OwnerID(): "node-a", b.OwnerID(): "node-b"}, hosts)

	require.Error(t, a.RemoveLease(ctx, a.OwnerID()), "the own lease is only released by Close")
	require.NoError(t, a.RemoveLease(ctx, b.OwnerID()))
	assert.NoFileExists(t, filepath.Join(dir, "leases", b.OwnerID()))
	require.NoError(t, a.RemoveLease(ctx, b.OwnerID()), "removing a missing lease is no error")
	require.NoError(t, a.RemoveLease(ctx, "../escape"), "a name that cannot be a lease is none")
	_, ok, err := a.Lease(ctx, b.OwnerID())
	require.NoError(t, err)
	assert.False(t, ok)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = a.Leases(cancelled)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, a.RemoveLease(cancelled, "x"), context.Canceled)
	_, _, err = a.Lease(cancelled, b.OwnerID())
	assert.ErrorIs(t, err, context.Canceled)
}

func TestCloseReleasesLease(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := New(ctx, Options{Path: dir, Holder: bank.Holder{Host: "node-a", Incarnation: "1"}})
	require.NoError(t, err)
	b := newPlugin(t, dir)
	l, ok, err := b.Lease(ctx, a.OwnerID())
	require.NoError(t, err)
	require.True(t, ok)
	require.False(t, l.Expired(time.Now()))

	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "Close is idempotent")
	assert.False(t, a.LeaseValid())
	l, ok, err = b.Lease(ctx, a.OwnerID())
	require.NoError(t, err)
	require.True(t, ok, "the released lease stays, so that its host is still known as ours")
	assert.True(t, l.Expired(time.Now()), "and is expired at once")
	assert.Equal(t, "node-a", l.Holder.Host)
}

func TestSweepKeepsLiveOwnersTemporaries(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	holder := bank.Holder{Host: "node-a", Incarnation: "1"}
	live := newPlugin(t, dir, func(o *Options) { o.Holder = bank.Holder{Host: "node-b", Incarnation: "1"} })
	// A previous run of node-a, killed: its lease has not expired.
	killed, err := New(ctx, Options{Path: dir, Holder: holder})
	require.NoError(t, err)
	killed.renewal.Stop()
	for _, owner := range []string{live.OwnerID(), killed.OwnerID(), "released-long-ago"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, tmpDir, owner), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, tmpDir, owner, "half-written"), []byte("x"), 0o644))
	}
	newPlugin(t, dir, func(o *Options) { o.Holder = bank.Holder{Host: "node-a", Incarnation: "2"} })
	assert.FileExists(t, filepath.Join(dir, tmpDir, live.OwnerID(), "half-written"), "a live owner's write in progress")
	assert.NoDirExists(t, filepath.Join(dir, tmpDir, killed.OwnerID()), "the previous run of this host is dead")
	assert.NoDirExists(t, filepath.Join(dir, tmpDir, "released-long-ago"), "an owner without a lease is gone")
	require.NoError(t, killed.root.Close())
}

// The renew loop rewrites the lease every LeaseRenewWindow, each time
// LeaseExpireWindow from then (on the bubble's clock).
func TestRenewLoopExtendsLease(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		const renew = 10 * time.Second
		p := newPlugin(t, dir, func(o *Options) {
			o.LeaseRenewWindow = renew
			o.LeaseExpireWindow = time.Hour
		})
		first := readLease(t, dir, p.OwnerID()).ExpiresAt
		time.Sleep(renew - time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, first, readLease(t, dir, p.OwnerID()).ExpiresAt, "renewed early")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, first.Add(renew), readLease(t, dir, p.OwnerID()).ExpiresAt, "renewed once")
	})
}

func TestLockExcludesOtherInstances(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) { lockExcludesOtherInstances(t, dir) })
}

// lockExcludesOtherInstances runs in a synctest bubble: b's polling waits
// on the bubble's clock.
func lockExcludesOtherInstances(t *testing.T, dir string) {
	ctx := context.Background()
	a := newPlugin(t, dir)
	b := newPlugin(t, dir)
	key := "/checkpoints/c1/index.json"
	require.NoError(t, a.PutObject(ctx, key, bank.Object{Data: []byte("{}")}))

	unlock, err := a.Lock(ctx, key)
	require.NoError(t, err)

	blocked, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = b.Lock(blocked, key)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "b waits while a holds the lock")

	acquired := make(chan func(), 1)
	go func() {
		u, err := b.Lock(ctx, key)
		assert.NoError(t, err)
		acquired <- u
	}()
	unlock()
	// b's next poll takes the lock; were it never to, the bubble would
	// deadlock and fail the test instead of hanging it.
	(<-acquired)()

	// A key whose directory does not exist has nothing to lock.
	u, err := b.Lock(ctx, "/checkpoints/none/index.json")
	require.NoError(t, err)
	u()
}

func TestOptionsFromConfig(t *testing.T) {
	tests := []struct {
		name    string
		conf    bank.ConfigMap
		want    Options
		wantErr string
	}{
		{
			name: "defaults",
			conf: bank.ConfigMap{ConfigSection: {"file_system_bank_path": "/opt/stack/karbor_fs_bank"}},
			want: Options{Path: "/opt/stack/karbor_fs_bank"},
		},
		{
			name: "all options",
			conf: bank.ConfigMap{ConfigSection: {
				"file_system_bank_path": "/b", "bank_object_container": "c",
				"lease_expire_window": "60", "lease_renew_window": "10", "lease_validity_window": " 5 ",
			}},
			want: Options{Path: "/b", Container: "c", LeaseExpireWindow: time.Minute, LeaseRenewWindow: 10 * time.Second, LeaseValidityWindow: 5 * time.Second},
		},
		{name: "no path", conf: bank.ConfigMap{}, wantErr: "[file_system_bank_plugin] file_system_bank_path: required option is not set"},
		{name: "empty path", conf: bank.ConfigMap{ConfigSection: {"file_system_bank_path": ""}}, wantErr: "required option is not set"},
		{name: "bad window", conf: bank.ConfigMap{ConfigSection: {"file_system_bank_path": "/b", "lease_renew_window": "soon"}}, wantErr: `lease_renew_window: "soon" is not a positive number of seconds`},
		{name: "zero window", conf: bank.ConfigMap{ConfigSection: {"file_system_bank_path": "/b", "lease_expire_window": "0"}}, wantErr: "lease_expire_window"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OptionsFromConfig(tc.conf)
			if tc.wantErr != "" {
				var ce *bank.ConfigError
				require.ErrorAs(t, err, &ce)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"container escapes", Options{Path: dir, Container: "../x"}, "bank_object_container"},
		{"absolute container", Options{Path: dir, Container: "/x"}, "bank_object_container"},
		{"reserved container", Options{Path: dir, Container: "leases"}, "reserved"},
		{"renew not shorter than expiry", Options{Path: dir, LeaseRenewWindow: time.Hour}, "lease_renew_window"},
		{"bad owner id", Options{Path: dir, OwnerID: "a/b"}, "owner id"},
		{"no path", Options{}, "file_system_bank_path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), tc.opts)
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestRegisteredUnderEntryPointName(t *testing.T) {
	assert.Contains(t, bank.Plugins(), PluginName)
	dir := filepath.Join(t.TempDir(), "bank")
	p, err := bank.Open(context.Background(), PluginName, bank.ConfigMap{ConfigSection: {"file_system_bank_path": dir}}, bank.Holder{Host: "h", Incarnation: "i"})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close()) })
	assert.DirExists(t, filepath.Join(dir, "karbor"), "created on load, as Python does")
	assert.Equal(t, "h", readLease(t, dir, p.OwnerID()).Host, "the factory records the holder")

	_, err = bank.Open(context.Background(), PluginName, bank.ConfigMap{}, bank.Holder{})
	assert.ErrorContains(t, err, "file_system_bank_path")
	_, err = bank.Open(context.Background(), "karbor-nope-bank-plugin", bank.ConfigMap{}, bank.Holder{})
	assert.EqualError(t, err, `bank: unknown bank plugin "karbor-nope-bank-plugin" (forgotten import?)`)
}
