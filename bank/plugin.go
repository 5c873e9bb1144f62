package bank

import (
	"context"
	"fmt"

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

	// OwnerID is this plugin instance's owner id, a random UUID made at
	// construction; checkpoints record it in owner_id.
	OwnerID() string

	Leaser

	// Close stops the lease renewal, releases the lease and frees
	// resources. It is safe to call more than once.
	Close() error
}

// Leaser is the lease part of a plugin: one lease per plugin instance (per
// owner id), renewed while the instance lives. A checkpoint whose owner's
// lease is missing or expired belongs to an instance that died.
type Leaser interface {
	// AcquireLease takes (or re-takes) this owner's lease for
	// lease_expire_window. Failures are LeaseErrors.
	AcquireLease(ctx context.Context) error
	// RenewLease extends this owner's lease by lease_expire_window.
	RenewLease(ctx context.Context) error
	// LeaseValid is Python's check_lease_validity: the own lease still has
	// at least lease_validity_window to run.
	LeaseValid() bool
	// OwnerAlive reports whether ownerID holds an unexpired lease.
	OwnerAlive(ctx context.Context, ownerID string) (bool, error)
}

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
// may create storage (directories, containers) and take the lease.
type Factory func(ctx context.Context, conf Config) (Plugin, error)

var factories = registry.New[Factory]("bank", "bank plugin")

// Register makes a bank plugin available under name, the entry-point name
// provider files use (e.g. "karbor-fs-bank-plugin"). It panics on an empty
// name, a nil factory or a duplicate, all programmer errors.
func Register(name string, factory Factory) { factories.Register(name, factory) }

// Plugins returns the registered plugin names, sorted.
func Plugins() []string { return factories.Names() }

// Open builds the plugin registered as name.
func Open(ctx context.Context, name string, conf Config) (Plugin, error) {
	factory, ok := factories.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("bank: %w", factories.Unknown(name))
	}
	p, err := factory(ctx, conf)
	if err != nil {
		return nil, fmt.Errorf("bank: load plugin %q: %w", name, err)
	}
	return p, nil
}
