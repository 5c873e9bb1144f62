package manager

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/providers"
)

// protectAsync sends protect from a goroutine and returns where its
// checkpoint id arrives.
func (e *env) protectAsync(t *testing.T, providerID string) <-chan string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		o := e.call(t, "protect", memberOf(projectA), map[string]any{
			"plan": planPrimitive("p2", providerID, projectA, 1, ""), "checkpoint_properties": properties(projectA, providerID)})
		var id string
		if o.Err == nil {
			_ = json.Unmarshal(o.Result, &id)
		}
		done <- id
	}()
	return done
}

func arrived(ch <-chan string) func() bool {
	return func() bool { return len(ch) > 0 }
}

// TestMaxConcurrentOperations: with max_concurrent_operations = 1 the
// second protect's reply waits until the first operation has finished, as
// the Python handler waits for a green-pool slot; with 0 it does not wait.
func TestMaxConcurrentOperations(t *testing.T) {
	t.Run("limit 1", func(t *testing.T) {
		e := newEnv(t, envOptions{gate: true, maxOps: 1})
		first := e.protect(t, gateID, projectA, 1)
		<-e.gate.started
		second := e.protectAsync(t, noopID)
		assert.Never(t, arrived(second), 200*time.Millisecond, 5*time.Millisecond, "the reply did not wait for a free slot")
		assert.Equal(t, "protecting", e.status(t, gateID, first))
		e.gate.release()
		id := <-second
		require.NotEmpty(t, id)
		e.waitStatus(t, gateID, first, "available")
		e.waitStatus(t, noopID, id, "available")
	})
	t.Run("no limit", func(t *testing.T) {
		e := newEnv(t, envOptions{gate: true})
		first := e.protect(t, gateID, projectA, 1)
		<-e.gate.started
		id := <-e.protectAsync(t, noopID)
		e.waitStatus(t, noopID, id, "available")
		assert.Equal(t, "protecting", e.status(t, gateID, first))
	})
}

// TestStopWaitsForRunningOperations: stopping lets a running operation
// finish within the grace period.
func TestStopWaitsForRunningOperations(t *testing.T) {
	e := newEnv(t, envOptions{gate: true, grace: time.Minute})
	id := e.protect(t, gateID, projectA, 1)
	<-e.gate.started
	stopped := make(chan struct{})
	go func() {
		e.stop()
		close(stopped)
	}()
	assert.Never(t, func() bool { return isClosed(stopped) }, 200*time.Millisecond, 5*time.Millisecond,
		"Run returned while an operation was running")
	e.gate.release()
	<-stopped
	assert.Equal(t, "available", e.status(t, gateID, id))
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestStopCancelsAfterGrace: an operation still running when the grace
// period ends is cancelled and reverts to error; one waiting for a slot and
// one arriving after the stop fail at once. Nothing stays protecting.
func TestStopCancelsAfterGrace(t *testing.T) {
	e := newEnv(t, envOptions{gate: true, maxOps: 1, grace: 50 * time.Millisecond})
	held := e.protect(t, gateID, projectA, 1)
	<-e.gate.started
	waiting := e.protectAsync(t, noopID)
	assert.Never(t, arrived(waiting), 100*time.Millisecond, 5*time.Millisecond)
	e.stop()
	assert.Equal(t, "error", e.status(t, gateID, held))
	id := <-waiting
	require.NotEmpty(t, id)
	assert.Equal(t, "error", e.status(t, noopID, id))
	late := e.protect(t, noopID, projectA, 1)
	assert.Equal(t, "error", e.status(t, noopID, late))
}

// deadCheckpoint creates, through another service instance's bank that then
// stops (releasing its lease), a checkpoint left in status.
func deadCheckpoint(t *testing.T, bankDir, status string) string {
	t.Helper()
	ctx := context.Background()
	p, err := fs.New(ctx, fs.Options{Path: bankDir})
	require.NoError(t, err)
	cps := bank.NewCheckpoints(bank.New(p))
	cp, err := cps.Create(ctx, bank.NewCheckpoint{
		Plan:      bank.Plan{ID: "p1", Name: "plan", ProviderID: noopID, Resources: json.RawMessage("[]")},
		ProjectID: projectA, Status: status,
	})
	require.NoError(t, err)
	require.NoError(t, p.Close())
	return cp.ID
}

// TestRecovery: Recover fails what a dead instance left in progress; the
// periodic recovery does the same for an instance that dies later.
func TestRecovery(t *testing.T) {
	t.Run("at start", func(t *testing.T) {
		bankDir := t.TempDir()
		id := deadCheckpoint(t, bankDir, bank.StatusProtecting)
		e := newEnv(t, envOptions{bankDir: bankDir})
		got, err := e.m.Recover(context.Background())
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, providers.Recovered{ProviderID: noopID, CheckpointID: id, From: "protecting", To: "error", DeadOwner: got[0].DeadOwner}, got[0])
		assert.Equal(t, "error", e.status(t, noopID, id))
	})
	t.Run("periodic", func(t *testing.T) {
		bankDir := t.TempDir()
		e := newEnv(t, envOptions{bankDir: bankDir, recovery: 10 * time.Millisecond})
		id := deadCheckpoint(t, bankDir, bank.StatusDeleting)
		e.waitStatus(t, noopID, id, "error")
	})
	t.Run("own operations are left alone", func(t *testing.T) {
		e := newEnv(t, envOptions{gate: true})
		id := e.protect(t, gateID, projectA, 1)
		<-e.gate.started
		got, err := e.m.Recover(context.Background())
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.Equal(t, "protecting", e.status(t, gateID, id))
	})
}

// TestNewRefusesIncompleteConfig: every missing part is named.
func TestNewRefusesIncompleteConfig(t *testing.T) {
	_, err := New(Config{})
	require.EqualError(t, err, "manager: missing required Providers, Protectables, Builder")
}
