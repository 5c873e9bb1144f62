package cinder

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
)

// The plugins' entry-point names (karbor.protections).
const (
	BackupPluginName   = "karbor-volume-protection-plugin"
	SnapshotPluginName = "karbor-volume-snapshot-plugin"
)

// The provider-file groups of the plugins' options.
const (
	backupGroup   = "cinder_backup_protection_plugin"
	snapshotGroup = "volume_snapshot_plugin"
)

// defaultPollInterval is poll_interval's default, in seconds.
const defaultPollInterval = 15

// cleanupTimeout bounds the removal of what a failed hook made, which runs
// even when the hook's context has ended; stoppingCleanupTimeout, when it
// has (a stopping service waits for it).
const (
	cleanupTimeout         = 2 * time.Minute
	stoppingCleanupTimeout = 30 * time.Second
)

// The plugins' schemas, as karbor's volume_plugin_cinder_schemas.py and
// volume_snapshot_plugin_schemas.py define them (json.dumps order).
var (
	//go:embed schemas/backup_options.json
	backupOptions json.RawMessage
	//go:embed schemas/backup_restore.json
	backupRestore json.RawMessage
	//go:embed schemas/backup_saved_info.json
	backupSavedInfo json.RawMessage
	//go:embed schemas/snapshot_options.json
	snapshotOptions json.RawMessage
	//go:embed schemas/snapshot_restore.json
	snapshotRestore json.RawMessage
	//go:embed schemas/snapshot_saved_info.json
	snapshotSavedInfo json.RawMessage
)

func init() {
	providers.Register(BackupPluginName, func(_ context.Context, conf, service *config.Config) (providers.ProtectionPlugin, error) {
		return NewBackupPlugin(conf, service)
	})
	providers.Register(SnapshotPluginName, func(_ context.Context, conf, service *config.Config) (providers.ProtectionPlugin, error) {
		return NewSnapshotPlugin(conf, service)
	})
}

// clientFunc makes a Cinder client acting as the caller of rc.
type clientFunc func(ctx context.Context, rc *karbor.RequestContext) (*gophercloud.ServiceClient, error)

// base is what both plugins share: the poll interval and the client maker.
type base struct {
	interval time.Duration
	client   clientFunc
}

// newBase reads poll_interval from the provider file's group and builds
// the Cinder clients from karbor.conf.
func newBase(conf, service *config.Config, group string) (base, error) {
	secs := defaultPollInterval
	if conf != nil {
		var err error
		if secs, err = conf.Int(group, "poll_interval", defaultPollInterval); err != nil {
			return base{}, fmt.Errorf("[%s] poll_interval: %w", group, err)
		}
	}
	if secs < 0 {
		return base{}, fmt.Errorf("[%s] poll_interval: %d is negative", group, secs)
	}
	opts, err := clients.OptionsFrom(service)
	if err != nil {
		return base{}, err
	}
	f, err := clients.New(opts)
	if err != nil {
		return base{}, err
	}
	return base{
		interval: time.Duration(secs) * time.Second,
		client: func(ctx context.Context, rc *karbor.RequestContext) (*gophercloud.ServiceClient, error) {
			return f.Client(ctx, rc, clients.Cinder)
		},
	}, nil
}

// ResourceTypes is OS::Cinder::Volume.
func (base) ResourceTypes() []string { return []string{karbor.VolumeResourceType} }

// parseBool reads a boolean parameter: the Python side passes str() of the
// JSON value ("True", "False"), the API may pass JSON text ("true").
func parseBool(params map[string]string, name string) (bool, error) {
	v, ok := params[name]
	if !ok || v == "" {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true", "1":
		return true, nil
	case "false", "0", "none":
		return false, nil
	}
	return false, fmt.Errorf("parameter %s: %q is not a boolean", name, v)
}

// notFound tells a Cinder 404.
func notFound(err error) bool { return gophercloud.ResponseCodeIs(err, 404) }

// cleanup runs f to remove what a failed hook made, with a context that
// outlives the hook's (a cancelled operation still cleans up) but is
// bounded; a failure is only logged.
func cleanup(ctx context.Context, what string, f func(ctx context.Context) error) {
	bound := cleanupTimeout
	if ctx.Err() != nil {
		bound = stoppingCleanupTimeout
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	if err := f(cctx); err != nil {
		logctx.From(ctx).WithError(err).Warnf("Failed cleaning up %s", what)
	}
}

// creating is the context of a request that makes something in Cinder: it
// is not cut short by the end of ctx (only by the client's timeout), so
// that the id of what was made is always known and it can be removed.
func creating(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// reason is an error's text for a karbor exception's reason.
func reason(err error) string {
	var te *clients.TokenError
	if errors.As(err, &te) {
		return te.Error()
	}
	return err.Error()
}

// result builds a resource's restore or verification result.
func result(id, status, why string) karbor.ResourceResult {
	r := karbor.ResourceResult{Type: karbor.VolumeResourceType, ID: id, Status: status}
	if why != "" {
		r.Reason = &why
	}
	return r
}
