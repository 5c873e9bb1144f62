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
	lazy := NewLazy(func() *logrus.Entry {
		builds++
		return logrus.NewEntry(l).WithField("request_id", "req-2")
	})
	ctx := WithLazy(context.Background(), lazy)
	assert.Zero(t, builds, "not built before it is used")

	From(ctx).Info("first")
	WithFields(ctx, logrus.Fields{"checkpoint_id": "cp-2"}).Value(key{}).(*logrus.Entry).Info("second")
	assert.Same(t, From(ctx), lazy.Entry())
	assert.Equal(t, 1, builds)
	assert.Contains(t, buf.String(), `msg=first request_id=req-2`)
	assert.Contains(t, buf.String(), `msg=second checkpoint_id=cp-2 request_id=req-2`)
}

func TestLazyEntryBuildingNilFallsBack(t *testing.T) {
	ctx := WithLazy(context.Background(), NewLazy(func() *logrus.Entry { return nil }))
	assert.Same(t, logrus.StandardLogger(), From(ctx).Logger)
}
