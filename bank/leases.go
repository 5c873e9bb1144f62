package bank

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
)

// Default lease windows (lease_expire_window, lease_renew_window,
// lease_validity_window), those of every Python bank plugin.
const (
	DefaultLeaseExpireWindow   = 600 * time.Second
	DefaultLeaseRenewWindow    = 120 * time.Second
	DefaultLeaseValidityWindow = 100 * time.Second
)

// RegisterConfigured registers a plugin built from its provider-file
// options: fromConfig reads them, and open builds the plugin from them with
// the service's Holder and the logger the opening context carries.
func RegisterConfigured[O any, P Plugin](name string, fromConfig func(Config) (O, error),
	open func(ctx context.Context, opts O, holder Holder, log *logrus.Entry) (P, error)) {
	Register(name, func(ctx context.Context, conf Config, holder Holder) (Plugin, error) {
		opts, err := fromConfig(conf)
		if err != nil {
			return nil, err
		}
		p, err := open(ctx, opts, holder, logctx.From(ctx))
		if err != nil {
			return nil, err // a nil Plugin, not a nil *P in an interface
		}
		return p, nil
	})
}

// SetLeaseWindows fills the lease windows left zero with the defaults and
// refuses a renew window not shorter than the expire window, as the lease
// would lapse between renewals. plugin and section name the options in
// the ConfigError.
func SetLeaseWindows(plugin, section string, expire, renew, validity *time.Duration) error {
	for _, w := range []struct {
		v   *time.Duration
		def time.Duration
	}{{expire, DefaultLeaseExpireWindow}, {renew, DefaultLeaseRenewWindow}, {validity, DefaultLeaseValidityWindow}} {
		if *w.v == 0 {
			*w.v = w.def
		}
	}
	if *renew >= *expire {
		return &ConfigError{Plugin: plugin, Section: section, Key: "lease_renew_window",
			Reason: fmt.Sprintf("%v must be shorter than lease_expire_window %v, or the lease lapses between renewals", *renew, *expire)}
	}
	return nil
}

// ValidOwnerID reports whether an owner id can name a lease: the last part
// of a path or object name under the bank's lease directory or bucket, so
// key characters without "/", and not only dots.
func ValidOwnerID(id string) bool {
	return id != "" && ValidKeyChars(id) && !strings.Contains(id, "/") && strings.Trim(id, ".") != ""
}

// LeaseExpiry is when a plugin's own lease runs out, as the plugin last
// stored it; safe for concurrent use. The zero value, a lease not taken or
// released, is never valid.
type LeaseExpiry struct {
	mu sync.Mutex
	at time.Time
}

// Set records the expiry of the lease just stored; the zero time releases.
func (e *LeaseExpiry) Set(at time.Time) {
	e.mu.Lock()
	e.at = at
	e.mu.Unlock()
}

// Valid is Python's check_lease_validity: at now, at least validity of the
// lease is left.
func (e *LeaseExpiry) Valid(now time.Time, validity time.Duration) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.at.Sub(now) >= validity
}

// LeaseLoop owns a plugin's background lease goroutine. Start runs it
// detached from the cancellation of the caller's context (the plugin
// outlives the context that opened it) but with its values; Stop ends it
// and waits for it.
type LeaseLoop struct {
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// Start runs loop in a goroutine until Stop.
func (l *LeaseLoop) Start(ctx context.Context, loop func(ctx context.Context)) {
	ctx, l.stop = context.WithCancel(context.WithoutCancel(ctx))
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		loop(ctx)
	}()
}

// Stop cancels the loop and waits until it has returned.
func (l *LeaseLoop) Stop() {
	l.stop()
	l.wg.Wait()
}

// RenewEvery calls renew every window until ctx ends. A failure is logged
// and retried at the next tick; writes check LeaseValid, so a lease that
// could not be renewed for too long stops them.
func RenewEvery(ctx context.Context, window time.Duration, renew func(context.Context) error, log *logrus.Entry) {
	t := time.NewTicker(window)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := renew(ctx); err != nil && ctx.Err() == nil {
				log.WithError(err).Warn("bank lease renewal failed")
			}
		}
	}
}
