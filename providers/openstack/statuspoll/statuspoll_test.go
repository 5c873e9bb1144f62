package statuspoll

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWait(t *testing.T) {
	rule := Rule{Success: []string{"available"}, Failure: []string{"error", NotFound}, Ignore: []string{"creating"}}
	lenient := rule
	lenient.IgnoreUnexpected = true
	cases := []struct {
		name     string
		rule     Rule
		seen     []string
		want     string
		ok       bool
		polls    int
		elapsed  time.Duration
		failRead bool
	}{
		{name: "success after waiting", rule: rule, seen: []string{"creating", "creating", "available"}, want: "available", ok: true, polls: 3, elapsed: 3 * time.Second},
		{name: "failure", rule: rule, seen: []string{"creating", "error"}, want: "error", polls: 2, elapsed: 2 * time.Second},
		{name: "gone", rule: rule, seen: []string{NotFound}, want: NotFound, polls: 1, elapsed: time.Second},
		{name: "unexpected stops", rule: rule, seen: []string{"backing-up"}, want: "backing-up", polls: 1, elapsed: time.Second},
		{name: "unexpected ignored", rule: lenient, seen: []string{"backing-up", "available"}, want: "available", ok: true, polls: 2, elapsed: 2 * time.Second},
		{name: "read error", rule: rule, seen: []string{"creating"}, failRead: true, polls: 2, elapsed: 2 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				polls := 0
				start := time.Now()
				status, ok, err := Wait(t.Context(), time.Second, c.rule, func(context.Context) (string, error) {
					polls++
					if polls > len(c.seen) {
						if c.failRead {
							return "", errors.New("read failed")
						}
						t.Fatal("polled after the rule said stop")
					}
					return c.seen[polls-1], nil
				})
				if c.failRead {
					require.EqualError(t, err, "read failed")
				} else {
					require.NoError(t, err)
				}
				assert.Equal(t, c.want, status)
				assert.Equal(t, c.ok, ok)
				assert.Equal(t, c.polls, polls)
				assert.Equal(t, c.elapsed, time.Since(start), "one interval before each read")
			})
		})
	}
}

// TestWaitEndsWithContext: a stopping service never waits out an interval.
func TestWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		stop := errors.New("service stopping")
		time.AfterFunc(90*time.Second, func() { cancel(stop) })
		start := time.Now()
		_, ok, err := Wait(ctx, time.Minute, Rule{Ignore: []string{"creating"}}, func(context.Context) (string, error) { return "creating", nil })
		require.ErrorIs(t, err, stop)
		assert.False(t, ok)
		assert.Equal(t, 90*time.Second, time.Since(start))
	})
}
