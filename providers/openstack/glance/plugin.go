// Package glance is karbor's Glance image protection plugin,
// "karbor-image-protection-plugin", for OS::Glance::Image
// (karbor/services/protection/protection_plugins/image/). It keeps the
// Python plugin's bank layout, so either service reads the other's
// checkpoints: in the resource's section, "status", "metadata"
// ({"resource_id", "image_metadata": {"disk_format", "container_format",
// "checksum"}, "chunks_num"}) and the image's bytes in data_1 … data_N of
// backup_image_object_size bytes each (chunks.go).
//
// Protect streams the image from Glance into the bank, downloading the next
// object while two are written, so a protect holds three objects' bytes
// however large the image, and checks the bytes as glanceclient does
// (against Glance's multihash, or its MD5 checksum). Restore creates an image, uploads the
// objects back in order (again one at a time), checks the new image's
// checksum and deletes the new image when anything fails. Verify reads the
// saved status; delete removes the section's objects. Restores and
// verifications report each image's result (docs/compatibility.md).
//
// An image found as a server's dependent (its extra_info names the server)
// is, with enable_server_snapshot, protected from a snapshot Nova takes of
// the server (snapshot.go): the bank gets the server's current disk under
// the image's id, and the snapshot image is deleted afterwards.
//
// The program imports it for its side effect:
//
//	import _ "github.com/gokarbor/karbor-protection/providers/openstack/glance"
package glance

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
const PluginName = "karbor-image-protection-plugin"

// optionGroup is the provider file's section of the plugin's options.
const optionGroup = "image_backup_plugin"

// glanceChunk is the size of the pieces glanceclient reads an image in; the
// Python plugin counts them to cut objects, so an object size must be a
// multiple of it.
const glanceChunk = 65536

func init() {
	providers.Register(PluginName, func(ctx context.Context, conf, service *config.Config) (providers.ProtectionPlugin, error) {
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

// Options are the provider file's [image_backup_plugin] options.
type Options struct {
	// ObjectSize is backup_image_object_size: the bytes of each data_<n>
	// object, a positive multiple of 65536 (default 655360).
	ObjectSize int
	// PollInterval is poll_interval: how long to wait between two looks at
	// an image that is not active yet (default 10 s).
	PollInterval time.Duration
	// ServerSnapshot is enable_server_snapshot (default true).
	ServerSnapshot bool
}

// OptionsFrom reads the options from a provider file (nil: every default).
// An object size that is not a positive multiple of 65536 is an error, as
// in Python.
func OptionsFrom(conf *config.Config) (Options, error) {
	o := Options{ObjectSize: 10 * glanceChunk, PollInterval: 10 * time.Second, ServerSnapshot: true}
	if conf == nil {
		return o, nil
	}
	size, err := conf.Int(optionGroup, "backup_image_object_size", o.ObjectSize)
	if err != nil {
		return o, err
	}
	poll, err := conf.Int(optionGroup, "poll_interval", 10)
	if err != nil {
		return o, err
	}
	if o.ServerSnapshot, err = conf.Bool(optionGroup, "enable_server_snapshot", true); err != nil {
		return o, err
	}
	if size <= 0 || size%glanceChunk != 0 {
		return o, karbor.InvalidParameterValue("The value of CONF.backup_image_object_size is invalid!")
	}
	if poll < 0 {
		return o, fmt.Errorf("[%s] poll_interval = %d: must not be negative", optionGroup, poll)
	}
	o.ObjectSize, o.PollInterval = size, time.Duration(poll)*time.Second
	return o, nil
}

// Plugin is the Glance image protection plugin.
type Plugin struct {
	opts    Options
	clients *clients.Factory
}

// New returns the plugin; its Glance clients come from c.
func New(opts Options, c *clients.Factory) *Plugin { return &Plugin{opts: opts, clients: c} }

// ResourceTypes is OS::Glance::Image.
func (*Plugin) ResourceTypes() []string { return []string{karbor.ImageResourceType} }

// The Python plugin's schemas (image_plugin_schemas.py), verbatim.
var (
	optionsSchema = json.RawMessage(`{"title": "Image Protection Options", "type": "object", "properties": {"backup_name": {"type": "string", "title": "Backup Name", "description": "The name of the backup.", "default": null}}, "required": []}`)
	restoreSchema = json.RawMessage(`{"title": "Image Protection Restore", "type": "object", "properties": {"restore_name": {"type": "string", "title": "Restore Image Name", "description": "The name of the restore image"}}, "required": ["backup_name"]}`)
	savedSchema   = json.RawMessage(`{"title": "Image Protection Saved Info", "type": "object", "properties": {"image_metadata": {"type": "image", "title": "Image Metadata", "description": "To save disk_format and container_format"}}, "required": ["image_metadata"]}`)
)

// Schemas are the Python plugin's.
func (*Plugin) Schemas(string) providers.Schemas {
	return providers.Schemas{Options: optionsSchema, Restore: restoreSchema, SavedInfo: savedSchema}
}

// Hooks implements protect, restore, verify and delete in their main step;
// copy is not implemented, as in Python.
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
