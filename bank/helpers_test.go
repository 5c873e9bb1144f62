package bank_test

import (
	"context"
	"flag"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// scratchDir is a temporary directory for banks of thousands of files:
// in /dev/shm when the machine has it (creating files there is ~30x faster
// than on a VM disk), else t.TempDir(). Tests of crash safety use
// t.TempDir() directly.
func scratchDir(t testing.TB) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "karbor-bank-test-"); err == nil {
			t.Cleanup(func() { assert.NoError(t, os.RemoveAll(dir)) })
			return dir
		}
	}
	return t.TempDir()
}

// openFS opens a file-system bank plugin on dir, closed at the end of the
// test.
func openFS(t testing.TB, dir string, mod ...func(*fs.Options)) *fs.Plugin {
	t.Helper()
	opts := fs.Options{Path: dir}
	for _, m := range mod {
		m(&opts)
	}
	p, err := fs.New(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close()) })
	return p
}

// newBank is a bank on a fresh file-system bank; it returns the bank path.
func newBank(t testing.TB) (*bank.Bank, string) {
	t.Helper()
	dir := t.TempDir()
	return bank.New(openFS(t, dir)), dir
}

func withClock(c *banktest.Clock) func(*fs.Options) {
	return func(o *fs.Options) { o.Clock = c.Now }
}

func withOwner(id string) func(*fs.Options) {
	return func(o *fs.Options) { o.OwnerID = id }
}

// fixedIDs hands out the given checkpoint ids in order.
func fixedIDs(ids ...string) func() string {
	var mu sync.Mutex
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		id := ids[0]
		ids = ids[1:]
		return id
	}
}

// evidence is a fixed verdict about owners without a lease; it records the
// leased hosts it was asked about.
type evidence struct{ v bank.Verdict }

func (e evidence) Unleased(context.Context, []string) (bank.Verdict, error) { return e.v, nil }
