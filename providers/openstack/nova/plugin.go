// Package nova is karbor's Nova server protection plugin,
// "karbor-server-protection-plugin", for OS::Nova::Server
// (karbor/services/protection/protection_plugins/server/nova_protection_plugin.py).
//
// A server's protection is metadata only: its bytes live in its dependents
// (the volumes, the image), which their own plugins protect. Protect writes,
// in the server's bank section, "status" and "metadata" exactly as the
// Python plugin does ({"resource_id", "attach_metadata", "boot_metadata",
// "server_metadata"}, metadata.go), so either service restores, verifies
// and deletes the other's checkpoints.
//
// Restore runs once the server's dependents are restored (OnComplete): it
// boots a new server from the restored image or boot volume, waits until it
// is ACTIVE, attaches the other restored volumes at their saved devices and
// re-associates the saved floating IPs. Every wait polls every
// poll_interval seconds and ends with the operation's context. Verify
// reads the saved status; delete removes the section's objects.
//
// Better than the Python plugin (docs/compatibility.md, N1-N9): a restore
// that fails deletes the server it booted; results are keyed by the
// server's id in the checkpoint; a server saved without networks is
// restored without networks; a dependent that was not restored fails the
// restore before anything is booted; reasons carry their cause (Nova's
// fault, the HTTP error, a refused token); a bootable data volume is
// attached again.
//
// The program imports it for its side effect:
//
//	import _ "github.com/gokarbor/karbor-protection/providers/openstack/nova"
package nova

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
)

// PluginName is the entry-point name provider files use.
const PluginName = "karbor-server-protection-plugin"

// optionGroup is the provider file's section of the plugin's options.
const optionGroup = "nova_backup_protection_plugin"

// defaultPollInterval is poll_interval's default, in seconds.
const defaultPollInterval = 15

func init() {
	providers.Register(PluginName, func(_ context.Context, conf, service *config.Config) (providers.ProtectionPlugin, error) {
		opts, err := OptionsFrom(conf)
		if err != nil {
			return nil, err
		}
		copts, err := clients.OptionsFrom(service)
		if err != nil {
			return nil, err
		}
		c, err := clients.New(copts)
		if err != nil {
			return nil, err
		}
		return New(opts, c), nil
	})
}

// Options are the provider file's [nova_backup_protection_plugin] options.
type Options struct {
	// PollInterval is poll_interval: how long to wait between two looks at
	// a server or volume that is not ready yet (default 15 s).
	PollInterval time.Duration
}

// OptionsFrom reads the options from a provider file (nil: every default).
func OptionsFrom(conf *config.Config) (Options, error) {
	o := Options{PollInterval: defaultPollInterval * time.Second}
	if conf == nil {
		return o, nil
	}
	secs, err := conf.Int(optionGroup, "poll_interval", defaultPollInterval)
	if err != nil {
		return o, fmt.Errorf("[%s] poll_interval: %w", optionGroup, err)
	}
	if secs < 0 {
		return o, fmt.Errorf("[%s] poll_interval = %d: must not be negative", optionGroup, secs)
	}
	o.PollInterval = time.Duration(secs) * time.Second
	return o, nil
}

// Plugin is the Nova server protection plugin.
type Plugin struct {
	opts    Options
	clients *clients.Factory
}

// New returns the plugin; its Nova, Cinder and Neutron clients come from c.
func New(opts Options, c *clients.Factory) *Plugin { return &Plugin{opts: opts, clients: c} }

// ResourceTypes is OS::Nova::Server.
func (*Plugin) ResourceTypes() []string { return []string{karbor.ServerResourceType} }

// The Python plugin's schemas (server_plugin_schemas.py), in json.dumps
// order.
var (
	optionsSchema = json.RawMessage(`{"title": "Server Protection Options", "type": "object", "properties": {}, "required": []}`)
	restoreSchema = json.RawMessage(`{"title": "Server Protection Restore", "type": "object", "properties": {"restore_name": {"type": "string", "title": "Restore Server Name", "description": "The name of the restore server"}, "restore_net_id": {"type": "string", "title": "Restore Server Net Id", "description": "The net id of the restore server"}, "restore_flavor_id": {"type": "string", "title": "Restore Server Flavor Id", "description": "The flavor id of the restore server"}}, "required": ["restore_name"]}`)
	savedSchema   = json.RawMessage(`{"title": "Server Protection Saved Info", "type": "object", "properties": {"attach_metadata": {"type": "object", "title": "Attached Volume Metadata", "description": "The devices of attached volumes"}, "snapshot_metadata": {"type": "object", "title": "Snapshot Metadata", "description": "The metadata of snapshot"}}, "required": ["attached_metadata", "snapshot_metadata"]}`)
)

// Schemas are the Python plugin's.
func (*Plugin) Schemas(string) providers.Schemas {
	return providers.Schemas{Options: optionsSchema, Restore: restoreSchema, SavedInfo: savedSchema}
}

// Hooks implements protect, verify and delete in their main step and
// restore in its complete step (after the server's dependents); copy is not
// implemented, as in Python.
func (p *Plugin) Hooks(op providers.Op, _ graph.Resource) (providers.Hooks, error) {
	switch op {
	case providers.OpProtect:
		return protectHooks{p: p}, nil
	case providers.OpRestore:
		return restoreHooks{p: p}, nil
	case providers.OpVerify:
		return verifyHooks{}, nil
	case providers.OpDelete:
		return deleteHooks{}, nil
	}
	return nil, providers.NotImplemented(PluginName, op)
}
