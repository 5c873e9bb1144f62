//go:build linux

package fstest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// Tmpfs mounts a tmpfs of size bytes on a new temporary directory, and
// unmounts it when the test ends: a real file system that fills up
// (ENOSPC). Mounting needs root (CAP_SYS_ADMIN); without it the test is
// skipped, or fails under CI=true, where the machine is known to allow it.
func Tmpfs(t testing.TB, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and a tmpfs cannot be mounted: %v", err)
		}
		t.Skipf("a tmpfs cannot be mounted here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the test tmpfs %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes the file dir/filler until its file system is full and
// returns a function that removes it again.
func Fill(t testing.TB, dir string) (free func()) {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		_, err := f.Write(chunk)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		require.NoError(t, err)
	}
	for { // the last partial block
		_, err := f.Write(chunk[:1])
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		require.NoError(t, err)
	}
	return func() { require.NoError(t, os.Remove(name)) }
}

// ReadOnly remounts the tmpfs on dir (made by Tmpfs) read-only, so that
// every write fails with EROFS, and writable again when the test ends.
func ReadOnly(t testing.TB, dir string) {
	t.Helper()
	// A file open for writing at that instant (a lease renewal's
	// temporary file) makes the remount EBUSY; such windows are short.
	var err error
	for range 1000 {
		if err = syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); !errors.Is(err, syscall.EBUSY) {
			break
		}
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT, ""); err != nil {
			t.Errorf("remount the test tmpfs %s writable: %v", dir, err)
		}
	})
}
