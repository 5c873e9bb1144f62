package providers_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/providers"
)

// instance is another service instance working on the same file-system bank.
func instance(t *testing.T, ctx context.Context, path, owner string, clock func() time.Time, holder bank.Holder) (*bank.Checkpoints, *fs.Plugin) {
	t.Helper()
	p, err := fs.New(ctx, fs.Options{Path: path, OwnerID: owner, Clock: clock, Holder: holder})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return bank.NewCheckpoints(bank.New(p)), p
}

// evidence is a settable verdict about owners without a lease; it records
// the leased hosts it was given.
type evidence struct {
	mu     sync.Mutex
	v      bank.Verdict
	err    error
	leased [][]string
}

func (e *evidence) set(l bank.Liveness, reason string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.v, e.err = bank.Verdict{Liveness: l, Reason: reason}, err
}

func (e *evidence) Unleased(_ context.Context, hosts []string) (bank.Verdict, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leased = append(e.leased, hosts)
	return e.v, e.err
}

const thisHost = "node-1"

// recoveryFixture is one provider, "prov-1", loaded by an instance on
// thisHost, with a builder recording to rec.
type recoveryFixture struct {
	ctx     context.Context
	hook    *test.Hook
	bankDir string
	reg     *providers.Registry
	p       *providers.Provider
	ev      *events
	rec     *recorder
	builder *providers.Builder
}

func newRecoveryFixture(t *testing.T, cpOpts ...bank.Option) *recoveryFixture {
	ctx, hook := quiet(t)
	f := &recoveryFixture{ctx: ctx, hook: hook, bankDir: filepath.Join(t.TempDir(), "bank"), ev: &events{}}
	dir := t.TempDir()
	text := providerFile("prov-1", "Recovering", []string{"karbor-noop-protection-plugin"}, f.bankDir, "")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.conf"), []byte(text), 0o644))
	reg, err := providers.Load(ctx, providers.Options{Dir: dir, Checkpoints: cpOpts,
		Holder: bank.Holder{Host: thisHost, Incarnation: "current-run"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	f.reg, f.p = reg, reg.Providers()[0]
	f.rec = newRecorder(f.ev)
	f.builder = providers.NewBuilder(nil, f.rec)
	return f
}

func (f *recoveryFixture) create(t *testing.T, cps *bank.Checkpoints, providerID, st string) string {
	t.Helper()
	plan := planOf(world(), providerID)
	cp, err := cps.Create(f.ctx, bank.NewCheckpoint{Plan: bankPlan(t, plan), ProjectID: plan.ProjectID, Status: st})
	require.NoError(t, err)
	return cp.ID
}

func (f *recoveryFixture) recover(t *testing.T) []providers.Recovered {
	t.Helper()
	recovered, err := f.builder.Recover(f.ctx, f.reg)
	require.NoError(t, err)
	return recovered
}

func (f *recoveryFixture) leaseExists(owner string) bool {
	_, err := os.Stat(filepath.Join(f.bankDir, "leases", owner))
	return err == nil
}

// pythonInstance returns a collection to make checkpoints with, and a
// function that takes its owner's lease away: from then on the owner holds
// none, as the Python service's file-system bank never does.
func (f *recoveryFixture) pythonInstance(t *testing.T, owner string) (*bank.Checkpoints, func()) {
	t.Helper()
	cps, p := instance(t, f.ctx, f.bankDir, owner, nil, bank.Holder{})
	return cps, func() {
		require.NoError(t, p.Close())
		require.NoError(t, os.Remove(filepath.Join(f.bankDir, "leases", owner)))
	}
}

func TestRecover(t *testing.T) {
	f := newRecoveryFixture(t)

	// An instance whose lease expired long ago (its clock is an hour
	// behind, so the lease it writes ran out 50 minutes ago). It writes
	// first: instances starting later sweep a dead owner's temporary files.
	expired, _ := instance(t, f.ctx, f.bankDir, "expired-owner", func() time.Time { return time.Now().Add(-time.Hour) }, bank.Holder{Host: "node-2", Incarnation: "a"})
	want := map[string]string{} // checkpoint → status after recovery
	for _, st := range []string{bank.StatusProtecting, bank.StatusDeleting, bank.StatusCopying, bank.StatusWaitCopying} {
		want[f.create(t, expired, "prov-1", st)] = providers.RecoveryStatus(st)
	}
	for _, st := range []string{bank.StatusAvailable, bank.StatusError, bank.StatusErrorDeleting, bank.StatusDeleted} {
		want[f.create(t, expired, "prov-1", st)] = st
	}
	// One that stopped (its lease is released), one killed on this host
	// (its lease has not run out, but this instance is its restart), and
	// one alive on another host.
	stoppedCps, stopped := instance(t, f.ctx, f.bankDir, "stopped-owner", nil, bank.Holder{Host: "node-3", Incarnation: "a"})
	killedCps, _ := instance(t, f.ctx, f.bankDir, "killed-owner", nil, bank.Holder{Host: thisHost, Incarnation: "previous-run"})
	live, _ := instance(t, f.ctx, f.bankDir, "live-owner", nil, bank.Holder{Host: "node-4", Incarnation: "a"})
	want[f.create(t, stoppedCps, "prov-1", bank.StatusProtecting)] = bank.StatusError
	require.NoError(t, stopped.Close())
	killed := f.create(t, killedCps, "prov-1", bank.StatusProtecting)
	want[killed] = bank.StatusError
	want[f.create(t, live, "prov-1", bank.StatusProtecting)] = bank.StatusProtecting
	mine := f.create(t, f.p.Checkpoints(), "prov-1", bank.StatusProtecting)
	want[mine] = bank.StatusProtecting
	other := f.create(t, expired, "other-provider", bank.StatusProtecting)

	recovered := f.recover(t)
	for id, st := range want {
		assert.Equal(t, st, status(t, f.ctx, f.p, id), "checkpoint %s", id)
	}
	assert.Equal(t, bank.StatusProtecting, status(t, f.ctx, f.p, other), "another provider's checkpoint is its own business")
	assert.Len(t, recovered, 6)
	for _, r := range recovered {
		assert.Equal(t, "prov-1", r.ProviderID)
		assert.Equal(t, want[r.CheckpointID], r.To)
		assert.Contains(t, []string{"expired-owner", "stopped-owner", "killed-owner"}, r.DeadOwner)
	}
	cp, err := f.p.Checkpoints().Get(f.ctx, killed)
	require.NoError(t, err)
	assert.Equal(t, f.p.Checkpoints().Bank().OwnerID(), cp.OwnerID, "the recovering instance took the checkpoint over")

	// Leases: a dead owner's goes once nothing of it is in progress; the
	// expired owner still has the other provider's checkpoint.
	assert.True(t, f.leaseExists("expired-owner"), "its other provider's checkpoint is still in progress")
	assert.False(t, f.leaseExists("stopped-owner"))
	assert.False(t, f.leaseExists("killed-owner"))
	assert.True(t, f.leaseExists("live-owner"))
	assert.True(t, f.leaseExists(f.p.Checkpoints().Bank().OwnerID()))
	removedLog := 0
	for _, e := range f.hook.AllEntries() {
		if e.Message == "Removed the lease of a dead service instance" {
			removedLog++
		}
	}
	assert.Equal(t, 2, removedLog)

	// The operation logs: each recovered checkpoint's rows are closed, and
	// the rows of those that had none (all, here) are written.
	assert.Len(t, f.ev.statuses("op-recovered"), 6)
	for _, s := range f.ev.statuses("op-recovered") {
		assert.Equal(t, bank.StatusError, s)
	}
	types := map[string]int{}
	f.rec.mu.Lock()
	for _, l := range f.rec.logs {
		types[l.Type]++
		assert.Equal(t, "prov-1", l.ProviderID)
		assert.False(t, l.StartedAt.IsZero(), "started when the checkpoint was created")
	}
	f.rec.mu.Unlock()
	assert.Equal(t, map[string]int{"protect": 3, "copy": 2}, types, "protect and copy rows, none for the delete")

	assert.Empty(t, f.recover(t), "nothing left to recover")
}

func TestRecoverOwnersWithoutLease(t *testing.T) {
	for _, tc := range []struct {
		name      string
		evidence  *bank.Verdict
		err       error
		recovered bool
		logged    string
	}{
		{name: "no evidence", logged: "there is no evidence whether it is alive"},
		{name: "a Python host is up", evidence: &bank.Verdict{Liveness: bank.OwnerAlive, Reason: "python-1 is up"}},
		{name: "the evidence cannot be read", evidence: &bank.Verdict{Liveness: bank.OwnerDead}, err: errors.New("database is away"),
			logged: "the evidence could not be read: database is away"},
		{name: "every Python host is down", evidence: &bank.Verdict{Liveness: bank.OwnerDead, Reason: "python-1 is down"}, recovered: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []bank.Option
			ev := &evidence{}
			if tc.evidence != nil {
				ev.set(tc.evidence.Liveness, tc.evidence.Reason, tc.err)
				opts = append(opts, bank.WithEvidence(ev))
			}
			f := newRecoveryFixture(t, opts...)
			_, _ = instance(t, f.ctx, f.bankDir, "go-peer", nil, bank.Holder{Host: "node-2", Incarnation: "a"})
			python, dropLease := f.pythonInstance(t, "python-owner")
			ids := []string{f.create(t, python, "prov-1", bank.StatusProtecting), f.create(t, python, "prov-1", bank.StatusWaitCopying)}
			dropLease()

			recovered := f.recover(t)
			wantStatus := bank.StatusProtecting
			if tc.recovered {
				wantStatus = bank.StatusError
				assert.Len(t, recovered, 2)
			} else {
				assert.Empty(t, recovered)
			}
			assert.Equal(t, wantStatus, status(t, f.ctx, f.p, ids[0]))

			var warned []*logrus.Entry
			for _, e := range f.hook.AllEntries() {
				if strings.Contains(e.Message, "whose owner holds no lease were left alone") {
					warned = append(warned, e)
				}
			}
			if tc.logged != "" {
				require.Len(t, warned, 1, "one warning per pass")
				assert.Equal(t, logrus.WarnLevel, warned[0].Level)
				assert.ElementsMatch(t, ids, warned[0].Data["checkpoint_ids"])
				assert.Contains(t, warned[0].Message, "recover_unleased_checkpoints")
				// The reason is in the reset/delete refusal too.
				_, err := f.p.Checkpoints().ResetState(f.ctx, ids[1], bank.StatusError)
				var no *bank.NotOwnerError
				require.ErrorAs(t, err, &no)
				assert.Contains(t, no.Error(), tc.logged)
			} else {
				assert.Empty(t, warned)
			}
			if tc.evidence != nil {
				ev.mu.Lock()
				require.NotEmpty(t, ev.leased)
				assert.Equal(t, []string{thisHost, "node-2"}, ev.leased[0], "our hosts, from the leases, are not Python's")
				ev.mu.Unlock()
			}
		})
	}
}

// TestRecoverDeleteOfLiveOwnersCheckpointRefused: a checkpoint a live
// Python instance works on is neither failed nor deleted nor reset, until
// the evidence says its owner is dead.
func TestRecoverDeleteOfLiveOwnersCheckpointRefused(t *testing.T) {
	ev := &evidence{}
	ev.set(bank.OwnerAlive, "python-1 is up", nil)
	f := newRecoveryFixture(t, bank.WithEvidence(ev))
	python, dropLease := f.pythonInstance(t, "python-owner")
	protecting := f.create(t, python, "prov-1", bank.StatusProtecting)
	copying := f.create(t, python, "prov-1", bank.StatusCopying)
	dropLease()

	assert.Empty(t, f.recover(t), "a Python instance is up: its checkpoints may be its")
	_, err := f.p.Checkpoints().BeginDelete(f.ctx, protecting)
	var refused *bank.TransitionError
	require.ErrorAs(t, err, &refused, "a checkpoint in progress cannot be deleted")
	assert.Equal(t, bank.TransitionDelete, refused.Kind)
	_, err = f.p.Checkpoints().ResetState(f.ctx, copying, bank.StatusAvailable)
	var no *bank.NotOwnerError
	require.ErrorAs(t, err, &no, "a checkpoint its live owner works on cannot be reset")
	assert.Equal(t, bank.OwnerAlive, no.Owner.Liveness)
	assert.Contains(t, no.Error(), "python-1 is up")
	require.ErrorAs(t, err, &refused, "the refusal is reset_state's")
	assert.Equal(t, bank.TransitionReset, refused.Kind)

	// The evidence changes: the Python instances are gone.
	ev.set(bank.OwnerDead, "python-1 is down", nil)
	recovered := f.recover(t)
	require.Len(t, recovered, 2)
	_, err = f.p.Checkpoints().BeginDelete(f.ctx, protecting)
	require.NoError(t, err, "once failed, the checkpoint can be deleted")
}

func TestRecoveryStatus(t *testing.T) {
	for from, to := range map[string]string{
		bank.StatusProtecting: bank.StatusError, bank.StatusCopying: bank.StatusError, bank.StatusWaitCopying: bank.StatusError,
		bank.StatusDeleting: bank.StatusError, bank.StatusAvailable: "", bank.StatusError: "", bank.StatusDeleted: "",
		bank.StatusErrorDeleting: "", "whatever": "",
	} {
		assert.Equal(t, to, providers.RecoveryStatus(from), from)
		if to != "" {
			assert.True(t, bank.CanFlowTransition(from, to), "%s → %s is a transition the bank allows", from, to)
		}
	}
}
