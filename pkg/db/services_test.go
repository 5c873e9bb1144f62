package db

import (
	"context"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServiceHeartbeatUp(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		lastSeen time.Time
		up       bool
	}{
		{"just reported", now, true},
		{"within service_down_time", now.Add(-60 * time.Second), true},
		{"past service_down_time", now.Add(-61 * time.Second), false},
		{"clock ahead, within the window", now.Add(30 * time.Second), true},
		{"clock far ahead", now.Add(2 * time.Minute), false},
		{"never reported (zero)", time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.up, ServiceHeartbeat{Host: "h", LastSeen: tc.lastSeen}.Up(now, 60*time.Second))
		})
	}
}

func TestParseDBTime(t *testing.T) {
	want := time.Date(2026, 12, 5, 14, 1, 2, 345000000, time.UTC)
	for _, tc := range []struct {
		in   any
		want time.Time
	}{
		{nil, time.Time{}},
		{"2026-12-05 14:01:02.345000", want},
		{[]byte("2026-12-05 14:01:02"), want.Truncate(time.Second)},
		{time.Date(2026, 12, 5, 14, 1, 2, 345000000, time.FixedZone("naive", 0)), want},
		{"2026-12-05T14:01:02.345Z", want},
	} {
		got, err := parseDBTime(tc.in)
		require.NoError(t, err, "%v", tc.in)
		assert.True(t, tc.want.Equal(got), "%v: %v", tc.in, got)
	}
	for _, bad := range []any{"yesterday", 42} {
		_, err := parseDBTime(bad)
		assert.Error(t, err, "%v", bad)
	}
}

func TestServiceHeartbeats(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		insert := `INSERT INTO services (created_at, updated_at, deleted, host, {binary}, topic, report_count, disabled)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?)`
		created := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		reported := time.Now().UTC().Add(-5 * time.Second).Truncate(time.Second)
		f := tdb.d.boolArg(false)
		tdb.exec(t, insert, tdb.d.timeArg(created), tdb.d.timeArg(reported), f, "python-1", "karbor-protection", "karbor-protection", f)
		tdb.exec(t, insert, tdb.d.timeArg(created), nil, f, "never-reported", "karbor-protection", "karbor-protection", tdb.d.boolArg(true))
		tdb.exec(t, insert, tdb.d.timeArg(created), tdb.d.timeArg(reported), tdb.d.boolArg(true), "deleted-row", "karbor-protection", "karbor-protection", f)
		tdb.exec(t, insert, tdb.d.timeArg(created), tdb.d.timeArg(reported), f, "engine", "karbor-operationengine", "karbor-operationengine", f)

		s, _ := openStore(t, tdb.testConfig())
		t.Cleanup(func() { _ = s.Close() })
		got, err := s.ServiceHeartbeats(context.Background(), "karbor-protection")
		require.NoError(t, err)
		require.Len(t, got, 2, "live rows of the binary only (disabled ones count: they still report)")
		assert.Equal(t, "python-1", got[0].Host)
		assert.True(t, reported.Equal(got[0].LastSeen), "updated_at: %v", got[0].LastSeen)
		assert.Equal(t, "never-reported", got[1].Host)
		assert.True(t, created.Equal(got[1].LastSeen), "created_at when it never reported: %v", got[1].LastSeen)
	})
}

func TestServiceHeartbeatsWithoutDatabase(t *testing.T) {
	s, err := Open(Config{}, logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	_, err = s.ServiceHeartbeats(context.Background(), "karbor-protection")
	assert.ErrorIs(t, err, ErrNoDatabase)
}

func TestCheckpointRecovered(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		s, _ := startStore(t, tdb.testConfig())
		ctx := context.Background()
		rec := s.Recorder()
		cp, copied, lost := uuid.NewString(), uuid.NewString(), uuid.NewString()
		op := func(cid, typ, status string) string {
			id, err := rec.OperationStarted(ctx, karbor.OperationLog{ProjectID: "p", Type: typ, CheckpointID: cid, Status: status})
			require.NoError(t, err)
			return id
		}
		protect := op(cp, karbor.OperationProtect, "protecting")
		restore := op(cp, karbor.OperationRestore, "in_progress")
		copyLog := op(copied, karbor.OperationCopy, "copying")
		finished := op(copied, karbor.OperationProtect, "protecting")
		require.NoError(t, rec.OperationEnded(ctx, finished, "available"))
		flush(t, s)

		missing := func(cid string) *karbor.OperationLog {
			return &karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect, CheckpointID: cid, PlanID: uuid.NewString(),
				ProviderID: uuid.NewString(), StartedAt: time.Now().Add(-10 * time.Second)}
		}
		require.NoError(t, rec.CheckpointRecovered(ctx, cp, "error", missing(cp)))
		require.NoError(t, rec.CheckpointRecovered(ctx, copied, "error", nil))
		lostOp := missing(lost)
		require.NoError(t, rec.CheckpointRecovered(ctx, lost, "error", lostOp))
		require.NoError(t, rec.CheckpointRecovered(ctx, lost, "error", lostOp), "twice changes nothing more")
		flush(t, s)

		row := func(id string) map[string]any { return tdb.row(t, "operation_logs", "id = ?", id) }
		assert.Equal(t, "error", row(protect)["status"])
		tdb.assertTime(t, "ended_at", row(protect)["ended_at"])
		assert.Equal(t, "in_progress", row(restore)["status"], "a restore only read the checkpoint")
		assert.Nil(t, row(restore)["ended_at"])
		assert.Equal(t, "error", row(copyLog)["status"])
		assert.Equal(t, "available", row(finished)["status"], "a closed row stays as it is")
		assert.Len(t, tdb.rows(t, "operation_logs", "checkpoint_id = ?", cp), 2, "no row inserted where one exists")

		lostRows := tdb.rows(t, "operation_logs", "checkpoint_id = ?", lost)
		require.Len(t, lostRows, 1, "the lost protect row is written, once")
		r := lostRows[0]
		assert.Equal(t, "protect", r["operation_type"])
		assert.Equal(t, "error", r["status"])
		assert.Equal(t, lostOp.PlanID, r["plan_id"])
		assert.Equal(t, lostOp.ProviderID, r["provider_id"])
		tdb.assertTime(t, "started_at", r["started_at"])
		tdb.assertTime(t, "ended_at", r["ended_at"])
	})
}

func TestCheckpointRecoveredRefusesBadInput(t *testing.T) {
	for _, rec := range []recorder{&Recorder{}, NewMemory()} {
		ctx := context.Background()
		cid := uuid.NewString()
		for _, tc := range []struct {
			name        string
			cid, status string
			missing     *karbor.OperationLog
		}{
			{"no checkpoint", "", "error", nil},
			{"checkpoint id too long", cid + "x", "error", nil},
			{"no status", cid, "", nil},
			{"missing row of another checkpoint", cid, "error", &karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect, CheckpointID: "other"}},
			{"missing row without project", cid, "error", &karbor.OperationLog{Type: karbor.OperationProtect, CheckpointID: cid}},
		} {
			assert.ErrorIs(t, rec.CheckpointRecovered(ctx, tc.cid, tc.status, tc.missing), ErrInvalid, "%T %s", rec, tc.name)
		}
	}
}

func TestMemoryCheckpointRecovered(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	cp, lost := uuid.NewString(), uuid.NewString()
	id, err := m.OperationStarted(ctx, karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect, CheckpointID: cp, Status: "protecting"})
	require.NoError(t, err)
	restore, err := m.OperationStarted(ctx, karbor.OperationLog{ProjectID: "p", Type: karbor.OperationRestore, CheckpointID: cp, Status: "in_progress"})
	require.NoError(t, err)
	require.NoError(t, m.CheckpointRecovered(ctx, cp, "error", &karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect, CheckpointID: cp}))
	require.NoError(t, m.CheckpointRecovered(ctx, lost, "error", &karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect, CheckpointID: lost}))
	got, _ := m.Operation(id)
	assert.Equal(t, []string{"protecting", "error"}, got.Statuses)
	assert.False(t, got.EndedAt.IsZero())
	r, _ := m.Operation(restore)
	assert.Equal(t, []string{"in_progress"}, r.Statuses)
	ops := m.Operations()
	require.Len(t, ops, 3)
	assert.Equal(t, lost, ops[2].CheckpointID)
	assert.Equal(t, "error", ops[2].Status())
	assert.False(t, ops[2].EndedAt.IsZero())
}
