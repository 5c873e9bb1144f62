package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/db"
)

func TestServicesEvidence(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	row := func(host string, ago time.Duration) db.ServiceHeartbeat {
		return db.ServiceHeartbeat{Host: host, LastSeen: now.Add(-ago)}
	}
	for _, tc := range []struct {
		name   string
		rows   []db.ServiceHeartbeat
		leased []string
		want   bank.Liveness
		reason string
	}{
		{name: "no row at all", want: bank.OwnerDead,
			reason: "no karbor-protection without a lease of ours has reported within service_down_time 1m0s"},
		{name: "a Python host reports", rows: []db.ServiceHeartbeat{row("go-1", 0), row("python-1", 10*time.Second)}, leased: []string{"go-1"},
			want: bank.OwnerAlive, reason: "karbor-protection without a lease of ours is up (services heartbeat within service_down_time 1m0s) on python-1 (last report 2026-12-05 11:59:50)"},
		{name: "the Python host stopped reporting", rows: []db.ServiceHeartbeat{row("go-1", 0), row("python-1", 61*time.Second)}, leased: []string{"go-1"},
			want: bank.OwnerDead, reason: "no karbor-protection without a lease of ours has reported within service_down_time 1m0s; down: python-1 (last report 2026-12-05 11:58:59)"},
		{name: "a Python host replaced by ours under the same name", rows: []db.ServiceHeartbeat{row("node-1", 0)}, leased: []string{"node-1"},
			want: bank.OwnerDead},
		{name: "our instance without a database row elsewhere is no evidence", rows: []db.ServiceHeartbeat{row("python-2", 5*time.Second)}, leased: []string{"go-1"},
			want: bank.OwnerAlive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := servicesEvidence{
				heartbeats: func(_ context.Context, binary string) ([]db.ServiceHeartbeat, error) {
					assert.Equal(t, "karbor-protection", binary)
					return tc.rows, nil
				},
				binary: "karbor-protection", downTime: time.Minute, now: func() time.Time { return now },
			}
			v, err := e.Unleased(context.Background(), tc.leased)
			require.NoError(t, err)
			assert.Equal(t, tc.want, v.Liveness, v.Reason)
			if tc.reason != "" {
				assert.Equal(t, tc.reason, v.Reason)
			}
		})
	}

	e := servicesEvidence{heartbeats: func(context.Context, string) ([]db.ServiceHeartbeat, error) {
		return nil, db.ErrNoDatabase
	}, binary: "karbor-protection", now: time.Now}
	_, err := e.Unleased(context.Background(), nil)
	assert.True(t, errors.Is(err, db.ErrNoDatabase), "a failure to read is no verdict: %v", err)

	v, err := operatorAssertion{}.Unleased(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, bank.OwnerDead, v.Liveness)
	assert.Contains(t, v.Reason, "recover_unleased_checkpoints")
}
