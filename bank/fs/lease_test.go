package fs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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
	a := newPlugin(t, dir, withClock)
	b := newPlugin(t, dir, withClock)
	require.NotEqual(t, a.OwnerID(), b.OwnerID())

	lf := readLease(t, dir, a.OwnerID())
	assert.Equal(t, a.OwnerID(), lf.OwnerID)
	assert.True(t, lf.ExpiresAt.Equal(clock.Now().Add(DefaultLeaseExpireWindow)))

	alive, err := b.OwnerAlive(ctx, a.OwnerID())
	require.NoError(t, err)
	assert.True(t, alive)
	assert.True(t, a.LeaseValid())

	// check_lease_validity: valid while at least lease_validity_window
	// remains (600 - 100 = 500 s after the last renewal).
	clock.Advance(500 * time.Second)
	assert.True(t, a.LeaseValid())
	clock.Advance(time.Second)
	assert.False(t, a.LeaseValid())
	require.NoError(t, a.RenewLease(ctx))
	assert.True(t, a.LeaseValid())

	// An owner that stops renewing is dead once its expiry passes.
	clock.Advance(DefaultLeaseExpireWindow)
	alive, err = b.OwnerAlive(ctx, a.OwnerID())
	require.NoError(t, err)
	assert.False(t, alive)

	for _, owner := range []string{"never-had-a-lease", "", "..", "a/b"} {
		alive, err = b.OwnerAlive(ctx, owner)
		require.NoError(t, err, owner)
		assert.False(t, alive, owner)
	}
}

func TestCloseReleasesLease(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := New(ctx, Options{Path: dir})
	require.NoError(t, err)
	b := newPlugin(t, dir)
	alive, err := b.OwnerAlive(ctx, a.OwnerID())
	require.NoError(t, err)
	require.True(t, alive)

	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "Close is idempotent")
	assert.False(t, a.LeaseValid())
	alive, err = b.OwnerAlive(ctx, a.OwnerID())
	require.NoError(t, err)
	assert.False(t, alive)
	assert.NoFileExists(t, filepath.Join(dir, "leases", a.OwnerID()))
}

func TestRenewLoopExtendsLease(t *testing.T) {
	dir := t.TempDir()
	p := newPlugin(t, dir, func(o *Options) {
		o.LeaseRenewWindow = 10 * time.Millisecond
		o.LeaseExpireWindow = time.Hour
	})
	first := readLease(t, dir, p.OwnerID()).ExpiresAt
	require.Eventually(t, func() bool {
		return readLease(t, dir, p.OwnerID()).ExpiresAt.After(first)
	}, 10*time.Second, 5*time.Millisecond)
}

func TestLockExcludesOtherInstances(t *testing.T) {
	dir := t.TempDir()
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
	select {
	case u := <-acquired:
		u()
	case <-time.After(10 * time.Second):
		t.Fatal("b never got the lock after a released it")
	}

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
	p, err := bank.Open(context.Background(), PluginName, bank.ConfigMap{ConfigSection: {"file_system_bank_path": dir}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close()) })
	assert.DirExists(t, filepath.Join(dir, "karbor"), "created on load, as Python does")

	_, err = bank.Open(context.Background(), PluginName, bank.ConfigMap{})
	assert.ErrorContains(t, err, "file_system_bank_path")
	_, err = bank.Open(context.Background(), "karbor-nope-bank-plugin", bank.ConfigMap{})
	assert.EqualError(t, err, `bank: unknown bank plugin "karbor-nope-bank-plugin" (forgotten import?)`)
}
