package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// bigPlan is large enough that its protect flow is still running when the
// test acts on the reply (the noop plugin does nothing, so only the size of
// the flow makes it take time): the flow of 20,000 resources runs for about
// half a second after the reply, ten times that with the race detector
// (hence half the size then), while the reply reaches the test in
// milliseconds.
func bigPlan() int {
	if raceEnabled {
		return 10000
	}
	return 20000
}

// TestSIGKILLMidProtect kills the service while a protect runs and starts
// it again (same host) on the same bank and database, with the default
// lease windows (600 s): the restarted instance recognises the checkpoint
// of its previous run, whose lease has not expired, and fails it before it
// serves, so that it can be deleted at once. The dead run's lease file is
// removed, and the protect's operation log (written by the first run, or
// lost with its write queue and written by the recovery) is closed.
func TestSIGKILLMidProtect(t *testing.T) {
	m := sharedMariaDB(t)
	name, pool := m.createDatabase(t)
	url := rpctest.Vhost(t)
	s := newService(t, url, serviceConfig{sections: "[database]\nconnection = " + m.url(name) + "\n"})
	c := pyClient(t, url)
	ctx := requestContext(t, projectA, false)
	id := protect(t, c, ctx, "33333333-2222-4333-8444-555555555555", projectA, bigPlan())
	require.NoError(t, s.cmd.Process.Kill())
	<-s.done
	require.Equal(t, "protecting", s.indexStatus(t, id), "the protect finished before SIGKILL; make bigPlan larger")
	leases, err := os.ReadDir(filepath.Join(s.bankPath(), "leases"))
	require.NoError(t, err)
	require.Len(t, leases, 1)
	killedLease := leases[0].Name()

	s.restart()
	assert.Equal(t, "error", s.indexStatus(t, id), "recovered before the restarted instance serves")
	failed := s.out.lines("marked failed")
	require.Len(t, failed, 1)
	assert.Contains(t, failed[0], "previous run of this instance (host "+serviceHost+")")
	leases, err = os.ReadDir(filepath.Join(s.bankPath(), "leases"))
	require.NoError(t, err)
	require.Len(t, leases, 1, "the dead run's lease is removed")
	assert.NotEqual(t, killedLease, leases[0].Name())

	row := oneRow(t, pool, "the protect's operation log, closed", "operation_logs", "checkpoint_id = ?",
		func(r map[string]any) bool { return r["status"] == "error" && r["ended_at"] != nil }, id)
	assert.Equal(t, "protect", row["operation_type"])
	assert.Equal(t, noopID, row["provider_id"])
	assert.NotNil(t, row["started_at"])
	// From error the checkpoint can be deleted (the delete flow then runs
	// in the background).
	assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", ctx, map[string]any{"provider_id": noopID, "checkpoint_id": id}))))
}

// TestSIGTERMDuringProtect stops the service with SIGTERM while a protect
// runs: it exits with status 0 only after the checkpoint reached available
// or error (its grace period is short, so the flow may be cancelled, which
// reverts it to error), never leaving it protecting, and it releases its
// bank lease on the way out. Its log goes to --log-file.
func TestSIGTERMDuringProtect(t *testing.T) {
	url := rpctest.Vhost(t)
	logFile := filepath.Join(t.TempDir(), "protection.log")
	s := newService(t, url, serviceConfig{
		extraDefault: "graceful_shutdown_timeout = 1\nuse_stderr = true",
		args:         []string{"--log-file", logFile, "--debug"},
	})
	c := pyClient(t, url)
	ctx := requestContext(t, projectA, false)
	id := protect(t, c, ctx, "44444444-2222-4333-8444-555555555555", projectA, bigPlan())
	require.NoError(t, s.stop(syscall.SIGTERM, 60*time.Second), "exit status after SIGTERM")
	assert.Contains(t, []string{"available", "error"}, s.indexStatus(t, id))

	leases, err := os.ReadDir(filepath.Join(s.bankPath(), "leases"))
	require.NoError(t, err)
	require.Len(t, leases, 1)
	var lease struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	data, err := os.ReadFile(filepath.Join(s.bankPath(), "leases", leases[0].Name()))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &lease))
	assert.False(t, lease.ExpiresAt.After(time.Now()), "the bank lease is released (expired) on a clean stop")

	log, err := os.ReadFile(logFile)
	require.NoError(t, err)
	assert.Contains(t, string(log), "INFO karbor.service [-] Caught SIGTERM, exiting")
	assert.Contains(t, string(log), " DEBUG ", "--debug logs at DEBUG")
	assert.NotEmpty(t, s.out.lines("Caught SIGTERM, exiting"), "use_stderr logs to standard error too")
	// The operation ended before the service did.
	lines := s.out.lines("")
	ended := slices.IndexFunc(lines, func(l string) bool { return containsAny(l, "Operation succeeded", "Operation failed") })
	stopped := slices.IndexFunc(lines, func(l string) bool { return containsAny(l, "RPC server stopped") })
	require.NotEqual(t, -1, ended, "the operation never ended")
	assert.Less(t, stopped, ended, "the RPC server stops before the operations")
}

func containsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}
