package db

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// timeFormats is what a DateTime column holds on each engine, as read back
// by the tests: SQLAlchemy's SQLite text with six fraction digits, MySQL's
// DATETIME without a fraction, PostgreSQL's microsecond timestamp.
var timeFormats = map[Dialect]*regexp.Regexp{
	SQLite:     regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$`),
	MySQL:      regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`),
	PostgreSQL: regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$`),
}

func (tdb *testDB) assertTime(t *testing.T, column string, v any) {
	t.Helper()
	s, ok := v.(string)
	if assert.True(t, ok, "%s = %#v is not a datetime", column, v) {
		assert.Regexp(t, timeFormats[tdb.dialect], s, column)
		parsed, err := time.Parse("2006-01-02 15:04:05", s[:19])
		if assert.NoError(t, err) {
			assert.WithinDuration(t, time.Now().UTC(), parsed, time.Minute, "%s is naive UTC", column)
		}
	}
}

func (tdb *testDB) liveServices(t *testing.T) []map[string]any {
	return tdb.rows(t, "services", "deleted = ?", tdb.d.boolArg(false))
}

func reportCount(row map[string]any) int64 { return row["report_count"].(int64) }

func TestHeartbeatCreatesRowAndReports(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		startStore(t, tdb.testConfig())

		waitFor(t, "report_count >= 3", func() bool {
			rows := tdb.liveServices(t)
			return len(rows) == 1 && reportCount(rows[0]) >= 3
		})
		first := tdb.row(t, "services", "deleted = ?", tdb.d.boolArg(false))
		assert.Equal(t, "protection-host", first["host"])
		assert.Equal(t, "karbor-protection", first["binary"])
		assert.Equal(t, "karbor-protection", first["topic"])
		assert.Equal(t, int64(0), first["disabled"])
		assert.Equal(t, int64(0), first["deleted"])
		for _, c := range []string{"deleted_at", "disabled_reason", "modified_at", "rpc_current_version", "rpc_available_version"} {
			assert.Nil(t, first[c], c)
		}
		tdb.assertTime(t, "created_at", first["created_at"])
		tdb.assertTime(t, "updated_at", first["updated_at"])
		assert.GreaterOrEqual(t, first["updated_at"], first["created_at"])

		waitFor(t, "two more reports", func() bool {
			return reportCount(tdb.row(t, "services", "id = ?", first["id"])) >= reportCount(first)+2
		})
		later := tdb.row(t, "services", "id = ?", first["id"])
		if tdb.dialect == MySQL {
			assert.GreaterOrEqual(t, later["updated_at"], first["updated_at"], "DATETIME has whole seconds")
		} else {
			assert.Greater(t, later["updated_at"], first["updated_at"])
		}
		assert.Equal(t, first["created_at"], later["created_at"])
	})
}

func TestHeartbeatUsesExistingRow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		insert := `INSERT INTO services (created_at, deleted, host, {binary}, topic, report_count, disabled)
			VALUES (?, ?, ?, ?, ?, ?, ?)`
		created := tdb.d.timeArg(time.Now().Add(-time.Hour))
		tdb.exec(t, insert, created, tdb.d.boolArg(false), "other-host", "karbor-protection", "karbor-protection", 7, tdb.d.boolArg(false))
		tdb.exec(t, insert, created, tdb.d.boolArg(true), "protection-host", "karbor-protection", "karbor-protection", 99, tdb.d.boolArg(false))
		tdb.exec(t, insert, created, tdb.d.boolArg(false), "protection-host", "karbor-operationengine", "karbor-operationengine", 5, tdb.d.boolArg(false))
		tdb.exec(t, insert, created, tdb.d.boolArg(false), "protection-host", "karbor-protection", "karbor-protection", 41, tdb.d.boolArg(true))
		mine := tdb.row(t, "services", "report_count = ?", 41)["id"]

		startStore(t, tdb.testConfig())
		waitFor(t, "the existing row to be counted", func() bool {
			return reportCount(tdb.row(t, "services", "id = ?", mine)) >= 43
		})
		row := tdb.row(t, "services", "id = ?", mine)
		assert.Equal(t, int64(1), row["disabled"], "a disabled service stays disabled")
		assert.Len(t, tdb.rows(t, "services", "1 = 1"), 4, "no row was added")
		for count, what := range map[int]string{7: "other host", 99: "soft-deleted row", 5: "other binary"} {
			assert.Nil(t, tdb.row(t, "services", "report_count = ?", count)["updated_at"], what)
		}
	})
}

func TestHeartbeatNewRowDisabledWithoutEnableNewServices(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		cfg := tdb.testConfig()
		cfg.Service.EnableNewServices = false
		startStore(t, cfg)
		waitFor(t, "the services row", func() bool { return len(tdb.liveServices(t)) == 1 })
		assert.Equal(t, int64(1), tdb.liveServices(t)[0]["disabled"])
	})
}

func TestHeartbeatRecreatesVanishedRow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove string
	}{
		{"deleted", `DELETE FROM services WHERE id = ?`},
		{"soft-deleted", `UPDATE services SET deleted = ?, deleted_at = ? WHERE id = ?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, tdb *testDB) {
				startStore(t, tdb.testConfig())
				waitFor(t, "the first report", func() bool {
					rows := tdb.liveServices(t)
					return len(rows) == 1 && reportCount(rows[0]) >= 1
				})
				old := tdb.liveServices(t)[0]["id"]
				if tc.name == "deleted" {
					tdb.exec(t, tc.remove, old)
				} else {
					tdb.exec(t, tc.remove, tdb.d.boolArg(true), tdb.d.timeArg(time.Now()), old)
				}

				// The old row is gone or no longer live, so a live counted row
				// is a new one (SQLite may give it the old id again).
				waitFor(t, "a new counted row", func() bool {
					rows := tdb.liveServices(t)
					return len(rows) == 1 && reportCount(rows[0]) >= 1
				})
				fresh := tdb.liveServices(t)[0]
				assert.Equal(t, "protection-host", fresh["host"])
				assert.Equal(t, int64(0), fresh["deleted"])
				all := tdb.rows(t, "services", "1 = 1")
				if tc.name == "deleted" {
					assert.Len(t, all, 1)
				} else {
					assert.Len(t, all, 2, "the soft-deleted row stays")
					assert.NotEqual(t, old, fresh["id"])
				}
			})
		})
	}
}

// Stopping leaves the row as it is, as oslo's Service.stop does: the API
// sees the service go down when updated_at grows old.
func TestHeartbeatStopLeavesRow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		s, _ := openStore(t, tdb.testConfig())
		stop := runStore(t, s)
		waitFor(t, "two reports", func() bool {
			rows := tdb.liveServices(t)
			return len(rows) == 1 && reportCount(rows[0]) >= 2
		})
		stop()
		before := tdb.liveServices(t)
		require.Len(t, before, 1)
		never(t, "the row changed after stop", 400*time.Millisecond, func() bool {
			after := tdb.rows(t, "services", "1 = 1")
			return len(after) != 1 || after[0]["report_count"] != before[0]["report_count"] ||
				after[0]["updated_at"] != before[0]["updated_at"] || after[0]["deleted"] != int64(0)
		})
	})
}

// report_interval = 0 turns the heartbeat off as in oslo: the row is
// created, never counted.
func TestHeartbeatDisabled(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		cfg := tdb.testConfig()
		cfg.Service.ReportInterval = 0
		startStore(t, cfg)
		waitFor(t, "the services row", func() bool { return len(tdb.liveServices(t)) == 1 })
		never(t, "the disabled heartbeat counted", 400*time.Millisecond, func() bool {
			return reportCount(tdb.liveServices(t)[0]) != 0
		})
		assert.Nil(t, tdb.liveServices(t)[0]["updated_at"])
	})
}
