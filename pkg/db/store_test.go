package db

import (
	"context"
	"fmt"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without [database] connection the service runs with a recorder that writes
// nothing, and says so once.
func TestOpenWithoutDatabase(t *testing.T) {
	logger, hook := logtest.NewNullLogger()
	s, err := Open(Config{Connection: "  "}, logrus.NewEntry(logger))
	require.NoError(t, err)
	assert.Nil(t, s.Recorder().w, "no writer: nothing is written")
	require.Len(t, hook.AllEntries(), 1)
	assert.Equal(t, logrus.WarnLevel, hook.LastEntry().Level)
	assert.Contains(t, hook.LastEntry().Message, "no [database] connection")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	id, err := s.Recorder().OperationStarted(ctx, karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect})
	require.NoError(t, err)
	require.NoError(t, s.Recorder().OperationEnded(ctx, id, "available"))
	require.NoError(t, s.Flush(ctx))
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, s.Close())
	assert.Len(t, hook.AllEntries(), 1, "nothing more is said")
}

func TestRecorderWithoutDatabase(t *testing.T) {
	r := &Recorder{}
	ctx := context.Background()
	id, err := r.OperationStarted(ctx, karbor.OperationLog{ProjectID: "p", Type: karbor.OperationRestore, RestoreID: uuid.NewString()})
	require.NoError(t, err)
	_, err = uuid.Parse(id)
	require.NoError(t, err)
	other, err := r.OperationStarted(ctx, karbor.OperationLog{ProjectID: "p", Type: karbor.OperationRestore})
	require.NoError(t, err)
	assert.NotEqual(t, id, other)
	assert.NoError(t, r.OperationStatus(ctx, id, karbor.RestoreStatusInProgress))
	assert.NoError(t, r.OperationEnded(ctx, id, karbor.RestoreStatusSuccess))
	assert.NoError(t, r.RestoreStatus(ctx, id, karbor.RestoreStatusSuccess))
	assert.NoError(t, r.RestoreResource(ctx, id, karbor.ResourceResult{Type: "OS::Nova::Server", ID: "s", Status: "available"}))
	assert.NoError(t, r.VerificationStatus(ctx, id, karbor.RestoreStatusFailure))
	assert.NoError(t, r.VerificationResource(ctx, id, karbor.ResourceResult{Type: "OS::Nova::Server", ID: "s", Status: "error", Reason: reason("x")}))
}

func TestOpenErrors(t *testing.T) {
	log := logrus.NewEntry(logrus.New())
	good := Config{Connection: "sqlite:///x.db", Options: DefaultOptions(), Service: ServiceInfo{Host: "h", ReportInterval: time.Second}}
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"bad url", func(c *Config) { c.Connection = "postgres://h/d" }, "unsupported database"},
		{"bad options", func(c *Config) { c.Options.PoolTimeout = 0 }, "pool_timeout"},
		{"zero options", func(c *Config) { c.Options = Options{} }, "pool_timeout"},
		{"no host", func(c *Config) { c.Service.Host = "" }, "host"},
		{"negative interval", func(c *Config) { c.Service.ReportInterval = -time.Second }, "report_interval"},
		{"bad connection_parameters", func(c *Config) {
			c.Connection = "mysql+pymysql://h/d"
			c.Options.ConnectionParameters = "connect_timeout=soon"
		}, "connect_timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mod(&cfg)
			_, err := Open(cfg, log)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestOpenLogsIgnoredOptions(t *testing.T) {
	tdb := newTestDB(t, SQLite)
	cfg := tdb.testConfig()
	cfg.Connection += "?check_same_thread=false"
	s, hook := openStore(t, cfg)
	require.NoError(t, s.Close())
	found := false
	for _, e := range hook.AllEntries() {
		found = found || e.Message == "[database] connection: ignoring what the Go driver has no use for: check_same_thread"
	}
	assert.True(t, found)
}

func TestRunTwice(t *testing.T) {
	tdb := newTestDB(t, SQLite)
	s, _ := startStore(t, tdb.testConfig())
	waitFor(t, "the first Run", s.running.Load)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assert.Error(t, s.Run(ctx))
}

func TestRecordAfterStop(t *testing.T) {
	tdb := newTestDB(t, SQLite)
	s, _ := openStore(t, tdb.testConfig())
	stop := runStore(t, s)
	stop()
	_, err := s.Recorder().OperationStarted(context.Background(), karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect})
	assert.ErrorIs(t, err, ErrClosed)
}

// Memory, the fake for other packages, follows the same rules.
func TestMemoryRecorder(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	id, err := m.OperationStarted(ctx, karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect, Status: "protecting", PlanID: "plan"})
	require.NoError(t, err)
	require.NoError(t, m.OperationStatus(ctx, id, "protecting"))
	require.NoError(t, m.OperationEnded(ctx, id, "available"))
	assert.ErrorIs(t, m.OperationEnded(ctx, uuid.NewString(), "available"), ErrInvalid, "unknown id")

	op, ok := m.Operation(id)
	require.True(t, ok)
	assert.Equal(t, []string{"protecting", "protecting", "available"}, op.Statuses)
	assert.Equal(t, "available", op.Status())
	assert.Equal(t, "plan", op.PlanID)
	assert.False(t, op.EndedAt.IsZero())
	assert.False(t, op.StartedAt.After(op.EndedAt))
	assert.Len(t, m.Operations(), 1)

	restore := uuid.NewString()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			assert.NoError(t, m.RestoreResource(ctx, restore, karbor.ResourceResult{Type: "OS::Nova::Server", ID: fmt.Sprint(i), Status: "available"}))
		})
	}
	wg.Wait()
	require.NoError(t, m.RestoreResource(ctx, restore, karbor.ResourceResult{Type: "OS::Nova::Server", ID: "0", Status: "error", Reason: reason("boom")}))
	require.NoError(t, m.RestoreStatus(ctx, restore, karbor.RestoreStatusInProgress))
	require.NoError(t, m.RestoreStatus(ctx, restore, karbor.RestoreStatusFailure))
	rec, ok := m.Restore(restore)
	require.True(t, ok)
	assert.Equal(t, []string{karbor.RestoreStatusInProgress, karbor.RestoreStatusFailure}, rec.Statuses)
	assert.Len(t, rec.ResourcesStatus, 10)
	assert.Equal(t, "error", rec.ResourcesStatus["OS::Nova::Server#0"])
	assert.Equal(t, map[string]string{"OS::Nova::Server#0": "boom"}, rec.ResourcesReason)
	assert.Equal(t, `{"OS::Nova::Server#0": "boom"}`, rec.ResourcesReasonJSON)

	_, ok = m.Verification(restore)
	assert.False(t, ok, "restores and verifications are apart")
	require.NoError(t, m.VerificationStatus(ctx, restore, karbor.RestoreStatusSuccess))
	v, ok := m.Verification(restore)
	require.True(t, ok)
	assert.Equal(t, []string{karbor.RestoreStatusSuccess}, v.Statuses)
	assert.Empty(t, v.ResourcesStatusJSON)
}
