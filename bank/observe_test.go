package bank_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
)

// requestCounts is a bank.Observer that counts requests by operation.
type requestCounts struct {
	mu     sync.Mutex
	opened []string
	valid  func() bool
	ops    map[string]int
	failed map[string]int
}

func (c *requestCounts) BankOpened(plugin string, leaseValid func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened = append(c.opened, plugin)
	c.valid = leaseValid
}

func (c *requestCounts) BankRequest(plugin, op string, took time.Duration, failed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if plugin != "fs" || took < 0 {
		panic("unexpected plugin or duration")
	}
	c.ops[op]++
	if failed {
		c.failed[op]++
	}
}

// failingPut is a plugin whose writes fail.
type failingPut struct{ bank.Plugin }

func (failingPut) PutObject(context.Context, string, bank.Object) error {
	return errors.New("disk full")
}

// An observed plugin tells every request, a missing object as an answer
// and not a failure, keeps the plugin's lock, and reports its lease.
func TestObservedPlugin(t *testing.T) {
	ctx := context.Background()
	obs := &requestCounts{ops: map[string]int{}, failed: map[string]int{}}
	p := bank.Observed(openFS(t, t.TempDir()), "fs", obs)
	require.Equal(t, []string{"fs"}, obs.opened)
	_, isLocker := p.(bank.Locker)
	assert.True(t, isLocker, "the file-system bank's lock is kept")
	require.NoError(t, p.AcquireLease(ctx))
	assert.True(t, obs.valid(), "the lease the plugin holds")

	b := bank.New(p)
	require.NoError(t, b.PutObject(ctx, "/a/b", bank.Object{Data: []byte("x")}))
	_, err := b.GetObject(ctx, "/a/b")
	require.NoError(t, err)
	_, err = b.GetObject(ctx, "/a/missing")
	require.ErrorIs(t, err, bank.ErrNotFound)
	_, err = b.ListObjects(ctx, bank.ListOptions{Prefix: "/a"})
	require.NoError(t, err)
	require.NoError(t, b.DeleteObject(ctx, "/a/b"))
	require.NoError(t, p.RenewLease(ctx))
	_, _, err = p.Lease(ctx, p.OwnerID())
	require.NoError(t, err)
	_, err = p.Leases(ctx)
	require.NoError(t, err)
	require.NoError(t, p.RemoveLease(ctx, "0b0b0b0b-0000-4000-8000-000000000000"))

	failing := bank.Observed(failingPut{openFS(t, t.TempDir())}, "fs", obs)
	_, isLocker = failing.(bank.Locker)
	assert.False(t, isLocker, "a plugin without a lock gets none")
	require.Error(t, bank.New(failing).PutObject(ctx, "/a/b", bank.Object{Data: []byte("x")}))

	obs.mu.Lock()
	defer obs.mu.Unlock()
	assert.Equal(t, map[string]int{
		"update": 2, "get": 2, "list": 1, "delete": 1,
		"lease_acquire": 1, "lease_renew": 1, "lease_get": 1, "lease_list": 1, "lease_remove": 1,
	}, obs.ops)
	assert.Equal(t, map[string]int{"update": 1}, obs.failed, "a missing object is not a failure")
}
