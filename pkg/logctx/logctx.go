// Package logctx carries a logrus entry in a context.Context, so that every
// line logged while serving a request names that request (request_id and
// whatever fields the layers above added) without threading a logger through
// every signature.
package logctx

import (
	"context"

	"github.com/sirupsen/logrus"
)

type key struct{}

// With returns a copy of ctx that carries entry.
func With(ctx context.Context, entry *logrus.Entry) context.Context {
	return context.WithValue(ctx, key{}, entry)
}

// From returns the entry carried by ctx. A context without one gets an entry
// on the standard logger, so callers never need a nil check; cmd/ configures
// that logger's output and level.
func From(ctx context.Context) *logrus.Entry {
	if e, ok := ctx.Value(key{}).(*logrus.Entry); ok && e != nil {
		return e
	}
	return logrus.NewEntry(logrus.StandardLogger())
}

// WithFields returns a copy of ctx whose entry carries the extra fields.
func WithFields(ctx context.Context, fields logrus.Fields) context.Context {
	return With(ctx, From(ctx).WithFields(fields))
}
