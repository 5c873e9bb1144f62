package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// newFakeClock is a clock for lease tests, stopped at a fixed time.
func newFakeClock() *banktest.Clock {
	return banktest.NewClock(time.Date(2026, 11, 22, 2, 29, 0, 0, time.UTC))
}

// newPlugin opens a plugin on dir, closed at the end of the test.
func newPlugin(t *testing.T, dir string, mod ...func(*Options)) *Plugin {
	t.Helper()
	opts := Options{Path: dir}
	for _, m := range mod {
		m(&opts)
	}
	p, err := New(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close()) })
	return p
}

func TestObjectRoundTrip(t *testing.T) {
	p := newPlugin(t, t.TempDir())
	ctx := context.Background()
	tests := []struct {
		name       string
		data       []byte
		serialized bool
	}{
		{"raw status string", []byte("available"), false},
		{"index entry id", []byte("8d2c0e4e-0000-4000-8000-000000000000"), false},
		{"json object", []byte(`{"a": [1, 2], "b": "\u00e9"}`), true},
		{"json string", []byte(`"quoted"`), true},
		{"number-looking string reads as JSON, as Python decodes it", []byte("123"), true},
		{"empty", []byte{}, false},
		{"binary", []byte{0, 1, 2, 0xff, '\n'}, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("/checkpoints/c1/resource-data/r1/data_%d", i)
			require.NoError(t, p.PutObject(ctx, key, bank.Object{Data: tc.data}))
			got, err := p.GetObject(ctx, key)
			require.NoError(t, err)
			assert.Equal(t, tc.data, append([]byte{}, got.Data...))
			assert.Equal(t, tc.serialized, got.Serialized)

			// Overwrite replaces the whole object.
			require.NoError(t, p.PutObject(ctx, key, bank.Object{Data: []byte("x")}))
			got, err = p.GetObject(ctx, key)
			require.NoError(t, err)
			assert.Equal(t, "x", string(got.Data))
		})
	}
}

func TestFileLayoutIsPythons(t *testing.T) {
	dir := t.TempDir()
	p := newPlugin(t, dir, func(o *Options) { o.Container = "mycontainer" })
	ctx := context.Background()
	key := "/indices/by-provider/prov/proj/1588601234@cid"
	require.NoError(t, p.PutObject(ctx, key, bank.Object{Data: []byte("cid")}))

	file := filepath.Join(dir, "mycontainer", "indices", "by-provider", "prov", "proj", "1588601234@cid")
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "cid", string(data))
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular())
	assert.Zero(t, st.Mode().Perm()&0o022, "not group/world writable")

	// Nothing but the container, the leases and our temporary directory
	// sits in the bank path.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{".karbor-tmp", "leases", "mycontainer"}, names)
}

func TestGetMissingIsNotFound(t *testing.T) {
	dir := t.TempDir()
	p := newPlugin(t, dir)
	ctx := context.Background()
	require.NoError(t, p.PutObject(ctx, "/a/b/c", bank.Object{Data: []byte("x")}))
	for _, key := range []string{"/nope", "/a/b/nope", "/a/b"} {
		t.Run(key, func(t *testing.T) {
			_, err := p.GetObject(ctx, key)
			require.Error(t, err)
			assert.ErrorIs(t, err, bank.ErrNotFound)
			assert.Equal(t, "Object is not a file", err.Error())
		})
	}
}

func TestDeleteRemovesEmptyParentOneLevel(t *testing.T) {
	dir := t.TempDir()
	p := newPlugin(t, dir)
	ctx := context.Background()
	for _, k := range []string{"/by-plan/plan/proj/2020-05-04/1@a", "/by-plan/plan/proj/2020-05-04/2@b", "/top"} {
		require.NoError(t, p.PutObject(ctx, k, bank.Object{Data: []byte("x")}))
	}
	dateDir := filepath.Join(dir, "karbor", "by-plan", "plan", "proj", "2020-05-04")

	require.NoError(t, p.DeleteObject(ctx, "/by-plan/plan/proj/2020-05-04/1@a"))
	assert.DirExists(t, dateDir, "still holds 2@b")

	require.NoError(t, p.DeleteObject(ctx, "/by-plan/plan/proj/2020-05-04/2@b"))
	assert.NoDirExists(t, dateDir, "emptied, so removed")
	assert.DirExists(t, filepath.Join(dir, "karbor", "by-plan", "plan", "proj"), "only one level is removed, as in Python")

	require.NoError(t, p.DeleteObject(ctx, "/top"))
	assert.DirExists(t, filepath.Join(dir, "karbor"), "never the container")

	err := p.DeleteObject(ctx, "/top")
	assert.ErrorIs(t, err, bank.ErrNotFound)
	err = p.DeleteObject(ctx, "/by-plan/plan")
	assert.ErrorContains(t, err, "is a directory")
}

func TestKeysAreValidatedBeforeTouchingPaths(t *testing.T) {
	dir := t.TempDir()
	p := newPlugin(t, dir)
	ctx := context.Background()
	tests := []struct {
		key     string
		invalid any // *bank.InvalidKeyError or *bank.InvalidPathError
	}{
		{"", &bank.InvalidKeyError{}},
		{"relative/key", &bank.InvalidKeyError{}},
		{"/", &bank.InvalidKeyError{}},
		{"/dir/", &bank.InvalidKeyError{}},
		{"/a b", &bank.InvalidKeyError{}},
		{"/a\x00b", &bank.InvalidKeyError{}},
		{"/a\nb", &bank.InvalidKeyError{}},
		{"/a//b", &bank.InvalidKeyError{}},
		{"/a/./b", &bank.InvalidKeyError{}},
		{"/../outside", &bank.InvalidPathError{}},
		{"/a/../../outside", &bank.InvalidPathError{}},
		{"/a..b", &bank.InvalidPathError{}}, // the Python plugin refuses any ".."
		{"/%2e%2e/x", &bank.InvalidKeyError{}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			err := p.PutObject(ctx, tc.key, bank.Object{Data: []byte("x")})
			require.Error(t, err)
			switch tc.invalid.(type) {
			case *bank.InvalidKeyError:
				var ik *bank.InvalidKeyError
				assert.ErrorAs(t, err, &ik)
			case *bank.InvalidPathError:
				var ip *bank.InvalidPathError
				require.ErrorAs(t, err, &ip)
				assert.Equal(t, "The path("+tc.key+") is invalid.", ip.Reason())
			}
			_, err = p.GetObject(ctx, tc.key)
			assert.Error(t, err)
			assert.Error(t, p.DeleteObject(ctx, tc.key))
		})
	}
	assertOnlyBankDirs(t, dir)
}

func assertOnlyBankDirs(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "karbor"))
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing was written")
}

func TestPlantedSymlinksCannotEscape(t *testing.T) {
	base := t.TempDir()
	bankDir := filepath.Join(base, "bank")
	outside := filepath.Join(base, "outside")
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644))
	p := newPlugin(t, bankDir)
	ctx := context.Background()

	container := filepath.Join(bankDir, "karbor")
	require.NoError(t, os.MkdirAll(filepath.Join(container, "checkpoints"), 0o755))
	require.NoError(t, os.Symlink("../../../outside", filepath.Join(container, "checkpoints", "relative")))
	require.NoError(t, os.Symlink(outside, filepath.Join(container, "checkpoints", "absolute")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(container, "checkpoints", "file")))

	for _, link := range []string{"relative", "absolute"} {
		t.Run(link, func(t *testing.T) {
			key := "/checkpoints/" + link + "/secret"
			_, err := p.GetObject(ctx, key)
			assert.Error(t, err, "read through the link")
			err = p.PutObject(ctx, "/checkpoints/"+link+"/planted", bank.Object{Data: []byte("x")})
			assert.Error(t, err, "write through the link")
			assert.Error(t, p.DeleteObject(ctx, key), "delete through the link")
			assert.NoFileExists(t, filepath.Join(outside, "planted"))
		})
	}
	t.Run("file link", func(t *testing.T) {
		_, err := p.GetObject(ctx, "/checkpoints/file")
		assert.Error(t, err)
	})
	t.Run("listing skips links", func(t *testing.T) {
		keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/"})
		require.NoError(t, err)
		assert.Empty(t, keys)
	})
	data, err := os.ReadFile(filepath.Join(outside, "secret"))
	require.NoError(t, err)
	assert.Equal(t, "secret", string(data))
}

func TestCrashBetweenWriteAndRenameLeavesOldObject(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	crashed := newPluginNoCleanup(t, dir, clock)
	ctx := context.Background()
	key := "/checkpoints/c1/index.json"
	require.NoError(t, crashed.PutObject(ctx, key, bank.Object{Data: []byte(`{"status": "protecting"}`)}))

	errCrash := errors.New("crash")
	var tmpLeft string
	crashed.beforeRename = func(tmp, _ string) error { tmpLeft = tmp; return errCrash }
	err := crashed.PutObject(ctx, key, bank.Object{Data: []byte(`{"status": "available"}`)})
	require.ErrorIs(t, err, errCrash)
	require.FileExists(t, filepath.Join(dir, tmpLeft), "the crash left the temporary file behind")

	// The crashed instance never closes; another one opens the bank after
	// the crashed owner's lease ran out.
	clock.Advance(bank.DefaultLeaseExpireWindow + time.Second)
	p := newPlugin(t, dir, func(o *Options) { o.Clock = clock.Now })
	got, err := p.GetObject(ctx, key)
	require.NoError(t, err)
	assert.JSONEq(t, `{"status": "protecting"}`, string(got.Data), "old object intact")
	keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/"})
	require.NoError(t, err)
	assert.Equal(t, []string{key}, keys, "no stray object in the bank")
	assert.NoFileExists(t, filepath.Join(dir, tmpLeft), "dead owner's temporary files swept")

	crashed.beforeRename = nil
	require.NoError(t, crashed.Close())
}

func newPluginNoCleanup(t *testing.T, dir string, clock *banktest.Clock) *Plugin {
	t.Helper()
	p, err := New(context.Background(), Options{Path: dir, Clock: clock.Now})
	require.NoError(t, err)
	return p
}

func TestConstructionCreatesDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "does", "not", "exist")
	newPlugin(t, dir, func(o *Options) { o.Container = "nested/container" })
	assert.DirExists(t, filepath.Join(dir, "nested", "container"))
	assert.DirExists(t, filepath.Join(dir, "leases"))
}

// TestPingFollowsTheFolder: the probe fails while the bank folder is moved
// away, replaced by another folder or has lost its container, and
// succeeds again once the folder opened at start is back.
func TestPingFollowsTheFolder(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		breakIt func(t *testing.T, dir, away string)
		repair  func(t *testing.T, dir, away string)
		wantErr string
	}{
		{"moved away",
			func(t *testing.T, dir, away string) { require.NoError(t, os.Rename(dir, away)) },
			func(t *testing.T, dir, away string) { require.NoError(t, os.Rename(away, dir)) },
			"no such file or directory"},
		{"replaced by another folder",
			func(t *testing.T, dir, away string) {
				require.NoError(t, os.Rename(dir, away))
				require.NoError(t, os.MkdirAll(filepath.Join(dir, DefaultContainer), 0o755))
			},
			func(t *testing.T, dir, away string) {
				require.NoError(t, os.RemoveAll(dir))
				require.NoError(t, os.Rename(away, dir))
			},
			"no longer the folder opened at start"},
		{"container removed",
			func(t *testing.T, dir, away string) {
				require.NoError(t, os.Rename(filepath.Join(dir, DefaultContainer), away))
			},
			func(t *testing.T, dir, away string) {
				require.NoError(t, os.Rename(away, filepath.Join(dir, DefaultContainer)))
			},
			"container"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir, away := filepath.Join(base, "bank"), filepath.Join(base, "away")
			p := newPlugin(t, dir)
			require.NoError(t, p.Ping(ctx))
			tc.breakIt(t, dir, away)
			err := p.Ping(ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			tc.repair(t, dir, away)
			require.NoError(t, p.Ping(ctx))
		})
	}
}
