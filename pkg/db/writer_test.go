package db

import (
	"context"
	"errors"
	"io"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testWriter(t *testing.T, cfg writerConfig) (*writer, *logtest.Hook) {
	t.Helper()
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	if cfg.queueSize == 0 {
		cfg.queueSize = 4
	}
	if cfg.attemptTimeout == 0 {
		cfg.attemptTimeout = time.Second
	}
	if cfg.drainTimeout == 0 {
		cfg.drainTimeout = time.Second
	}
	if cfg.enqueueTimeout == 0 {
		cfg.enqueueTimeout = 10 * time.Millisecond
	}
	w := newWriter(cfg, &health{log: logrus.NewEntry(logger)}, &writeCounts{dropped: map[string]int{}})
	return w, hook
}

// writeCounts is an Observer that counts.
type writeCounts struct {
	mu      sync.Mutex
	retried int
	dropped map[string]int
}

func (c *writeCounts) WriteRetried() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.retried++
}

func (c *writeCounts) WriteDropped(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped[reason]++
}

// counts returns what w's observer was told.
func counts(w *writer) (retried int, dropped map[string]int) {
	c := w.obs.(*writeCounts)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.retried, maps.Clone(c.dropped)
}

// runWriter runs w until the returned stop is called (or the test ends).
func runWriter(t *testing.T, w *writer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func logged(hook *logtest.Hook, msg string) int {
	n := 0
	for _, e := range hook.AllEntries() {
		if e.Message == msg {
			n++
		}
	}
	return n
}

func TestWriterKeepsOrderAndRetries(t *testing.T) {
	w, hook := testWriter(t, writerConfig{maxRetries: -1, retryInterval: time.Millisecond})
	runWriter(t, w)
	var mu sync.Mutex
	var order []string
	failures := 3
	done := make(chan struct{})
	enq := func(name string, fail bool) {
		require.NoError(t, w.enqueue(job{what: name, log: logrus.NewEntry(hookLogger(hook)), run: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if fail && failures > 0 {
				failures--
				return errors.New("connection refused")
			}
			order = append(order, name)
			if name == "c" {
				close(done)
			}
			return nil
		}}))
	}
	enq("a", true)
	enq("b", false)
	enq("c", false)
	<-done
	assert.Equal(t, []string{"a", "b", "c"}, order, "b waits for a's retries")
	assert.Equal(t, 1, logged(hook, "karbor database unreachable; retrying"))
	assert.Equal(t, 1, logged(hook, "karbor database connection recovered"))
	retried, dropped := counts(w)
	assert.Equal(t, 3, retried)
	assert.Empty(t, dropped)
}

func TestWriterDropsAfterMaxRetries(t *testing.T) {
	w, hook := testWriter(t, writerConfig{maxRetries: 2, retryInterval: time.Millisecond})
	var attempts atomic.Int32
	w.do(context.Background(), job{what: "w", log: logrus.NewEntry(hookLogger(hook)), run: func(context.Context) error {
		attempts.Add(1)
		return errors.New("connection refused")
	}}, false)
	assert.Equal(t, int32(3), attempts.Load(), "one attempt and max_retries retries")
	assert.Equal(t, 1, logged(hook, "database write dropped after 3 attempts: w"))
	retried, dropped := counts(w)
	assert.Equal(t, 2, retried)
	assert.Equal(t, map[string]int{DropRetries: 1}, dropped)
}

func hookLogger(hook *logtest.Hook) *logrus.Logger {
	l := logrus.New()
	l.Out = io.Discard
	l.AddHook(hook)
	l.SetLevel(logrus.DebugLevel)
	return l
}

func TestWriterDoesNotRetryRefusedValues(t *testing.T) {
	w, hook := testWriter(t, writerConfig{maxRetries: -1, retryInterval: time.Millisecond})
	var attempts atomic.Int32
	w.do(context.Background(), job{what: "w", log: logrus.NewEntry(hookLogger(hook)), run: func(context.Context) error {
		attempts.Add(1)
		return &mysql.MySQLError{Number: 1406, Message: "Data too long for column"}
	}}, false)
	assert.Equal(t, int32(1), attempts.Load())
	assert.Equal(t, 1, logged(hook, "database write dropped, the database refused it: w"))
	assert.False(t, w.health.isDown(), "the database answered")
	_, dropped := counts(w)
	assert.Equal(t, map[string]int{DropRefused: 1}, dropped)
}

func TestWriterFullQueue(t *testing.T) {
	w, hook := testWriter(t, writerConfig{queueSize: 1, maxRetries: -1})
	log := logrus.NewEntry(hookLogger(hook))
	noop := func(context.Context) error { return nil }
	require.NoError(t, w.enqueue(job{what: "first", log: log, run: noop}))
	assert.ErrorIs(t, w.enqueue(job{what: "second", log: log, run: noop}), ErrBusy, "nobody runs the queue")
	assert.Equal(t, 1, logged(hook, "database write dropped after waiting 10ms for room in the queue: second"))
	_, dropped := counts(w)
	assert.Equal(t, map[string]int{DropQueueFull: 1}, dropped)
}

// Writes still queued when Run's context ends are written before Run
// returns; later ones are refused.
func TestWriterDrainsAtStop(t *testing.T) {
	w, hook := testWriter(t, writerConfig{queueSize: 8, maxRetries: -1, retryInterval: time.Millisecond})
	log := logrus.NewEntry(hookLogger(hook))
	release := make(chan struct{})
	started := make(chan struct{})
	var ran atomic.Int32
	require.NoError(t, w.enqueue(job{what: "slow", log: log, run: func(ctx context.Context) error {
		close(started)
		<-release
		ran.Add(1)
		return nil
	}}))
	for range 3 {
		require.NoError(t, w.enqueue(job{what: "queued", log: log, run: func(context.Context) error { ran.Add(1); return nil }}))
	}
	stop := runWriter(t, w)
	<-started
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	close(release)
	<-stopped
	assert.Equal(t, int32(4), ran.Load())
	assert.ErrorIs(t, w.enqueue(job{what: "late", log: log, run: func(context.Context) error { return nil }}), ErrClosed)
	_, dropped := counts(w)
	assert.Equal(t, map[string]int{DropClosed: 1}, dropped)
}

// A write that cannot be done within the drain time is dropped with a log
// line; Run does not hang.
func TestWriterDrainGivesUp(t *testing.T) {
	w, hook := testWriter(t, writerConfig{maxRetries: -1, retryInterval: time.Millisecond, drainTimeout: 50 * time.Millisecond})
	log := logrus.NewEntry(hookLogger(hook))
	require.NoError(t, w.enqueue(job{what: "doomed", log: log, run: func(context.Context) error {
		return errors.New("connection refused")
	}}))
	stop := runWriter(t, w)
	waitFor(t, "the outage", w.health.isDown)
	stop()
	assert.Equal(t, 1, logged(hook, "database write dropped at shutdown: doomed"))
	_, dropped := counts(w)
	assert.Equal(t, map[string]int{DropShutdown: 1}, dropped)
}
