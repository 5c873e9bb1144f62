package fs

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokarbor/karbor-protection/bank"
)

// scratchDir is a temporary directory in /dev/shm when the machine has it:
// fsync there costs nothing, so the fuzzer spends its time on keys rather
// than on a slow disk.
func scratchDir(tb testing.TB) string {
	tb.Helper()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "karbor-fs-fuzz-"); err == nil {
			tb.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return tb.TempDir()
}

// FuzzPutKeyStaysInside writes under arbitrary keys through a Bank: a key
// that is accepted lands exactly at <container><key>, and nothing is ever
// created outside the bank folder.
func FuzzPutKeyStaysInside(f *testing.F) {
	for _, s := range []string{"/checkpoints/c/index.json", "../outside/x", "/a/../../outside/x", "a//b", "/..", "/a..b", "@/-/_", "/leases/x", "x\x00y"} {
		f.Add(s)
	}
	base := scratchDir(f)
	outside := filepath.Join(base, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		f.Fatal(err)
	}
	p, err := New(context.Background(), Options{Path: filepath.Join(base, "bank")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = p.Close() })
	b := bank.New(p)
	f.Fuzz(func(t *testing.T, key string) {
		err := b.PutObject(context.Background(), key, bank.Object{Data: []byte("x")})
		if entries, _ := os.ReadDir(outside); len(entries) != 0 {
			t.Fatalf("key %q wrote outside the bank", key)
		}
		if top, _ := os.ReadDir(base); len(top) != 2 {
			t.Fatalf("key %q created %d entries beside the bank", key, len(top))
		}
		if err != nil {
			return
		}
		norm, nerr := bank.NormalizeKey(key)
		if nerr != nil {
			t.Fatalf("accepted key %q does not normalise: %v", key, nerr)
		}
		st, serr := os.Lstat(filepath.Join(base, "bank", "karbor", filepath.FromSlash(norm)))
		if serr != nil || !st.Mode().IsRegular() {
			t.Fatalf("key %q did not land at its path: %v", key, serr)
		}
	})
}
