package db

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

func openClient(t *testing.T, tdb *testDB) *Client {
	t.Helper()
	opts := DefaultOptions()
	opts.PoolTimeout = 3 * time.Second
	c, err := OpenClient(tdb.url, opts, logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestClientFollowsARestore: the rows a client creates are those the API
// creates, the service's recorder updates them, and the client reads the
// progress back.
func TestClientFollowsARestore(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		ctx := context.Background()
		s, _ := startStore(t, tdb.testConfig())
		c := openClient(t, tdb)
		target := Target{ProjectID: "f0e1d2c3-b4a5-4678-9abc-def012345678", ProviderID: "b766f37c-d011-4026-8228-28730d734a3f",
			CheckpointID: "ac462082-3212-4139-906e-d0dd1ddc19ee", CreatedAt: time.Now()}

		restore := target
		restore.ID = uuid.NewString()
		require.NoError(t, c.CreateRestore(ctx, restore))
		api := uuid.NewString()
		tdb.insertAPIRow(t, tableRestores, api)
		ours, theirs := tdb.row(t, tableRestores, "id = ?", restore.ID), tdb.row(t, tableRestores, "id = ?", api)
		for _, col := range []string{"id", "created_at"} {
			delete(ours, col)
			delete(theirs, col)
		}
		assert.Equal(t, theirs, ours, "the row the API creates")

		st, err := c.Restore(ctx, restore.ID)
		require.NoError(t, err)
		assert.Equal(t, TargetState{Status: karbor.RestoreStatusInProgress, ResourcesStatus: map[string]string{}}, st)

		rec := s.Recorder()
		require.NoError(t, rec.RestoreResource(ctx, restore.ID, karbor.ResourceResult{Type: "OS::Nova::Server", ID: "srv", Status: "available"}))
		require.NoError(t, rec.RestoreStatus(ctx, restore.ID, karbor.RestoreStatusSuccess))
		flush(t, s)
		st, err = c.Restore(ctx, restore.ID)
		require.NoError(t, err)
		assert.Equal(t, TargetState{Status: karbor.RestoreStatusSuccess, ResourcesStatus: map[string]string{"OS::Nova::Server#srv": "available"}}, st)

		verification := target
		verification.ID = uuid.NewString()
		verification.Parameters = map[string]any{"OS::Nova::Server": map[string]any{"a": "b"}}
		require.NoError(t, c.CreateVerification(ctx, verification))
		assert.Equal(t, `{"OS::Nova::Server": {"a": "b"}}`, tdb.row(t, tableVerifications, "id = ?", verification.ID)["parameters"])
		require.NoError(t, c.FailVerification(ctx, verification.ID))
		st, err = c.Verification(ctx, verification.ID)
		require.NoError(t, err)
		assert.Equal(t, karbor.RestoreStatusFailure, st.Status)

		_, err = c.Restore(ctx, uuid.NewString())
		assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
		assert.Error(t, c.CreateRestore(ctx, restore), "the id is taken")
		assert.ErrorContains(t, c.CreateRestore(ctx, Target{ID: uuid.NewString()}), "needs an id, a project, a provider and a checkpoint")
		tdb.exec(t, `UPDATE restores SET resources_status = ? WHERE id = ?`, "[1]", restore.ID)
		_, err = c.Restore(ctx, restore.ID)
		assert.ErrorContains(t, err, "resources_status is not a dict of strings")
	})
}

func TestOpenClientErrors(t *testing.T) {
	_, err := OpenClient("nosuch://x", DefaultOptions(), logrus.NewEntry(logrus.New()))
	assert.Error(t, err)
	opts := DefaultOptions()
	opts.PoolTimeout = 0
	_, err = OpenClient("sqlite:///x.db", opts, logrus.NewEntry(logrus.New()))
	assert.ErrorContains(t, err, "pool_timeout")
}
