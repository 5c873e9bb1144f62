// Package logctx carries a logrus entry in a context.Context, so that every
// line logged while serving a request names that request (request_id and
// whatever fields the layers above added) without threading a logger through
// every signature.
package logctx

import (
	"context"
	"sync"

	"github.com/sirupsen/logrus"
)

type key struct{}

// With returns a copy of ctx that carries entry.
func With(ctx context.Context, entry *logrus.Entry) context.Context {
	return context.WithValue(ctx, key{}, entry)
}

// Lazy is a context whose entry is built the first time From asks for it.
// A request's entry carries fields (request id, user identity...) that cost
// a few maps and strings to assemble; most requests never log a line, so
// they never pay. Being the context itself, it costs a request one
// allocation where an entry holder inside context.WithValue cost two.
type Lazy struct {
	context.Context
	once  sync.Once
	build func() *logrus.Entry
	entry *logrus.Entry
}

// WithLazy returns a copy of ctx whose entry build makes on first use.
func WithLazy(ctx context.Context, build func() *logrus.Entry) *Lazy {
	return &Lazy{Context: ctx, build: build}
}

// Value answers From's key with l; every other key is the parent's.
func (l *Lazy) Value(k any) any {
	if _, ok := k.(key); ok {
		return l
	}
	return l.Context.Value(k)
}

// Entry builds the entry once and returns it.
func (l *Lazy) Entry() *logrus.Entry {
	l.once.Do(func() { l.entry = l.build() })
	return l.entry
}

// From returns the entry carried by ctx. A context without one gets an entry
// on the standard logger, so callers never need a nil check; cmd/ configures
// that logger's output and level.
func From(ctx context.Context) *logrus.Entry {
	switch e := ctx.Value(key{}).(type) {
	case *logrus.Entry:
		if e != nil {
			return e
		}
	case *Lazy:
		if e != nil {
			if entry := e.Entry(); entry != nil {
				return entry
			}
		}
	}
	return logrus.NewEntry(logrus.StandardLogger())
}

// WithFields returns a copy of ctx whose entry carries the extra fields.
func WithFields(ctx context.Context, fields logrus.Fields) context.Context {
	return With(ctx, From(ctx).WithFields(fields))
}
