// Package openstack provides the protectable plugins of the OpenStack-backed
// resource types under their entry-point names (karbor.protectables):
// "server", "volume", "image" and "network" ask Nova, Cinder, Glance and
// Neutron as the caller (karbor/services/protection/protectable_plugins/),
// through providers/openstack/clients.
//
// When karbor.conf has no [trustee] auth plugin, karbor's client factory
// cannot make any client, and every type answers as
// providers/protectables/unreachable does; so do "database", "pod" and
// "share", whose services this package does not speak. The program imports
// it for its side effect:
//
//	import _ "github.com/gokarbor/karbor-protection/providers/protectables/openstack"
//
// Unlike the Python plugins, which keep the first caller's context in the
// plugin, every answer is for the current caller's project
// (docs/compatibility.md).
package openstack

import (
	"context"
	"encoding/json"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/protectables"
	"github.com/gokarbor/karbor-protection/providers/protectables/unreachable"
)

// builders make the plugins of the types this package asks OpenStack about.
var builders = map[string]func(*clients.Factory, unreachable.Plugin) protectables.Plugin{
	"server":  func(c *clients.Factory, p unreachable.Plugin) protectables.Plugin { return &Server{base{p, c}} },
	"volume":  func(c *clients.Factory, p unreachable.Plugin) protectables.Plugin { return &Volume{base{p, c}} },
	"image":   func(c *clients.Factory, p unreachable.Plugin) protectables.Plugin { return &Image{base{p, c}} },
	"network": func(c *clients.Factory, p unreachable.Plugin) protectables.Plugin { return &Network{base{p, c}} },
}

func init() {
	for name, fallback := range unreachable.Plugins() {
		protectables.Register(name, func(_ context.Context, conf *config.Config) (protectables.Plugin, error) {
			return New(name, conf, fallback)
		})
	}
}

// New builds the plugin of an entry-point name from karbor.conf (nil: every
// default): the OpenStack-backed one when [trustee] is configured and the
// type is one this package asks OpenStack about, fallback otherwise.
func New(name string, conf *config.Config, fallback unreachable.Plugin) (protectables.Plugin, error) {
	build, ok := builders[name]
	if !ok {
		return fallback, nil
	}
	opts, err := clients.OptionsFrom(conf)
	if err != nil {
		return nil, err
	}
	if !opts.Configured() {
		return fallback, nil
	}
	c, err := clients.New(opts)
	if err != nil {
		return nil, err
	}
	return build(c, fallback), nil
}

// base is what every plugin shares: its type and parents (from the
// unreachable plugin of its name, which reproduces Python's parent checks)
// and the client factory.
type base struct {
	unreachable.Plugin
	clients *clients.Factory
}

func (b base) listFailed(err error) error {
	return karbor.ListProtectableResourceFailed(b.Type, err.Error())
}

func (b base) notFound(id string, err error) error {
	return karbor.ProtectableResourceNotFound(id, b.Type, err.Error())
}

func (b base) resource(id, name string, extra map[string]string) graph.Resource {
	r := graph.Resource{Type: b.Type, ID: id, Name: name}
	if extra != nil {
		r.ExtraInfo, _ = json.Marshal(extra) // a map of strings always marshals
	}
	return r
}
