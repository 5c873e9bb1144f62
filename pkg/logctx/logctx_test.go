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
