package main_test

import (
	"database/sql"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbortest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// The ids of the recorded session ([karbortest.DBRows]),
// reused so that the rows can be compared value for value.
const (
	recordedPlanID         = "632d8f7d-e2c3-4f31-82ea-900d8afb9880"
	recordedRestoreID      = "800fe32c-c20a-4e5f-a776-6b89bab80234"
	recordedVerificationID = "a80b2ec0-a195-4540-aeb5-fbbbde33719e"
)

// pythonRows are the rows the Python service wrote during the recorded
// session, by table, in the file's order.
func pythonRows(t testing.TB) map[string][]map[string]any {
	t.Helper()
	recorded := karbortest.DBRows(t)
	for _, rows := range recorded {
		for _, row := range rows {
			for k, v := range row {
				if n, ok := v.(float64); ok {
					row[k] = int64(n)
				}
			}
		}
	}
	return recorded
}

// pythonRow is the recorded row of table whose column has value.
func pythonRow(t testing.TB, rows map[string][]map[string]any, table, column string, value any) map[string]any {
	t.Helper()
	for _, r := range rows[table] {
		if r[column] == value {
			return maps.Clone(r)
		}
	}
	t.Fatalf("no recorded %s row with %s = %v", table, column, value)
	return nil
}

// What a column of ours must hold where the recorded row cannot say.
type (
	// datetime: a naive UTC DATETIME of this run.
	datetime struct{}
	// anyValue: not NULL.
	anyValue struct{}
	// resultsJSON: resources_status as json.dumps writes this dict.
	resultsJSON map[string]string
)

// pyDict is the text json.dumps gives of a non-empty dict of strings.
var pyDict = regexp.MustCompile(`^\{"[^"]+": "[^"]*"(, "[^"]+": "[^"]*")*\}$`)

// sameRow compares our row with the Python service's, column by column:
// the same columns; where want names a column, what want says; elsewhere
// NULL where Python wrote NULL, a datetime of this run where it wrote a
// datetime (*_at), and Python's very value otherwise. since is when the
// test started.
func sameRow(t testing.TB, what string, python, ours, want map[string]any, since time.Time) {
	t.Helper()
	assert.ElementsMatch(t, slices.Collect(maps.Keys(python)), slices.Collect(maps.Keys(ours)), "%s: columns", what)
	until := time.Now().UTC().Add(time.Second)
	for col, py := range python {
		exp, given := want[col]
		if !given {
			switch {
			case py == nil:
				exp = nil
			case strings.HasSuffix(col, "_at"):
				exp = datetime{}
			default:
				exp = py
			}
		}
		got := ours[col]
		switch exp := exp.(type) {
		case datetime:
			s, ok := got.(string)
			if !assert.True(t, ok, "%s.%s: want a datetime, got %#v", what, col, got) {
				continue
			}
			at, err := time.Parse(time.DateTime, s)
			if assert.NoError(t, err, "%s.%s", what, col) {
				assert.False(t, at.Before(since) || at.After(until),
					"%s.%s = %s: not a naive UTC time of this run (%s … %s)", what, col, s, since.Format(time.DateTime), until.Format(time.DateTime))
			}
		case anyValue:
			assert.NotNil(t, got, "%s.%s", what, col)
		case resultsJSON:
			s, _ := got.(string)
			assert.Regexp(t, pyDict, s, "%s.%s: json.dumps text", what, col)
			var m map[string]string
			if assert.NoError(t, json.Unmarshal([]byte(s), &m), "%s.%s", what, col) {
				assert.Equal(t, map[string]string(exp), m, "%s.%s", what, col)
			}
		default:
			assert.Equal(t, exp, got, "%s.%s (Python: %#v)", what, col, py)
		}
	}
}

// verificationArgs are the verification RPC's arguments as karbor-api
// sends them (the recorded session's).
func verificationArgs(id, checkpointID, project string) map[string]any {
	return map[string]any{"verification": map[string]any{
		"karbor_object.name": "Verification", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0",
		"karbor_object.data": map[string]any{"id": id, "project_id": project, "provider_id": noopID,
			"checkpoint_id": checkpointID, "parameters": map[string]any{}, "status": "in_progress",
			"resources_status": map[string]any{}, "resources_reason": map[string]any{},
			"created_at": "2026-11-22T01:57:50Z", "updated_at": nil, "deleted_at": nil, "deleted": false},
	}}
}

// insertAsAPI inserts the restores or verifications row karbor-api creates
// before it calls the service: the recorded row with this run's checkpoint,
// created now, status in_progress and nothing else set.
func insertAsAPI(t testing.TB, pool *sql.DB, table string, recorded map[string]any, checkpointID string) {
	t.Helper()
	row := maps.Clone(recorded)
	row["checkpoint_id"] = checkpointID
	row["created_at"] = time.Now().UTC().Format(time.DateTime)
	row["updated_at"], row["status"], row["resources_status"], row["resources_reason"] = nil, "in_progress", nil, nil
	var cols []string
	var marks []string
	var args []any
	for k, v := range row {
		cols = append(cols, "`"+k+"`")
		marks = append(marks, "?")
		args = append(args, v)
	}
	_, err := pool.Exec("INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(marks, ", ")+")", args...)
	require.NoError(t, err)
}

// oneRow waits until the query finds exactly one row for which done holds,
// and returns it.
func oneRow(t testing.TB, pool *sql.DB, what, table, where string, done func(map[string]any) bool, args ...any) map[string]any {
	t.Helper()
	var row map[string]any
	waitFor(t, 30*time.Second, what, func() bool {
		rows := tableRows(t, pool, table, where, args...)
		if len(rows) != 1 || !done(rows[0]) {
			return false
		}
		row = rows[0]
		return true
	})
	return row
}

// reportCount waits for this service's services row and returns its
// report_count once it is at least above.
func reportCount(t testing.TB, pool *sql.DB, above int64) int64 {
	t.Helper()
	row := oneRow(t, pool, "report_count above "+strconv.FormatInt(above, 10), "services", "host = ? AND deleted = 0",
		func(r map[string]any) bool { return r["report_count"].(int64) > above }, serviceHost)
	return row["report_count"].(int64)
}

// TestDatabaseRowsEndToEnd runs the service against MariaDB and drives
// protect → restore → verification → delete over RPC as karbor-api does
// (the API inserts the restores and verifications rows, in_progress,
// before it calls). Every row the service writes is compared column by
// column with the row the Python service wrote in the recorded session:
// the services heartbeat (created for this host, report_count growing),
// the four operation logs (the delete's typed protect, as in Python), and
// the restore and verification rows, which end success with one
// resources_status entry per resource (the noop plugin's results; Python's
// noop leaves the column NULL and cannot verify, docs/compatibility.md P8,
// P17). The service runs in a time zone far from UTC: the rows must still
// be naive UTC.
func TestDatabaseRowsEndToEnd(t *testing.T) {
	t.Parallel()
	m := sharedMariaDB(t)
	name, pool := m.createDatabase(t)
	since := time.Now().UTC().Truncate(time.Second)
	url := rpctest.Vhost(t)
	newService(t, url, serviceConfig{
		extraDefault: "report_interval = 1",
		sections:     "[database]\nconnection = " + m.url(name) + "\n",
		env:          []string{"TZ=Asia/Kolkata"},
	})
	c := pyClient(t, url)
	ctx := requestContext(t, projectA, false)
	py := pythonRows(t)

	cp := protect(t, c, ctx, recordedPlanID, projectA, 2)
	waitStatus(t, c, ctx, cp, "available")
	available := resultsJSON{}
	for _, r := range plan(recordedPlanID, projectA, 2)["karbor_object.data"].(map[string]any)["resources"].([]map[string]any) {
		available[r["type"].(string)+"#"+r["id"].(string)] = "available"
	}

	t.Run("restore", func(t *testing.T) {
		recorded := pythonRow(t, py, "restores", "id", recordedRestoreID)
		insertAsAPI(t, pool, "restores", recorded, cp)
		assert.JSONEq(t, "null", string(result(t, call(t, c, "restore", ctx, restoreArgs(cp, projectA, map[string]any{})))))
		row := oneRow(t, pool, "restore success", "restores", "id = ?",
			func(r map[string]any) bool { return r["status"] == "success" }, recordedRestoreID)
		sameRow(t, "restores", recorded, row, map[string]any{
			"checkpoint_id": cp, "created_at": datetime{}, "resources_status": available,
		}, since)
	})

	t.Run("verification", func(t *testing.T) {
		recorded := pythonRow(t, py, "verifications", "id", recordedVerificationID)
		insertAsAPI(t, pool, "verifications", recorded, cp)
		assert.JSONEq(t, "null", string(result(t, call(t, c, "verification", ctx, verificationArgs(recordedVerificationID, cp, projectA)))))
		row := oneRow(t, pool, "verification success", "verifications", "id = ?",
			func(r map[string]any) bool { return r["status"] == "success" }, recordedVerificationID)
		// The recorded verification failed (Python's noop cannot verify,
		// P8) and kept in_progress and no updated_at.
		sameRow(t, "verifications", recorded, row, map[string]any{
			"checkpoint_id": cp, "status": "success", "updated_at": datetime{}, "resources_status": available,
		}, since)
	})

	assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", ctx, map[string]any{"provider_id": noopID, "checkpoint_id": cp}))))
	waitStatus(t, c, ctx, cp, "deleted")

	t.Run("operation logs", func(t *testing.T) {
		var logs []map[string]any
		waitFor(t, 30*time.Second, "four ended operation logs", func() bool {
			logs = tableRows(t, pool, "operation_logs", "ended_at IS NOT NULL")
			return len(logs) == 4
		})
		find := func(typ, status string) map[string]any {
			for _, l := range logs {
				if l["operation_type"] == typ && l["status"] == status {
					return l
				}
			}
			t.Fatalf("no %s operation log with status %s in %v", typ, status, logs)
			return nil
		}
		ours := map[string]any{"id": anyValue{}, "checkpoint_id": cp}
		protectLog := pythonRow(t, py, "operation_logs", "id", "dd4a899d-f7b1-4763-9209-c5dd541a2743")
		sameRow(t, "protect log", protectLog, find("protect", "available"), ours, since)
		restoreLog := pythonRow(t, py, "operation_logs", "id", "38fc2244-463d-46b7-acda-66c85c8b5ec2")
		sameRow(t, "restore log", restoreLog, find("restore", "success"), ours, since)
		// No verification succeeded in the recorded session (P8): a
		// successful one is written as the restore's, without restore_id.
		verifyLog := maps.Clone(restoreLog)
		verifyLog["operation_type"], verifyLog["restore_id"] = "verify", nil
		sameRow(t, "verify log", verifyLog, find("verify", "success"), ours, since)
		// The recorded delete was of another plan's checkpoint.
		deleteLog := pythonRow(t, py, "operation_logs", "id", "c98ab473-a293-4d50-bb67-506bcaf9eb72")
		deleteLog["plan_id"] = recordedPlanID
		sameRow(t, "delete log", deleteLog, find("protect", "deleted"), ours, since)
		for _, l := range logs {
			assert.LessOrEqual(t, l["started_at"], l["ended_at"], "%s log", l["operation_type"])
		}
	})

	t.Run("services", func(t *testing.T) {
		first := reportCount(t, pool, 0)
		reportCount(t, pool, first) // it grows
		rows := tableRows(t, pool, "services", "1 = 1")
		require.Len(t, rows, 1)
		sameRow(t, "services", py["services"][0], rows[0], map[string]any{
			"id": anyValue{}, "host": serviceHost, "report_count": anyValue{},
		}, since)
	})
}

// TestDatabaseOutage kills the service's MariaDB (a private server, so
// nobody else's tests notice) while the service runs, and starts it again
// on the same data. Meanwhile the service keeps serving: a protect and
// show_checkpoint succeed, the process stays up, the outage is logged once.
// Once the database is back the heartbeat resumes on the same services row
// and the operation log of the protect made during the outage is written,
// with the times of the operation itself, not of the late write
// (max_retries = -1: queued writes wait for the database for ever).
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	m := newPrivateMariaDB(t)
	admin := m.open(t, "")
	_, err := admin.Exec("CREATE DATABASE karbor CHARACTER SET utf8")
	require.NoError(t, err)
	applySchema(t, m.open(t, "karbor"))
	url := rpctest.Vhost(t)
	s := newService(t, url, serviceConfig{
		extraDefault: "report_interval = 1",
		sections: "[database]\nconnection = " + m.url("karbor") + "\n" +
			"max_retries = -1\nretry_interval = 1\npool_timeout = 5\n",
	})
	c := pyClient(t, url)
	ctx := requestContext(t, projectA, false)
	before := reportCount(t, m.open(t, "karbor"), 0)
	serviceID := tableRows(t, m.open(t, "karbor"), "services", "1 = 1")[0]["id"]

	m.kill()
	cp := protect(t, c, ctx, recordedPlanID, projectA, 2)
	waitStatus(t, c, ctx, cp, "available")
	s.waitLog("karbor database unreachable; retrying", 30*time.Second)
	select {
	case <-s.done:
		t.Fatalf("karbor-protection exited (%v) while its database was down", s.exitErr())
	default:
	}
	restarted := time.Now().UTC()

	m.start()
	pool := m.open(t, "karbor")
	reportCount(t, pool, before)
	rows := tableRows(t, pool, "services", "1 = 1")
	require.Len(t, rows, 1, "the heartbeat resumes on the same row")
	assert.Equal(t, serviceID, rows[0]["id"])
	log := oneRow(t, pool, "the operation log of the protect made during the outage", "operation_logs", "checkpoint_id = ?",
		func(r map[string]any) bool { return r["ended_at"] != nil }, cp)
	assert.Equal(t, "protect", log["operation_type"])
	assert.Equal(t, "available", log["status"])
	for _, col := range []string{"created_at", "started_at", "ended_at"} {
		at, err := time.Parse(time.DateTime, log[col].(string))
		require.NoError(t, err)
		assert.False(t, at.After(restarted), "%s %s is the time of the protect, before the database came back at %s", col, at, restarted)
	}
	s.waitLog("karbor database connection recovered", 30*time.Second)
	out := s.out.String()
	assert.Equal(t, 1, strings.Count(out, "karbor database unreachable; retrying"), "the outage is logged once")
	assert.NotContains(t, out, "panic")
	assert.NotContains(t, out, "DATA RACE")
	result(t, call(t, c, "show_checkpoint", ctx, map[string]any{"provider_id": noopID, "checkpoint_id": cp}))
}
