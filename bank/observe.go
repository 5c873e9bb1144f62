package bank

import (
	"context"
	"errors"
	"time"
)

// Observer is told about the requests a bank plugin serves, for metrics.
// Its methods are called concurrently, on the path of every bank request:
// they must be cheap and must not block.
type Observer interface {
	// BankOpened: a plugin instance named plugin (its entry point) is in
	// use; leaseValid reports, whenever asked, whether its lease is valid
	// (Leaser.LeaseValid).
	BankOpened(plugin string, leaseValid func() bool)
	// BankRequest: a request of the plugin returned after took. op is the
	// object operation (get, update, delete, list) or a lease one
	// (lease_acquire, lease_renew, lease_get, lease_list, lease_remove);
	// failed is false for a success and for an object not found, which is
	// an answer, not a failure of the bank.
	BankRequest(plugin, op string, took time.Duration, failed bool)
}

// The lease requests' names (Observer.BankRequest).
const (
	opLeaseAcquire = "lease_acquire"
	opLeaseRenew   = "lease_renew"
	opLeaseGet     = "lease_get"
	opLeaseList    = "lease_list"
	opLeaseRemove  = "lease_remove"
)

// Observed returns p telling o about each of its requests under the name
// plugin. A plugin that is a Locker stays one.
func Observed(p Plugin, plugin string, o Observer) Plugin {
	o.BankOpened(plugin, p.LeaseValid)
	op := &observedPlugin{Plugin: p, name: plugin, obs: o}
	if l, ok := p.(Locker); ok {
		return &observedLocker{observedPlugin: op, locker: l}
	}
	return op
}

type observedPlugin struct {
	Plugin
	name string
	obs  Observer
}

func (p *observedPlugin) done(op string, start time.Time, err error) {
	p.obs.BankRequest(p.name, op, time.Since(start), err != nil && !errors.Is(err, ErrNotFound))
}

func (p *observedPlugin) PutObject(ctx context.Context, key string, obj Object) error {
	start := time.Now()
	err := p.Plugin.PutObject(ctx, key, obj)
	p.done(string(OpUpdate), start, err)
	return err
}

func (p *observedPlugin) GetObject(ctx context.Context, key string) (Object, error) {
	start := time.Now()
	obj, err := p.Plugin.GetObject(ctx, key)
	p.done(string(OpGet), start, err)
	return obj, err
}

func (p *observedPlugin) ListObjects(ctx context.Context, opts ListOptions) ([]string, error) {
	start := time.Now()
	keys, err := p.Plugin.ListObjects(ctx, opts)
	p.done(string(OpList), start, err)
	return keys, err
}

func (p *observedPlugin) DeleteObject(ctx context.Context, key string) error {
	start := time.Now()
	err := p.Plugin.DeleteObject(ctx, key)
	p.done(string(OpDelete), start, err)
	return err
}

func (p *observedPlugin) AcquireLease(ctx context.Context) error {
	start := time.Now()
	err := p.Plugin.AcquireLease(ctx)
	p.done(opLeaseAcquire, start, err)
	return err
}

func (p *observedPlugin) RenewLease(ctx context.Context) error {
	start := time.Now()
	err := p.Plugin.RenewLease(ctx)
	p.done(opLeaseRenew, start, err)
	return err
}

func (p *observedPlugin) Lease(ctx context.Context, ownerID string) (Lease, bool, error) {
	start := time.Now()
	l, ok, err := p.Plugin.Lease(ctx, ownerID)
	p.done(opLeaseGet, start, err)
	return l, ok, err
}

func (p *observedPlugin) Leases(ctx context.Context) ([]Lease, error) {
	start := time.Now()
	ls, err := p.Plugin.Leases(ctx)
	p.done(opLeaseList, start, err)
	return ls, err
}

func (p *observedPlugin) RemoveLease(ctx context.Context, ownerID string) error {
	start := time.Now()
	err := p.Plugin.RemoveLease(ctx, ownerID)
	p.done(opLeaseRemove, start, err)
	return err
}

// observedLocker is an observed plugin that keeps its Locker.
type observedLocker struct {
	*observedPlugin
	locker Locker
}

func (p *observedLocker) Lock(ctx context.Context, key string) (func(), error) {
	return p.locker.Lock(ctx, key)
}
