package db

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/karbortest"
)

// pythonRow is a row the Python service wrote during the recorded session
// (pkg/karbortest, SQLite).
func pythonRow(t *testing.T, table, id string) map[string]any {
	t.Helper()
	for _, r := range karbortest.DBRows(t)[table] {
		if r["id"] == id {
			return r
		}
	}
	t.Fatalf("no %s row %s in the fixture", table, id)
	return nil
}

var timeColumns = []string{"created_at", "updated_at", "deleted_at", "started_at", "ended_at", "modified_at"}

// assertLikePython compares a row we wrote with one the Python service
// wrote: the same columns, the same values, NULL where Python left NULL, and
// datetimes in the engine's format where Python wrote one.
func (tdb *testDB) assertLikePython(t *testing.T, want, got map[string]any, skip ...string) {
	t.Helper()
	assert.ElementsMatch(t, keys(want), keys(got), "columns")
	for col, w := range want {
		switch {
		case slices.Contains(skip, col):
		case slices.Contains(timeColumns, col):
			if w == nil {
				assert.Nil(t, got[col], col)
			} else {
				tdb.assertTime(t, col, got[col])
			}
		case col == "deleted" || col == "disabled":
			assert.EqualValues(t, w, got[col], col)
		default:
			assert.Equal(t, w, got[col], col)
		}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// The Python service's operation logs, replayed: the same calls its flows
// make must leave the same rows.
func TestOperationLogsLikePython(t *testing.T) {
	type step struct {
		ended  bool
		status string
	}
	cases := []struct {
		name   string
		id     string // fixture row
		create karbor.OperationLog
		steps  []step
	}{
		{"protect", "c88c92ce-3992-4364-9388-3175643f8105",
			karbor.OperationLog{Type: karbor.OperationProtect, Status: "protecting"},
			[]step{{false, "protecting"}, {true, "available"}}},
		{"restore whose restore row was missing (flow stopped at Initiate)", "84c78aeb-4dfa-45c0-a306-27739bf7699b",
			karbor.OperationLog{Type: karbor.OperationRestore, Status: karbor.RestoreStatusInProgress}, nil},
		{"verify without a status", "0ac24312-d322-4eff-a1b9-71322c8968f8",
			karbor.OperationLog{Type: karbor.OperationVerify}, nil},
		{"delete, logged as protect", "c98ab473-a293-4d50-bb67-506bcaf9eb72",
			karbor.OperationLog{Type: karbor.OperationProtect, Status: "deleting"},
			[]step{{false, "deleting"}, {true, "deleted"}}},
		{"restore", "38fc2244-463d-46b7-acda-66c85c8b5ec2",
			karbor.OperationLog{Type: karbor.OperationRestore, Status: karbor.RestoreStatusInProgress},
			[]step{{false, karbor.RestoreStatusInProgress}, {true, karbor.RestoreStatusSuccess}}},
	}
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		s, _ := startStore(t, tdb.testConfig())
		rec := s.Recorder()
		ctx := context.Background()
		ids := make([]string, len(cases))
		for i, tc := range cases {
			want := pythonRow(t, "operation_logs", tc.id)
			op := tc.create
			op.ProjectID = str(want["project_id"])
			op.CheckpointID = str(want["checkpoint_id"])
			op.PlanID = str(want["plan_id"])
			op.ProviderID = str(want["provider_id"])
			op.RestoreID = str(want["restore_id"])
			id, err := rec.OperationStarted(ctx, op)
			require.NoError(t, err)
			ids[i] = id
			for _, st := range tc.steps {
				if st.ended {
					require.NoError(t, rec.OperationEnded(ctx, id, st.status))
				} else {
					require.NoError(t, rec.OperationStatus(ctx, id, st.status))
				}
			}
		}
		flush(t, s)

		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				want := pythonRow(t, "operation_logs", tc.id)
				got := tdb.row(t, "operation_logs", "id = ?", ids[i])
				tdb.assertLikePython(t, want, got, "id")
				_, err := uuid.Parse(ids[i])
				assert.NoError(t, err, "id is a UUID")
				assert.Len(t, ids[i], 36)
				// started_at is taken when the flow is built, created_at when
				// the row is written; ended_at when the flow ends, updated_at
				// when that is written.
				assert.LessOrEqual(t, got["started_at"], got["created_at"])
				if got["ended_at"] != nil {
					assert.LessOrEqual(t, got["ended_at"], got["updated_at"])
					assert.LessOrEqual(t, got["created_at"], got["ended_at"])
				}
			})
		}
	})
}

// On SQLite the values must also have the storage classes SQLAlchemy gives
// them, or the karbor API (SQLAlchemy) would read them back differently.
func TestSQLiteStorageClassesLikeSQLAlchemy(t *testing.T) {
	tdb := newTestDB(t, SQLite)
	s, _ := startStore(t, tdb.testConfig())
	ctx := context.Background()
	id, err := s.Recorder().OperationStarted(ctx, karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect, Status: "protecting", PlanID: "plan"})
	require.NoError(t, err)
	require.NoError(t, s.Recorder().OperationEnded(ctx, id, "available"))
	flush(t, s)
	waitFor(t, "the services row", func() bool { return len(tdb.liveServices(t)) == 1 })

	typeOf := func(table, col string, id any) string {
		var class string
		require.NoError(t, tdb.conn.QueryRow("SELECT typeof("+col+") FROM "+table+" WHERE id = ?", id).Scan(&class))
		return class
	}
	for col, want := range map[string]string{
		"created_at": "text", "updated_at": "text", "started_at": "text", "ended_at": "text",
		"deleted": "integer", "deleted_at": "null", "id": "text", "plan_id": "text",
		"restore_id": "null", "status": "text", "error_info": "null",
	} {
		assert.Equal(t, want, typeOf("operation_logs", col, id), "operation_logs.%s", col)
	}
	svc := tdb.liveServices(t)[0]["id"]
	for col, want := range map[string]string{
		"created_at": "text", "deleted": "integer", "disabled": "integer", "report_count": "integer", "id": "integer",
	} {
		assert.Equal(t, want, typeOf("services", col, svc), "services.%s", col)
	}
}

func TestOperationUpdatesOfMissingRowsAreLogged(t *testing.T) {
	tdb := newTestDB(t, SQLite)
	s, hook := startStore(t, tdb.testConfig())
	missing := uuid.NewString()
	require.NoError(t, s.Recorder().OperationEnded(context.Background(), missing, "available"))
	flush(t, s)
	var warned bool
	for _, e := range hook.AllEntries() {
		warned = warned || (e.Message == "database write skipped, the row does not exist: update operation_logs "+missing+" status=available")
	}
	assert.True(t, warned, "a warning names the missing row")
	assert.Empty(t, tdb.rows(t, "operation_logs", "1 = 1"))
}

func TestRecorderRejectsBadInput(t *testing.T) {
	long := func(n int) string { return string(make([]byte, n)) }
	id := uuid.NewString()
	ok := karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect}
	cases := []struct {
		name string
		call func(recorder) error
	}{
		{"no project", func(r recorder) error {
			_, err := r.OperationStarted(context.Background(), karbor.OperationLog{Type: "protect"})
			return err
		}},
		{"no type", func(r recorder) error {
			_, err := r.OperationStarted(context.Background(), karbor.OperationLog{ProjectID: "p"})
			return err
		}},
		{"checkpoint id too long", func(r recorder) error {
			op := ok
			op.CheckpointID = long(37)
			_, err := r.OperationStarted(context.Background(), op)
			return err
		}},
		{"project id too long", func(r recorder) error {
			op := ok
			op.ProjectID = long(256)
			_, err := r.OperationStarted(context.Background(), op)
			return err
		}},
		{"status too long", func(r recorder) error { return r.OperationStatus(context.Background(), id, long(65)) }},
		{"no operation id", func(r recorder) error { return r.OperationEnded(context.Background(), "", "available") }},
		{"no restore id", func(r recorder) error { return r.RestoreStatus(context.Background(), "", karbor.RestoreStatusSuccess) }},
		{"invalid UTF-8 status", func(r recorder) error { return r.VerificationStatus(context.Background(), id, "\xff") }},
		{"result without type", func(r recorder) error {
			return r.RestoreResource(context.Background(), id, karbor.ResourceResult{ID: "x", Status: "ok"})
		}},
		{"result without id", func(r recorder) error {
			return r.VerificationResource(context.Background(), id, karbor.ResourceResult{Type: "OS::Nova::Server", Status: "ok"})
		}},
		{"invalid UTF-8 reason", func(r recorder) error {
			return r.RestoreResource(context.Background(), id, karbor.ResourceResult{Type: "t", ID: "x", Status: "ok", Reason: reason("\xfe")})
		}},
	}
	tdb := newTestDB(t, SQLite)
	s, _ := openStore(t, tdb.testConfig())
	recorders := map[string]recorder{"sql": s.Recorder(), "null": &Recorder{}, "memory": NewMemory()}
	for rname, rec := range recorders {
		for _, tc := range cases {
			t.Run(rname+"/"+tc.name, func(t *testing.T) {
				assert.ErrorIs(t, tc.call(rec), ErrInvalid)
			})
		}
	}
	// Nothing was queued: Run would find an empty queue.
	assert.Zero(t, len(s.rec.w.queue))
}
