package bank_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
)

// configured is what the plugin registered below was opened with.
type configured struct {
	Value  string
	Holder bank.Holder
	Log    *logrus.Entry
}

var lastConfigured configured

func init() {
	bank.RegisterConfigured("karbor-test-configured-bank-plugin",
		func(conf bank.Config) (configured, error) {
			v, ok := conf.Get("test", "value")
			if !ok {
				return configured{}, errors.New("[test] value is not set")
			}
			return configured{Value: v}, nil
		},
		func(ctx context.Context, opts configured, holder bank.Holder, log *logrus.Entry) (*banktest.Plugin, error) {
			if opts.Value == "refuse" {
				return nil, errors.New("refused")
			}
			opts.Holder, opts.Log = holder, log
			lastConfigured = opts
			return &banktest.Plugin{}, nil
		})
}

func TestRegisterConfigured(t *testing.T) {
	const name = "karbor-test-configured-bank-plugin"
	holder := bank.Holder{Host: "node-1", Incarnation: "inc-1"}
	entry := logrus.NewEntry(logrus.New()).WithField("request_id", "req-1")
	ctx := logctx.With(context.Background(), entry)

	p, err := bank.Open(ctx, name, bank.ConfigMap{}, holder)
	require.ErrorContains(t, err, "[test] value is not set")
	assert.Nil(t, p)

	p, err = bank.Open(ctx, name, bank.ConfigMap{"test": {"value": "refuse"}}, holder)
	require.ErrorContains(t, err, "refused")
	assert.Nil(t, p)

	p, err = bank.Open(ctx, name, bank.ConfigMap{"test": {"value": "v"}}, holder)
	require.NoError(t, err)
	assert.IsType(t, &banktest.Plugin{}, p)
	assert.Equal(t, configured{Value: "v", Holder: holder, Log: entry}, lastConfigured)
}

func TestSetLeaseWindows(t *testing.T) {
	tests := []struct {
		name                    string
		expire, renew, validity time.Duration
		want                    [3]time.Duration
		wantErr                 bool
	}{
		{name: "defaults", want: [3]time.Duration{600 * time.Second, 120 * time.Second, 100 * time.Second}},
		{name: "kept", expire: 30 * time.Second, renew: 10 * time.Second, validity: 5 * time.Second,
			want: [3]time.Duration{30 * time.Second, 10 * time.Second, 5 * time.Second}},
		{name: "renew equals expire", expire: 10 * time.Second, renew: 10 * time.Second, wantErr: true},
		{name: "default renew longer than expire", expire: 60 * time.Second, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, r, v := tt.expire, tt.renew, tt.validity
			err := bank.SetLeaseWindows("karbor-x-bank-plugin", "x_bank_plugin", &e, &r, &v)
			if tt.wantErr {
				var ce *bank.ConfigError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, bank.ConfigError{Plugin: "karbor-x-bank-plugin", Section: "x_bank_plugin", Key: "lease_renew_window", Reason: ce.Reason}, *ce)
				assert.Contains(t, ce.Reason, "must be shorter than lease_expire_window")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, [3]time.Duration{e, r, v})
		})
	}
}

func TestValidOwnerID(t *testing.T) {
	for id, want := range map[string]bool{
		"0b3c1d2e-5f6a-4b7c-8d9e-0f1a2b3c4d5e": true,
		"host@1.a_b":                           true,
		"":                                     false,
		".":                                    false,
		"..":                                   false,
		"a/b":                                  false,
		"a b":                                  false,
		"ä":                                    false,
	} {
		assert.Equal(t, want, bank.ValidOwnerID(id), "%q", id)
	}
}

func TestLeaseExpiry(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var e bank.LeaseExpiry
	assert.False(t, e.Valid(now, 0), "never taken")
	e.Set(now.Add(100 * time.Second))
	assert.True(t, e.Valid(now, 100*time.Second), "exactly the validity window left")
	assert.False(t, e.Valid(now.Add(time.Nanosecond), 100*time.Second))
	e.Set(time.Time{})
	assert.False(t, e.Valid(now, 0), "released")
}

func TestLeaseLoopRenewsEveryWindowAndLogsFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger, hook := logtest.NewNullLogger()
		var calls atomic.Int32
		renew := func(ctx context.Context) error {
			if calls.Add(1) == 2 {
				return errors.New("store unreachable")
			}
			return nil
		}
		// The caller's context ends at once: the loop must outlive it.
		ctx, cancel := context.WithCancel(context.Background())
		var l bank.LeaseLoop
		l.Start(ctx, func(ctx context.Context) { bank.RenewEvery(ctx, time.Minute, renew, logrus.NewEntry(logger)) })
		cancel()

		time.Sleep(3*time.Minute + time.Second) // fake time: three ticks
		synctest.Wait()
		assert.Equal(t, int32(3), calls.Load())
		require.Len(t, hook.AllEntries(), 1)
		assert.Equal(t, "bank lease renewal failed", hook.LastEntry().Message)
		assert.Equal(t, logrus.WarnLevel, hook.LastEntry().Level)

		l.Stop() // returns only once the loop has ended
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Equal(t, int32(3), calls.Load(), "no renewal after Stop")
	})
}
