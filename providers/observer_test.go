package providers_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/providers"
)

// opCounts is a providers.Observer that keeps what it is told.
type opCounts struct {
	mu        sync.Mutex
	inFlight  map[string]int
	ended     map[[2]string]int // operation, status
	abandoned map[[2]string]int
	tasks     [4]int            // succeeded, failed, reverted, revert failed
	recovered map[[2]string]int // from, to
}

func newOpCounts() *opCounts {
	return &opCounts{inFlight: map[string]int{}, ended: map[[2]string]int{}, abandoned: map[[2]string]int{}, recovered: map[[2]string]int{}}
}

func (c *opCounts) OperationStarted(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight[op]++
}

func (c *opCounts) OperationEnded(op, status string, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight[op]--
	c.ended[[2]string{op, status}]++
	if took <= 0 {
		panic("a flow that ran took no time")
	}
}

func (c *opCounts) OperationAbandoned(op, status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.abandoned[[2]string{op, status}]++
}

func (c *opCounts) TasksDone(succeeded, failed, reverted, revertFailed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range [4]int{succeeded, failed, reverted, revertFailed} {
		c.tasks[i] += n
	}
}

func (c *opCounts) CheckpointRecovered(from, to string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recovered[[2]string{from, to}]++
}

// The observer is told how each flow ends, with its final status and what
// its tasks did, and which operations were abandoned.
func TestObserverSeesOperations(t *testing.T) {
	const tasks = 6*4 + 2 // world(): six resources, four hooks each, Initiate and Complete
	ctx, _ := quiet(t)
	obs := newOpCounts()
	b := providers.NewBuilder(fixedGraph(world()), &db.Recorder{}, providers.WithObserver(obs))

	ok := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}})
	available := protected(t, ok, b)
	restore := buildOp(t, ctx, b, ok, providers.OpRestore, available)
	require.NoError(t, restore.op.Run(ctx))

	failing := testProvider(t, ctx, &testPlugin{types: allTypes, ev: &events{}, fail: "protect:on_main:vol-lone"})
	require.Error(t, buildOp(t, ctx, b, failing, providers.OpProtect, nil).op.Run(ctx))

	abandoned := buildOp(t, ctx, b, ok, providers.OpProtect, nil)
	require.NoError(t, abandoned.op.Abandon(ctx, "the service is stopping"))

	obs.mu.Lock()
	defer obs.mu.Unlock()
	assert.Equal(t, map[string]int{"protect": 0, "restore": 0}, obs.inFlight)
	assert.Equal(t, map[[2]string]int{
		{"protect", bank.StatusAvailable}: 1,
		{"restore", "success"}:            1,
		{"protect", bank.StatusError}:     1,
	}, obs.ended)
	assert.Equal(t, map[[2]string]int{{"protect", bank.StatusError}: 1}, obs.abandoned)
	succeeded, failed, reverted, revertFailed := obs.tasks[0], obs.tasks[1], obs.tasks[2], obs.tasks[3]
	assert.Equal(t, 1, failed, "the failing hook")
	assert.Zero(t, revertFailed)
	assert.Equal(t, 2*tasks, succeeded-(reverted-failed), "the protect and the restore; the failed protect's tasks that ran were reverted")
	assert.Positive(t, reverted)
}

// Recovery tells the observer each checkpoint it failed.
func TestObserverSeesRecoveries(t *testing.T) {
	f := newRecoveryFixture(t)
	obs := newOpCounts()
	f.builder = providers.NewBuilder(nil, f.rec, providers.WithObserver(obs))
	expired, _ := instance(t, f.ctx, f.bankDir, "expired-owner", func() time.Time { return time.Now().Add(-time.Hour) }, bank.Holder{Host: "node-2", Incarnation: "a"})
	f.create(t, expired, "prov-1", bank.StatusProtecting)
	f.create(t, expired, "prov-1", bank.StatusProtecting)
	f.create(t, expired, "prov-1", bank.StatusDeleting)
	require.Len(t, f.recover(t), 3)
	obs.mu.Lock()
	defer obs.mu.Unlock()
	assert.Equal(t, map[[2]string]int{
		{bank.StatusProtecting, bank.StatusError}:                            2,
		{bank.StatusDeleting, providers.RecoveryStatus(bank.StatusDeleting)}: 1,
	}, obs.recovered)
}
