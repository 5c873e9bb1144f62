package db

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// insertAPIRow creates a restores or verifications row as the karbor API
// does before it calls the service: status in_progress, empty dicts not
// written.
func (tdb *testDB) insertAPIRow(t *testing.T, table, id string) {
	t.Helper()
	tdb.exec(t, fmt.Sprintf(`INSERT INTO %s (created_at, deleted, id, project_id, provider_id, checkpoint_id, status)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, table),
		tdb.d.timeArg(time.Now()), tdb.d.boolArg(false), id,
		"f0e1d2c3-b4a5-4678-9abc-def012345678", "b766f37c-d011-4026-8228-28730d734a3f",
		"ac462082-3212-4139-906e-d0dd1ddc19ee", karbor.RestoreStatusInProgress)
}

// A restore and a verification as in the recorded Python session: Initiate
// sets in_progress (already there: updated_at stays NULL), Complete sets
// success.
func TestRestoreAndVerificationLikePython(t *testing.T) {
	cases := []struct {
		table string
		id    string
		calls func(r recorder, id string) error
	}{
		{tableRestores, "800fe32c-c20a-4e5f-a776-6b89bab80234", func(r recorder, id string) error {
			ctx := context.Background()
			if err := r.RestoreStatus(ctx, id, karbor.RestoreStatusInProgress); err != nil {
				return err
			}
			return r.RestoreStatus(ctx, id, karbor.RestoreStatusSuccess)
		}},
		// The fixture's verification failed to build its flow, so only
		// Initiate's in_progress could have been written: nothing changes.
		{tableVerifications, "a80b2ec0-a195-4540-aeb5-fbbbde33719e", func(r recorder, id string) error {
			return r.VerificationStatus(context.Background(), id, karbor.RestoreStatusInProgress)
		}},
	}
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		s, _ := startStore(t, tdb.testConfig())
		for _, tc := range cases {
			tdb.insertAPIRow(t, tc.table, tc.id)
			require.NoError(t, tc.calls(s.Recorder(), tc.id))
		}
		flush(t, s)
		for _, tc := range cases {
			t.Run(tc.table, func(t *testing.T) {
				tdb.assertLikePython(t, pythonRow(t, tc.table, tc.id), tdb.row(t, tc.table, "id = ?", tc.id))
			})
		}
	})
}

func TestStatusSkipsSoftDeletedAndMissingRows(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		s, hook := startStore(t, tdb.testConfig())
		gone := uuid.NewString()
		tdb.insertAPIRow(t, tableRestores, gone)
		tdb.exec(t, `UPDATE restores SET deleted = ? WHERE id = ?`, tdb.d.boolArg(true), gone)
		missing := uuid.NewString()

		require.NoError(t, s.Recorder().RestoreStatus(context.Background(), gone, karbor.RestoreStatusSuccess))
		require.NoError(t, s.Recorder().VerificationStatus(context.Background(), missing, karbor.RestoreStatusFailure))
		flush(t, s)

		row := tdb.row(t, "restores", "id = ?", gone)
		assert.Equal(t, karbor.RestoreStatusInProgress, row["status"])
		assert.Nil(t, row["updated_at"])
		skipped := 0
		for _, e := range hook.AllEntries() {
			if e.Message == "database write skipped, the row does not exist: update restores "+gone+" status=success" ||
				e.Message == "database write skipped, the row does not exist: update verifications "+missing+" status=fail" {
				skipped++
			}
		}
		assert.Equal(t, 2, skipped)
	})
}

// Plugins' hooks run in parallel and each records its resource; the row
// must end with every result (Python's single in-memory object, merged).
func TestResourceResultsMergeParallelWriters(t *testing.T) {
	const hooks, perHook = 8, 25
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		s, _ := startStore(t, tdb.testConfig())
		rec := s.Recorder()
		restoreID, verifyID := uuid.NewString(), uuid.NewString()
		tdb.insertAPIRow(t, tableRestores, restoreID)
		tdb.insertAPIRow(t, tableVerifications, verifyID)
		require.NoError(t, rec.RestoreStatus(context.Background(), restoreID, karbor.RestoreStatusInProgress))

		wantStatus, wantReason := map[string]string{}, map[string]string{}
		for h := range hooks {
			for i := range perHook {
				key := fmt.Sprintf("OS::Cinder::Volume#vol-%d-%d", h, i)
				wantStatus[key] = "available"
				if i%2 == 0 {
					wantReason[key] = fmt.Sprintf("reason %d/%d", h, i)
				}
			}
		}
		var g errgroup.Group
		for h := range hooks {
			g.Go(func() error {
				for i := range perHook {
					r := karbor.ResourceResult{Type: "OS::Cinder::Volume", ID: fmt.Sprintf("vol-%d-%d", h, i), Status: "restoring"}
					if err := rec.RestoreResource(context.Background(), restoreID, r); err != nil {
						return err
					}
					r.Status = "available"
					if i%2 == 0 {
						r.Reason = reason(fmt.Sprintf("reason %d/%d", h, i))
					}
					if err := rec.RestoreResource(context.Background(), restoreID, r); err != nil {
						return err
					}
					if err := rec.VerificationResource(context.Background(), verifyID, r); err != nil {
						return err
					}
				}
				return nil
			})
		}
		require.NoError(t, g.Wait())
		require.NoError(t, rec.RestoreStatus(context.Background(), restoreID, karbor.RestoreStatusSuccess))
		flush(t, s)

		for table, id := range map[string]string{tableRestores: restoreID, tableVerifications: verifyID} {
			row := tdb.row(t, table, "id = ?", id)
			var gotStatus, gotReason map[string]string
			require.NoError(t, json.Unmarshal([]byte(row["resources_status"].(string)), &gotStatus), table)
			require.NoError(t, json.Unmarshal([]byte(row["resources_reason"].(string)), &gotReason), table)
			assert.Equal(t, wantStatus, gotStatus, table)
			assert.Equal(t, wantReason, gotReason, table)
			tdb.assertTime(t, "updated_at", row["updated_at"])
		}
		assert.Equal(t, karbor.RestoreStatusSuccess, tdb.row(t, "restores", "id = ?", restoreID)["status"])
		assert.Equal(t, karbor.RestoreStatusInProgress, tdb.row(t, "verifications", "id = ?", verifyID)["status"])
		assert.Equal(t, 1, s.rec.targets.len(), "the finished restore's results are dropped, the running verification's kept")
	})
}

// The JSON text is json.dumps of the cumulative dicts: insertion order, the
// last status of a key wins, a reason only where one was given, and an
// empty reason dict is not written.
func TestResourceResultsTextLikePython(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		s, _ := startStore(t, tdb.testConfig())
		rec := s.Recorder()
		ctx := context.Background()
		withReason, withoutReason := uuid.NewString(), uuid.NewString()
		tdb.insertAPIRow(t, tableRestores, withReason)
		tdb.insertAPIRow(t, tableVerifications, withoutReason)

		for _, r := range []karbor.ResourceResult{
			{Type: "OS::Nova::Server", ID: "b", Status: "restoring"},
			{Type: "OS::Cinder::Volume", ID: "a", Status: "error", Reason: reason(`quota "exceeded" — ünïcode ☃ 😀`)},
			{Type: "OS::Nova::Server", ID: "b", Status: "available", Reason: reason("")},
		} {
			require.NoError(t, rec.RestoreResource(ctx, withReason, r))
			flush(t, s) // each result its own write, as Python saves after each
		}
		require.NoError(t, rec.VerificationResource(ctx, withoutReason, karbor.ResourceResult{Type: "OS::Glance::Image", ID: "i", Status: "success"}))
		flush(t, s)

		row := tdb.row(t, "restores", "id = ?", withReason)
		assert.Equal(t, `{"OS::Nova::Server#b": "available", "OS::Cinder::Volume#a": "error"}`, row["resources_status"])
		assert.Equal(t, `{"OS::Cinder::Volume#a": "quota \"exceeded\" \u2014 \u00fcn\u00efcode \u2603 \ud83d\ude00", "OS::Nova::Server#b": ""}`, row["resources_reason"])
		assert.Equal(t, karbor.RestoreStatusInProgress, row["status"])

		row = tdb.row(t, "verifications", "id = ?", withoutReason)
		assert.Equal(t, `{"OS::Glance::Image#i": "success"}`, row["resources_status"])
		assert.Nil(t, row["resources_reason"])
	})
}
