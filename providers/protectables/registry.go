package protectables

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// Registry holds the loaded protectable plugins, by resource type, in load
// order (Python's ProtectableRegistry). It is immutable and safe for
// concurrent use.
type Registry struct {
	types   []string          // load order
	plugins map[string]Plugin // by resource type
}

// Load builds every registered plugin, in name order. A plugin that fails to
// build is skipped with a warning, as the Python service skips it. conf is
// handed to the factories (nil: defaults).
func Load(ctx context.Context, conf *config.Config) *Registry {
	log := logctx.From(ctx)
	var plugins []Plugin
	for name, f := range factories.All() {
		p, err := f(ctx, conf)
		if err == nil && p == nil {
			err = errors.New("factory returned no plugin")
		}
		if err != nil {
			log.WithError(err).WithField("plugin", name).Warn("Could not load protectable plugin; its type is not protectable")
			continue
		}
		plugins = append(plugins, p)
	}
	return NewRegistry(log, plugins...)
}

// NewRegistry returns a registry of plugins, in that order. Two plugins of
// one type: the later one answers, in the place of the first (as a Python
// dict keeps a replaced key's place), and a warning is logged.
func NewRegistry(log *logrus.Entry, plugins ...Plugin) *Registry {
	r := &Registry{plugins: make(map[string]Plugin, len(plugins))}
	for _, p := range plugins {
		t := p.ResourceType()
		if _, dup := r.plugins[t]; dup {
			log.WithField("resource_type", t).Warn("Two protectable plugins for one resource type; the later one is used")
		} else {
			r.types = append(r.types, t)
		}
		r.plugins[t] = p
	}
	return r
}

// Types returns the protectable resource types in load order
// (list_protectable_types).
func (r *Registry) Types() []string { return append([]string(nil), r.types...) }

// TypeInfo is show_protectable_type's answer.
type TypeInfo struct {
	Name           string   `json:"name"`
	DependentTypes []string `json:"dependent_types"`
}

// ShowType describes a type: its name and every other type whose plugin
// lists it as a parent, in load order. An unknown type is
// ProtectableTypeNotFound.
func (r *Registry) ShowType(t string) (TypeInfo, error) {
	p, ok := r.plugins[t]
	if !ok {
		return TypeInfo{}, karbor.ProtectableTypeNotFound(t)
	}
	info := TypeInfo{Name: p.ResourceType(), DependentTypes: []string{}}
	for _, other := range r.types {
		if other != t && isParentType(r.plugins[other], t) {
			info.DependentTypes = append(info.DependentTypes, other)
		}
	}
	return info, nil
}

// plugin returns the plugin of a type; an unknown type is the builtin
// KeyError Python raises.
func (r *Registry) plugin(t string) (Plugin, error) {
	p, ok := r.plugins[t]
	if !ok {
		return nil, karbor.KeyError(t)
	}
	return p, nil
}

// ListInstances returns every resource of a type (list_protectable_instances;
// the RPC's marker, limit, sort and filters are ignored, as in Python). An
// unknown type is the builtin KeyError.
func (r *Registry) ListInstances(ctx context.Context, rc *karbor.RequestContext, t string, params Parameters) ([]graph.Resource, error) {
	p, err := r.plugin(t)
	if err != nil {
		return nil, err
	}
	res, err := p.List(ctx, rc, params)
	if err != nil {
		logctx.From(ctx).WithError(err).WithField("resource_type", t).Error("List protectable instances failed")
		return nil, err
	}
	return res, nil
}

// ShowInstance returns one resource, or nil (show_protectable_instance). An
// unknown type is the builtin KeyError.
func (r *Registry) ShowInstance(ctx context.Context, rc *karbor.RequestContext, t, id string, params Parameters) (*graph.Resource, error) {
	p, err := r.plugin(t)
	if err != nil {
		return nil, err
	}
	res, err := p.Show(ctx, rc, id, params)
	if err != nil {
		logctx.From(ctx).WithError(err).WithFields(logrus.Fields{"resource_type": t, "resource_id": id}).Error("Show protectable instance failed")
		return nil, err
	}
	return res, nil
}

// Dependents returns the resources that depend on parent
// (list_protectable_dependents): those of every plugin that lists parent's
// type as a parent, in load order. A plugin failing with
// ListProtectableResourceFailed is logged and contributes nothing, as in
// Python; any other error is returned.
func (r *Registry) Dependents(ctx context.Context, rc *karbor.RequestContext, parent graph.Resource) ([]graph.Resource, error) {
	return r.dependents(ctx, rc, parent, func(t string, err error) {
		logctx.From(ctx).WithError(err).WithFields(logrus.Fields{"resource_type": t, "parent": parent.String()}).
			Error("List dependent resources failed, so skip it")
	})
}

func (r *Registry) dependents(ctx context.Context, rc *karbor.RequestContext, parent graph.Resource, skipped func(t string, err error)) ([]graph.Resource, error) {
	var out []graph.Resource
	for _, t := range r.types {
		p := r.plugins[t]
		if !isParentType(p, parent.Type) {
			continue
		}
		res, err := p.Dependents(ctx, rc, parent)
		if errors.Is(err, karbor.ExcListProtectableResourceFailed) {
			skipped(t, err)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// BuildGraph builds the resource graph of a plan's resources (graph.Build),
// children being Dependents. Skipped plugin failures are logged once per
// plugin, with their count, rather than once per resource.
func (r *Registry) BuildGraph(ctx context.Context, rc *karbor.RequestContext, resources []graph.Resource) (graph.Graph, error) {
	type skip struct {
		n     int
		first error
	}
	var skips map[string]*skip
	var order []string
	children := func(ctx context.Context, parent graph.Resource) ([]graph.Resource, error) {
		return r.dependents(ctx, rc, parent, func(t string, err error) {
			if skips == nil {
				skips = map[string]*skip{}
			}
			s, ok := skips[t]
			if !ok {
				s = &skip{first: err}
				skips[t] = s
				order = append(order, t)
			}
			s.n++
		})
	}
	g, err := graph.Build(ctx, resources, children)
	for _, t := range order {
		logctx.From(ctx).WithError(skips[t].first).WithFields(logrus.Fields{"resource_type": t, "times": skips[t].n}).
			Error("List dependent resources failed while building the resource graph, so skip them")
	}
	if err != nil {
		return nil, fmt.Errorf("protectables: build resource graph: %w", err)
	}
	return g, nil
}
