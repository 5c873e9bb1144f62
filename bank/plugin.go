package bank

import (
	"context"
	"fmt"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/registry"
)

// Object is a value as a bank stores it.
type Object struct {
	Data []byte
	// Serialized says Data is the JSON text of a non-string Python value
	// (swift's X-Object-Meta-Serialized). A backend that does not record it
	// (the file-system bank) reports on read whether Data parses as JSON,
	// which is exactly how the Python FS plugin decides to decode.
	Serialized bool
}

// ListOptions selects keys of a listing.
//
// Keys come back in byte-wise lexical order, ascending or (Desc) descending.
// Marker is exclusive: ascending listings return keys > Marker, descending
// ones keys < Marker. Limit > 0 caps the number of keys; 0 means all.
// With Delimiter, keys having a "/" after Prefix are rolled up into one
// entry ending in "/" (as swift and S3 do with delimiter=/); the roll-ups
// sort, page and honour Marker like keys.
type ListOptions struct {
	Prefix    string
	Marker    string
	Limit     int
	Desc      bool
	Delimiter bool
}

// Plugin is a bank backend. Keys a Plugin receives have been validated and
// normalised by Bank: they start with "/", hold only [A-Za-z0-9/_.\-@], have
// no empty, "." or ".." parts and (for objects) no trailing slash. A Plugin
// must still refuse anything else before it touches storage.
//
// Errors: a missing object wraps ErrNotFound; Bank wraps every other plugin
// error into an ObjectError.
type Plugin interface {
	PutObject(ctx context.Context, key string, obj Object) error
	GetObject(ctx context.Context, key string) (Object, error)
	// ListObjects returns full keys (or roll-ups), see ListOptions.
	ListObjects(ctx context.Context, opts ListOptions) ([]string, error)
	DeleteObject(ctx context.Context, key string) error

	// Ping checks, as cheaply as the storage allows and changing nothing,
	// that the bank can be reached now: the file-system bank's folder is
	// still there and still the one opened, Swift's container and S3's
	// bucket answer. The service's readiness probe calls it.
	Ping(ctx context.Context) error

	// OwnerID is this plugin instance's owner id, a random UUID made at
	// construction; checkpoints record it in owner_id.
	OwnerID() string

	Leaser

	// Close stops the lease renewal, releases the lease and frees
	// resources. Releasing makes the lease expired at once: the file-system
	// bank stores it with ExpiresAt = now, so that its Holder stays known
	// until recovery removes it; a store that deletes expired leases by
	// itself may delete it. It is safe to call more than once.
	Close() error
}

// Leaser is the lease part of a plugin: one lease per plugin instance (per
// owner id), renewed while the instance lives. The plugin stores leases and
// reads them back; what a lease says about an owner's liveness is decided
// above it, by Checkpoints (see Liveness).
type Leaser interface {
	// AcquireLease stores (or re-stores) this owner's lease, recording the
	// plugin's Holder and an expiry lease_expire_window from now. Failures
	// are LeaseErrors.
	AcquireLease(ctx context.Context) error
	// RenewLease extends this owner's lease by lease_expire_window.
	RenewLease(ctx context.Context) error
	// LeaseValid is Python's check_lease_validity: the own lease still has
	// at least lease_validity_window to run.
	LeaseValid() bool
	// Lease reads ownerID's stored lease; ok is false when the bank holds
	// none (never had one, removed, or deleted by the store on expiry). A
	// stored lease is returned even when expired. An owner id that cannot
	// name a lease is simply not found.
	Lease(ctx context.Context, ownerID string) (l Lease, ok bool, err error)
	// Leases lists every stored lease, expired ones included, in any order.
	Leases(ctx context.Context) ([]Lease, error)
	// RemoveLease deletes ownerID's stored lease; a missing one is not an
	// error. Callers remove only leases of owners they judged dead (after
	// recovering their checkpoints), never their own.
	RemoveLease(ctx context.Context, ownerID string) error
	// WritersHoldLeases reports whether every writer of this kind of bank,
	// the Python service included, holds a lease while it works (swift,
	// S3: Python's plugins take one before their first write), so that an
	// owner without a stored lease is dead. False for the file-system bank,
	// whose Python plugin takes none: there an owner without a lease may be
	// a live Python instance.
	WritersHoldLeases() bool
}

// Holder says which service process holds a lease. The program makes one
// for the process and every bank plugin it opens records it in its lease.
type Holder struct {
	// Host is the service's [DEFAULT] host (also its services row's host).
	Host string
	// Incarnation is a random id made once per process start and shared by
	// every plugin of that process. A lease recording this process's Host
	// with another Incarnation was left by a previous run of this instance,
	// which is therefore dead whatever the lease's expiry says.
	Incarnation string
}

// Supersedes reports whether l was left by a previous run of the process
// h describes: same Host, another Incarnation. Such an owner is dead even
// if its lease has not expired (it was killed and this is its restart).
// Leases without a Host (the Python service's) are never superseded.
func (h Holder) Supersedes(l Lease) bool {
	return h.Host != "" && h.Incarnation != "" && l.Holder.Host == h.Host && l.Holder.Incarnation != h.Incarnation
}

// Lease is one owner's lease as the bank stores it.
type Lease struct {
	OwnerID string
	// Holder is zero for leases the Python service wrote (swift, S3),
	// which record neither.
	Holder Holder
	// ExpiresAt is when the lease runs out unless renewed.
	ExpiresAt time.Time
}

// Expired reports whether the lease has run out at now.
func (l Lease) Expired(now time.Time) bool { return !l.ExpiresAt.After(now) }

// Locker is implemented by plugins that can serialise writers of one key
// across processes sharing the storage. Checkpoint updates (read, modify,
// write index.json) run under it, so two service instances never lose each
// other's changes. Without it, updates are serialised within the process
// only.
type Locker interface {
	// Lock blocks until the caller holds the lock for key or ctx ends.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Config is a provider's configuration as bank plugins read it: the
// provider INI file with oslo.config semantics (the provider package owns
// the parsing).
type Config interface {
	Get(section, key string) (value string, ok bool)
}

// ConfigMap is a Config held in memory, section → key → value.
type ConfigMap map[string]map[string]string

// Get implements Config.
func (m ConfigMap) Get(section, key string) (string, bool) {
	v, ok := m[section][key]
	return v, ok
}

// Factory builds a plugin from its provider's configuration; construction
// may create storage (directories, containers) and take the lease, which
// records holder.
type Factory func(ctx context.Context, conf Config, holder Holder) (Plugin, error)

var factories = registry.New[Factory]("bank", "bank plugin")

// Register makes a bank plugin available under name, the entry-point name
// provider files use (e.g. "karbor-fs-bank-plugin"). It panics on an empty
// name, a nil factory or a duplicate, all programmer errors.
func Register(name string, factory Factory) { factories.Register(name, factory) }

// Plugins returns the registered plugin names, sorted.
func Plugins() []string { return factories.Names() }

// Open builds the plugin registered as name, its lease held by holder.
func Open(ctx context.Context, name string, conf Config, holder Holder) (Plugin, error) {
	factory, ok := factories.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("bank: %w", factories.Unknown(name))
	}
	p, err := factory(ctx, conf, holder)
	if err != nil {
		return nil, fmt.Errorf("bank: load plugin %q: %w", name, err)
	}
	return p, nil
}
