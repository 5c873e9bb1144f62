package bank_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// leasingWriters is a plugin of a bank whose Python writers take a lease
// too (as swift's and S3's do).
type leasingWriters struct{ bank.Plugin }

func (leasingWriters) WritersHoldLeases() bool { return true }

// countingEvidence counts its calls.
type countingEvidence struct {
	v     bank.Verdict
	err   error
	calls atomic.Int64
	hosts []string
}

func (e *countingEvidence) Unleased(_ context.Context, hosts []string) (bank.Verdict, error) {
	e.calls.Add(1)
	e.hosts = hosts
	return e.v, e.err
}

// writeLease stores a lease file as the fs bank writes them.
func writeLease(t *testing.T, dir, owner, host, incarnation string, expires time.Time) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"owner_id": owner, "expires_at": expires, "host": host, "incarnation": incarnation})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "leases", owner), data, 0o644))
}

func TestOwnerVerdicts(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	self := bank.Holder{Host: "node-1", Incarnation: "run-2"}
	for _, tc := range []struct {
		name     string
		lease    func(t *testing.T, dir string) // writes the owner "o"'s lease
		writers  bool                           // WritersHoldLeases
		evidence *countingEvidence
		want     bank.Liveness
		reason   string
	}{
		{name: "valid lease of another host", lease: func(t *testing.T, dir string) {
			writeLease(t, dir, "o", "node-2", "x", now.Add(time.Minute))
		}, want: bank.OwnerAlive, reason: "its lease is valid until 2026-12-05T12:01:00Z (host node-2)"},
		{name: "expired lease", lease: func(t *testing.T, dir string) {
			writeLease(t, dir, "o", "node-2", "x", now)
		}, want: bank.OwnerDead, reason: "its lease expired at 2026-12-05T12:00:00Z"},
		{name: "previous run of this host", lease: func(t *testing.T, dir string) {
			writeLease(t, dir, "o", "node-1", "run-1", now.Add(time.Hour))
		}, want: bank.OwnerDead, reason: "its lease was taken by a previous run of this instance (host node-1)"},
		{name: "another bank plugin of this very process", lease: func(t *testing.T, dir string) {
			writeLease(t, dir, "o", "node-1", "run-2", now.Add(time.Hour))
		}, want: bank.OwnerAlive},
		{name: "a lease without holder (the Python service's on swift)", lease: func(t *testing.T, dir string) {
			writeLease(t, dir, "o", "", "", now.Add(time.Hour))
		}, want: bank.OwnerAlive},
		{name: "no lease where every writer takes one", writers: true, want: bank.OwnerDead,
			reason: "it holds no lease, and every writer of this bank takes one"},
		{name: "no lease, no evidence", want: bank.OwnerUnknown,
			reason: "it holds no lease (the Python service takes none on this bank) and there is no evidence whether it is alive"},
		{name: "no lease, a Python host is up", evidence: &countingEvidence{v: bank.Verdict{Liveness: bank.OwnerAlive, Reason: "python-1 reported 5 s ago"}},
			want: bank.OwnerAlive, reason: "it holds no lease (the Python service takes none on this bank); python-1 reported 5 s ago"},
		{name: "no lease, every Python host is down", evidence: &countingEvidence{v: bank.Verdict{Liveness: bank.OwnerDead, Reason: "python-1 is down"}},
			want: bank.OwnerDead},
		{name: "no lease, the evidence cannot be read", evidence: &countingEvidence{err: errors.New("database away")},
			want: bank.OwnerUnknown, reason: "it holds no lease (the Python service takes none on this bank) and the evidence could not be read: database away"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := banktest.NewClock(now)
			var p bank.Plugin = openFS(t, dir, withClock(clock), func(o *fs.Options) { o.Holder = self })
			if tc.writers {
				p = leasingWriters{p}
			}
			opts := []bank.Option{bank.WithClock(clock.Now), bank.WithHolder(self)}
			if tc.evidence != nil {
				opts = append(opts, bank.WithEvidence(tc.evidence))
			}
			cps := bank.NewCheckpoints(bank.New(p), opts...)
			if tc.lease != nil {
				tc.lease(t, dir)
			}
			v, err := cps.Owner(context.Background(), "o")
			require.NoError(t, err)
			assert.Equal(t, tc.want, v.Liveness, v.Reason)
			if tc.reason != "" {
				assert.Equal(t, tc.reason, v.Reason)
			}
			self, err := cps.Owner(context.Background(), p.OwnerID())
			require.NoError(t, err)
			assert.Equal(t, bank.OwnerAlive, self.Liveness, "an instance is alive to itself")
		})
	}
}

func TestOwnerVerdictErrors(t *testing.T) {
	dir := t.TempDir()
	cps := bank.NewCheckpoints(bank.New(openFS(t, dir)), bank.WithEvidence(&countingEvidence{}))
	_, err := cps.Owner(context.Background(), "o")
	assert.ErrorContains(t, err, "evidence gave no verdict", "a verdict must say something")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "leases", "broken"), []byte("{"), 0o644))
	_, err = cps.Owner(context.Background(), "broken")
	assert.ErrorContains(t, err, "lease of owner broken", "an unreadable lease is not a missing one")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = cps.Owner(ctx, "o")
	assert.ErrorIs(t, err, context.Canceled)
}

// TestUnfinishedAsksTheEvidenceOnce: one scan reads the evidence once,
// whatever the number of owners without a lease, and gives it our hosts.
func TestUnfinishedAsksTheEvidenceOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ev := &countingEvidence{v: bank.Verdict{Liveness: bank.OwnerAlive, Reason: "python-1 is up"}}
	scanner := bank.NewCheckpoints(bank.New(openFS(t, dir, func(o *fs.Options) { o.Holder = bank.Holder{Host: "node-1", Incarnation: "1"} })),
		bank.WithHolder(bank.Holder{Host: "node-1", Incarnation: "1"}), bank.WithEvidence(ev))
	openFS(t, dir, func(o *fs.Options) { o.Holder = bank.Holder{Host: "node-2", Incarnation: "1"} })
	for _, owner := range []string{"python-a", "python-b", "python-c"} {
		p, err := fs.New(ctx, fs.Options{Path: dir, OwnerID: owner})
		require.NoError(t, err)
		_, err = bank.NewCheckpoints(bank.New(p)).Create(ctx, specPlan())
		require.NoError(t, err)
		require.NoError(t, p.Close())
		require.NoError(t, os.Remove(filepath.Join(dir, "leases", owner)))
	}
	unfinished, err := scanner.Unfinished(ctx)
	require.NoError(t, err)
	require.Len(t, unfinished, 3)
	for _, u := range unfinished {
		assert.Equal(t, bank.OwnerAlive, u.Owner.Liveness)
	}
	assert.EqualValues(t, 1, ev.calls.Load())
	assert.Equal(t, []string{"node-1", "node-2"}, ev.hosts)
}

func TestRemoveDeadLeases(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	clock := banktest.NewClock(now)
	self := bank.Holder{Host: "node-1", Incarnation: "run-2"}
	p := openFS(t, dir, withClock(clock), func(o *fs.Options) { o.Holder = self })
	cps := bank.NewCheckpoints(bank.New(p), bank.WithClock(clock.Now), bank.WithHolder(self))
	writeLease(t, dir, "expired", "node-2", "x", now.Add(-time.Second))
	writeLease(t, dir, "expired-busy", "node-3", "x", now.Add(-time.Hour))
	writeLease(t, dir, "previous-run", "node-1", "run-1", now.Add(time.Hour))
	writeLease(t, dir, "live", "node-4", "x", now.Add(time.Minute))
	writeLease(t, dir, "python-swift-style", "", "", now.Add(time.Minute))

	removed, err := cps.RemoveDeadLeases(context.Background(), map[string]bool{"expired-busy": true})
	require.NoError(t, err)
	var owners []string
	for _, l := range removed {
		owners = append(owners, l.OwnerID)
	}
	assert.ElementsMatch(t, []string{"expired", "previous-run"}, owners)
	for owner, exists := range map[string]bool{"expired": false, "previous-run": false, "expired-busy": true, "live": true,
		"python-swift-style": true, p.OwnerID(): true} {
		_, err := os.Stat(filepath.Join(dir, "leases", owner))
		assert.Equal(t, exists, err == nil, owner)
	}
}

// TestUnfinishedSkipsUndecodable: an index.json caught half-written (the
// Python service rewrites it in place) or of another version does not stop
// the scan.
func TestUnfinishedSkipsUndecodable(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	scanner := bank.NewCheckpoints(bank.New(openFS(t, dir)))
	other := bank.NewCheckpoints(bank.New(openFS(t, dir)))
	cp, err := other.Create(ctx, specPlan())
	require.NoError(t, err)
	for id, content := range map[string]string{"half": `{"version": "0.9", "id": "half", "sta`, "future": `{"version": "1.0"}`} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "karbor", "checkpoints", id), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "karbor", "checkpoints", id, "index.json"), []byte(content), 0o644))
	}
	unfinished, err := scanner.Unfinished(ctx)
	require.NoError(t, err)
	require.Len(t, unfinished, 1)
	assert.Equal(t, cp.ID, unfinished[0].ID)
}
