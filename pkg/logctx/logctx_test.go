package logctx

import (
	"bytes"
	"context"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
)

func TestFieldsFlowThroughContext(t *testing.T) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})

	ctx := With(context.Background(), logrus.NewEntry(l).WithField("request_id", "req-1"))
	ctx = WithFields(ctx, logrus.Fields{"checkpoint_id": "cp-1"})
	From(ctx).Info("hello")

	assert.Contains(t, buf.String(), "request_id=req-1")
	assert.Contains(t, buf.String(), "checkpoint_id=cp-1")
}

func TestFromWithoutEntryFallsBack(t *testing.T) {
	assert.Same(t, logrus.StandardLogger(), From(context.Background()).Logger)
}

func TestLazyEntryIsBuiltOnceOnFirstUse(t *testing.T) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
	builds := 0
	lazy := WithLazy(context.Background(), func() *logrus.Entry {
		builds++
		return logrus.NewEntry(l).WithField("request_id", "req-2")
	})
	var ctx context.Context = lazy
	assert.Zero(t, builds, "not built before it is used")

	From(ctx).Info("first")
	WithFields(ctx, logrus.Fields{"checkpoint_id": "cp-2"}).Value(key{}).(*logrus.Entry).Info("second")
	assert.Same(t, From(ctx), lazy.Entry())
	assert.Equal(t, 1, builds)
	assert.Contains(t, buf.String(), `msg=first request_id=req-2`)
	assert.Contains(t, buf.String(), `msg=second checkpoint_id=cp-2 request_id=req-2`)
}

func TestLazyEntryBuildingNilFallsBack(t *testing.T) {
	ctx := WithLazy(context.Background(), func() *logrus.Entry { return nil })
	assert.Same(t, logrus.StandardLogger(), From(ctx).Logger)
}

// TestLazyIsItsParent: a Lazy context answers the parent's values and
// cancellation, and contexts derived from it follow the parent's
// cancellation.
func TestLazyIsItsParent(t *testing.T) {
	type other struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), other{}, "kept"))
	lazy := WithLazy(parent, func() *logrus.Entry { return nil })
	child, stop := context.WithCancel(lazy)
	defer stop()

	assert.Equal(t, "kept", child.Value(other{}))
	assert.Same(t, lazy, child.Value(key{}))
	assert.NoError(t, child.Err())
	cancel()
	<-child.Done()
	assert.ErrorIs(t, child.Err(), context.Canceled)
	assert.ErrorIs(t, lazy.Err(), context.Canceled)
}
