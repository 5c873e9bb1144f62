package swift

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
)

// Plugin is the Swift bank. It implements bank.Plugin.
type Plugin struct {
	opts Options
	log  *logrus.Entry

	// connMu serialises connecting; c is set once connected.
	connMu sync.Mutex
	c      *conn

	expiry  bank.LeaseExpiry
	renewal bank.LeaseLoop

	closeOnce sync.Once
	closeErr  error
}

var _ bank.Plugin = (*Plugin)(nil)

// New builds the plugin and connects: it authenticates, creates the object
// and lease containers and takes the lease. When that fails for any reason
// but the options, the plugin is still returned: it logs why, keeps trying
// in the background, and each call tries once more before failing with a
// bank.ContainerError (CreateContainerFailed), as the Python plugin's lazy
// connection does.
func New(ctx context.Context, opts Options) (*Plugin, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if opts.OwnerID == "" {
		opts.OwnerID = uuid.NewString()
	}
	p := &Plugin{
		opts: opts,
		log:  opts.Log.WithFields(logrus.Fields{"bank": PluginName, "owner_id": opts.OwnerID}),
	}
	_, err := p.connect(ctx)
	if err != nil {
		p.log.WithError(err).Error("swift bank: cannot connect; retrying in the background")
	}
	p.renewal.Start(ctx, p.leaseLoop)
	return p, nil
}

// OwnerID implements bank.Plugin.
func (p *Plugin) OwnerID() string { return p.opts.OwnerID }

// Ping implements bank.Plugin: a HEAD of the object container (after
// connecting, if the plugin could not connect before).
func (p *Plugin) Ping(ctx context.Context) error {
	c, err := p.conn(ctx)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, request{method: http.MethodHead, path: p.opts.Container, okCodes: []int{200, 204}})
	if err != nil {
		return &bank.ContainerError{Container: p.opts.Container, Err: err}
	}
	drain(resp)
	return nil
}

// connect returns the connection, making it first if needed.
func (p *Plugin) connect(ctx context.Context) (*conn, error) {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	if p.c != nil {
		return p.c, nil
	}
	sess, err := authenticate(ctx, &p.opts)
	if err != nil {
		return nil, &bank.ContainerError{Container: p.opts.Container, Err: err}
	}
	c := &conn{sess: sess, opts: &p.opts, log: p.log}
	for _, name := range []string{p.opts.Container, leasesContainer} {
		if err := c.putContainer(ctx, name); err != nil {
			return nil, &bank.ContainerError{Container: name, Err: err}
		}
	}
	if err := p.putLease(ctx, c); err != nil {
		return nil, &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
	}
	p.c = c
	return c, nil
}

// conn is the connection for a call: made now if the plugin could not
// connect before.
func (p *Plugin) conn(ctx context.Context) (*conn, error) {
	p.connMu.Lock()
	c := p.c
	p.connMu.Unlock()
	if c != nil {
		return c, nil
	}
	return p.connect(ctx)
}

// leaseLoop renews the lease every lease_renew_window (the first renewal
// after one window, as in Python) and, while the plugin is not connected,
// tries to connect with a growing delay capped at that window.
func (p *Plugin) leaseLoop(ctx context.Context) {
	wait := p.opts.RetryBackoff
	for {
		p.connMu.Lock()
		connected := p.c != nil
		p.connMu.Unlock()
		d := p.opts.LeaseRenewWindow
		if !connected {
			d = min(wait, p.opts.LeaseRenewWindow)
			wait = min(2*wait, p.opts.LeaseRenewWindow)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !connected {
			if _, err := p.connect(ctx); err != nil && ctx.Err() == nil {
				p.log.WithError(err).Warn("swift bank: still cannot connect")
			} else if err == nil {
				p.log.Info("swift bank: connected")
			}
			continue
		}
		if err := p.RenewLease(ctx); err != nil && ctx.Err() == nil {
			p.log.WithError(err).Warn("swift bank: lease renewal failed")
		}
	}
}

// Close stops renewing and releases the lease, so this instance's
// unfinished checkpoints are recognised as orphaned at once.
func (p *Plugin) Close() error {
	p.closeOnce.Do(func() {
		p.renewal.Stop()
		p.expiry.Set(time.Time{})
		p.connMu.Lock()
		c := p.c
		p.connMu.Unlock()
		if c == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := c.do(ctx, request{method: http.MethodDelete, path: p.leasePath(p.opts.OwnerID), okCodes: []int{204, 404}})
		if err != nil {
			p.closeErr = &bank.LeaseError{OwnerID: p.opts.OwnerID, Err: err}
			return
		}
		drain(resp)
	})
	return p.closeErr
}
