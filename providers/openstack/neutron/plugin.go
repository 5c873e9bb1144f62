package neutron

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
)

// PluginName is the entry-point name provider files use.
const PluginName = "karbor-network-protection-plugin"

// optionGroup is the provider file's section of the plugin's options.
const optionGroup = "neutron_backup_protection_plugin"

// defaultPollInterval is poll_interval's default, in seconds.
const defaultPollInterval = 15

// cleanupTimeout bounds the removal of what a failed restore made and the
// bank write recording a failure, which run even when the hook's context
// has ended; stoppingCleanupTimeout, when it has (a stopping service waits
// for it).
const (
	cleanupTimeout         = 2 * time.Minute
	stoppingCleanupTimeout = 30 * time.Second
)

// The Python plugin's schemas (network_plugin_schemas.py), as json.dumps
// writes them.
var (
	//go:embed schemas/options.json
	optionsSchema json.RawMessage
	//go:embed schemas/restore.json
	restoreSchema json.RawMessage
	//go:embed schemas/saved_info.json
	savedInfoSchema json.RawMessage
)

func init() {
	providers.Register(PluginName, func(_ context.Context, conf, service *config.Config) (providers.ProtectionPlugin, error) {
		return New(conf, service)
	})
}

// clientFunc makes a Neutron client acting as the caller of rc.
type clientFunc func(ctx context.Context, rc *karbor.RequestContext) (*gophercloud.ServiceClient, error)

// Plugin is the Neutron network protection plugin.
type Plugin struct {
	interval time.Duration
	client   clientFunc
}

// New reads poll_interval from the provider file's
// [neutron_backup_protection_plugin] (conf; nil: the default, 15 s) and
// builds the Neutron clients from karbor.conf (service).
func New(conf, service *config.Config) (*Plugin, error) {
	secs := defaultPollInterval
	if conf != nil {
		var err error
		if secs, err = conf.Int(optionGroup, "poll_interval", defaultPollInterval); err != nil {
			return nil, fmt.Errorf("[%s] poll_interval: %w", optionGroup, err)
		}
	}
	if secs < 0 {
		return nil, fmt.Errorf("[%s] poll_interval: %d is negative", optionGroup, secs)
	}
	opts, err := clients.OptionsFrom(service)
	if err != nil {
		return nil, err
	}
	f, err := clients.New(opts)
	if err != nil {
		return nil, err
	}
	return &Plugin{
		interval: time.Duration(secs) * time.Second,
		client: func(ctx context.Context, rc *karbor.RequestContext) (*gophercloud.ServiceClient, error) {
			return f.Client(ctx, rc, clients.Neutron)
		},
	}, nil
}

// ResourceTypes is OS::Neutron::Network.
func (*Plugin) ResourceTypes() []string { return []string{karbor.NetworkResourceType} }

// Schemas are the Python plugin's.
func (*Plugin) Schemas(string) providers.Schemas {
	return providers.Schemas{Options: optionsSchema, Restore: restoreSchema, SavedInfo: savedInfoSchema}
}

// Hooks implements protect, restore, verify and delete in their main step;
// copy is not implemented, as in Python.
func (p *Plugin) Hooks(op providers.Op, _ graph.Resource) (providers.Hooks, error) {
	switch op {
	case providers.OpProtect:
		return mainHook{main: p.protect}, nil
	case providers.OpRestore:
		return mainHook{main: p.restore}, nil
	case providers.OpVerify:
		return mainHook{main: verify}, nil
	case providers.OpDelete:
		return mainHook{main: deleteSection}, nil
	}
	return nil, providers.NotImplemented(PluginName, op)
}

// mainHook is the hooks of an operation that has only a main step.
type mainHook struct {
	providers.BaseHooks
	main func(ctx context.Context, a *providers.HookArgs) error
}

// OnMain runs the step.
func (h mainHook) OnMain(ctx context.Context, a *providers.HookArgs) error { return h.main(ctx, a) }

// detached returns a context for work that must happen although ctx has
// ended (recording a failure, removing what a failed restore made): not
// cancelled with ctx, but bounded.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	bound := cleanupTimeout
	if ctx.Err() != nil {
		bound = stoppingCleanupTimeout
	}
	return context.WithTimeout(context.WithoutCancel(ctx), bound)
}

// reason is an error's text for a karbor exception's reason.
func reason(err error) string {
	var te *clients.TokenError
	if errors.As(err, &te) {
		return te.Error()
	}
	return err.Error()
}

// warn logs a failure that does not decide the operation.
func warn(ctx context.Context, err error, format string, args ...any) {
	logctx.From(ctx).WithError(err).Warnf(format, args...)
}
