package s3

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

func TestLeaseLayout(t *testing.T) {
	f := newFakeS3(t)
	clock := banktest.NewClock(time.Unix(1_800_000_000, 700_000_000))
	p := newTestPlugin(t, f, func(o *Options) { o.Clock = clock.Now })
	o, ok := f.object("lease", p.OwnerID())
	require.True(t, ok, "lease object <owner_id> in bucket lease")
	assert.Equal(t, p.OwnerID(), string(o.data))
	assert.Equal(t, map[string]string{
		"X-Amz-Meta-Lease-Expire-Time": "1800000600", // floor(now) + 600
		"X-Amz-Meta-Host":              "node-1",
		"X-Amz-Meta-Incarnation":       "inc-1",
	}, o.meta)

	assert.True(t, p.LeaseValid())
	clock.Advance(499 * time.Second)
	assert.True(t, p.LeaseValid(), "100 s of the lease left")
	clock.Advance(time.Second)
	assert.False(t, p.LeaseValid())
	require.NoError(t, p.RenewLease(context.Background()))
	assert.True(t, p.LeaseValid())
	o, _ = f.object("lease", p.OwnerID())
	assert.Equal(t, "1800001100", o.meta["X-Amz-Meta-Lease-Expire-Time"])
}

func TestLeaseRead(t *testing.T) {
	f := newFakeS3(t)
	clock := banktest.NewClock(time.Unix(1_800_000_000, 0))
	p := newTestPlugin(t, f, func(o *Options) { o.Clock = clock.Now })
	ctx := context.Background()
	assert.True(t, p.WritersHoldLeases())

	own, ok, err := p.Lease(ctx, p.OwnerID())
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, bank.Lease{OwnerID: p.OwnerID(), Holder: bank.Holder{Host: "node-1", Incarnation: "inc-1"}, ExpiresAt: time.Unix(1_800_000_600, 0)}, own)

	// A lease as the Python plugin writes it: only lease-expire-time.
	f.put("lease", "python-owner", fakeObject{data: []byte("python-owner"), meta: map[string]string{"X-Amz-Meta-Lease-Expire-Time": "1799999999"}})
	py, ok, err := p.Lease(ctx, "python-owner")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, bank.Lease{OwnerID: "python-owner", ExpiresAt: time.Unix(1_799_999_999, 0)}, py)
	assert.True(t, py.Expired(clock.Now()))

	_, ok, err = p.Lease(ctx, "nobody")
	require.NoError(t, err)
	assert.False(t, ok)
	for _, bad := range []string{"", "a/b", "a b", "."} {
		_, ok, err = p.Lease(ctx, bad)
		require.NoError(t, err)
		assert.False(t, ok, "%q names no lease", bad)
	}

	f.put("lease", "garbage", fakeObject{data: []byte("x"), meta: map[string]string{}})
	_, _, err = p.Lease(ctx, "garbage")
	assert.ErrorContains(t, err, "has no lease-expire-time")

	leases, err := p.Leases(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []bank.Lease{own, py}, leases, "the unreadable object is skipped")

	require.NoError(t, p.RemoveLease(ctx, "python-owner"))
	require.NoError(t, p.RemoveLease(ctx, "python-owner"), "a missing lease is not an error")
	_, ok = f.object("lease", "python-owner")
	assert.False(t, ok)
	assert.Error(t, p.RemoveLease(ctx, p.OwnerID()), "the own lease is only released by Close")
}

func TestLeaseReadFailure(t *testing.T) {
	f := newFakeS3(t)
	p := newTestPlugin(t, f)
	f.fault = func(r *http.Request) (captured, bool) {
		return loadCaptured(t, "service-unavailable-503"), r.Method == http.MethodHead
	}
	_, _, err := p.Lease(context.Background(), "someone")
	assert.ErrorContains(t, err, "(503) when calling the HeadObject operation (reached max retries: 3): Service Unavailable")
}

func TestCloseReleasesLease(t *testing.T) {
	f := newFakeS3(t)
	clock := banktest.NewClock(time.Unix(1_800_000_000, 0))
	p, err := New(context.Background(), testOptions(f, func(o *Options) { o.Clock = clock.Now }))
	require.NoError(t, err)
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "a second Close is harmless")
	assert.False(t, p.LeaseValid())
	o, ok := f.object("lease", p.OwnerID())
	require.True(t, ok, "the lease stays, expired, so its holder is known")
	assert.Equal(t, strconv.FormatInt(clock.Now().Unix(), 10), o.meta["X-Amz-Meta-Lease-Expire-Time"])
}

func TestAcquireLeaseFailure(t *testing.T) {
	f := newFakeS3(t)
	p := newTestPlugin(t, f)
	f.fault = func(*http.Request) (captured, bool) { return loadCaptured(t, "internal-error-500"), true }
	err := p.AcquireLease(context.Background())
	var le *bank.LeaseError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, p.OwnerID(), le.OwnerID)
	assert.Contains(t, err.Error(), "An error occurred (InternalError) when calling the PutObject operation (reached max retries: 3)")
}

// TestRenewLoop: the lease is re-written every lease_renew_window.
func TestRenewLoop(t *testing.T) {
	f := newFakeS3(t)
	newTestPlugin(t, f, func(o *Options) {
		o.LeaseRenewWindow = 10 * time.Millisecond
		o.LeaseExpireWindow = time.Hour
	})
	require.Eventually(t, func() bool { return f.count("PUT object") >= 3 }, 10*time.Second, 5*time.Millisecond,
		"the first lease and two renewals")
}
