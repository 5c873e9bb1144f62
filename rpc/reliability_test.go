package rpc

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The broker force-closes every connection (as an operator or a broker
// restart would) while calls are running: the server and client come back
// within seconds, later calls all succeed, and no goroutine is left behind.
func TestForcedCloseUnderLoad(t *testing.T) {
	url := rpctest.Vhost(t)
	base := runtime.NumGoroutine()

	srv := startServer(t, url, nil)
	c := dialClient(t, url, nil)
	ctx := context.Background()
	echo := func(i int) error {
		got, err := c.Call(ctx, Target{Topic: testTopic, Timeout: 20 * time.Second}, "echo", map[string]any{"i": i}, karborContext(fmt.Sprint("req-", i)))
		if err == nil && !strings.Contains(string(got), fmt.Sprintf(`"i":%d`, i)) {
			err = fmt.Errorf("wrong result %s", got)
		}
		return err
	}
	require.NoError(t, echo(-1)) // opens the send connections too
	phase := time.Now()
	rpctest.WaitConnections(t, url, 4, 30*time.Second)
	t.Logf("connections listed by the management API after %s", time.Since(phase).Round(time.Millisecond))

	stop := make(chan struct{})
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w * 1_000_000; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := echo(i); err != nil {
					failed.Add(1)
					t.Logf("call during the outage: %v", err)
				} else {
					ok.Add(1)
				}
			}
		})
	}
	require.Eventually(t, func() bool { return ok.Load() > 50 }, 20*time.Second, 10*time.Millisecond)
	closed := rpctest.CloseConnections(t, url)
	require.GreaterOrEqual(t, closed, 4)
	closedAt := time.Now()
	require.Eventually(t, func() bool { return srv.Sessions() >= 2 && srv.Health() == nil }, 15*time.Second, 10*time.Millisecond,
		"server back: %v", srv.Health())
	t.Logf("server consuming again %s after the forced close", time.Since(closedAt).Round(time.Millisecond))
	before := ok.Load()
	require.Eventually(t, func() bool { return ok.Load() > before+50 }, 30*time.Second, 10*time.Millisecond, "load resumes")
	t.Logf("50 more calls done %s after the forced close", time.Since(closedAt).Round(time.Millisecond))
	close(stop)
	wg.Wait()
	t.Logf("%d calls succeeded, %d failed around the forced close", ok.Load(), failed.Load())
	assert.Zero(t, failed.Load(), "no call is lost: requests are re-sent, replies re-delivered")

	for i := range 50 {
		require.NoError(t, echo(i), "every call after recovery succeeds")
	}
	assert.NotEmpty(t, srv.logs.Lines("AMQP session ended; reconnecting"))

	srv.stop()
	c.Close()
	waitGoroutines(t, base, 10*time.Second)
}

// A consumer cancel notification (the queue was deleted) ends the session;
// the server reconnects, re-declares and consumes again. The client does
// the same for its reply queue.
func TestConsumerCancelRedeclares(t *testing.T) {
	url := rpctest.Vhost(t)
	srv := startServer(t, url, nil)
	c := dialClient(t, url, nil)
	call := func() error {
		_, err := c.Call(context.Background(), Target{Topic: testTopic, Timeout: 10 * time.Second}, "ret_str", nil, nil)
		return err
	}
	require.NoError(t, call())

	rpctest.DeleteQueue(t, url, testTopic)
	require.Eventually(t, func() bool { return srv.Sessions() >= 2 && srv.Health() == nil }, 15*time.Second, 10*time.Millisecond)
	assert.NotEmpty(t, srv.logs.Lines("cancelled by the broker"))
	require.NoError(t, call())

	rpctest.DeleteQueue(t, url, c.ReplyQueue())
	require.Eventually(t, func() bool { return c.sessions.Load() >= 2 }, 15*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return call() == nil }, 15*time.Second, 100*time.Millisecond)
}

// Dial and Run keep retrying an unreachable broker until their context ends,
// and leave nothing behind.
func TestUnreachableBroker(t *testing.T) {
	base := runtime.NumGoroutine()
	url := "rabbit://guest:guest@127.0.0.1:1/"
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, ClientConfig{TransportURL: url, Rabbit: fastOptions(), Logger: quietLog()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connection refused")

	s, err := NewServer(ServerConfig{TransportURL: url, Topic: "t", Server: "h", Rabbit: fastOptions(), Logger: quietLog()}, whoamiEndpoint("h", nil))
	require.NoError(t, err)
	rctx, rcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer rcancel()
	require.NoError(t, s.Run(rctx))
	assert.ErrorIs(t, s.Health(), ErrNotConsuming)
	assert.Greater(t, s.Sessions(), int64(1), "retried")
	assert.Error(t, s.Run(context.Background()), "Run runs once")
	waitGoroutines(t, base, 5*time.Second)
}
