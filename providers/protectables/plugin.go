package protectables

import (
	"context"
	"slices"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/registry"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// Plugin is a protectable plugin: it knows the resources of one type
// (Python's ProtectablePlugin). Its methods are called concurrently, each
// with the caller's request context, whose token reaches OpenStack.
//
// Errors are karbor exceptions where the Python plugins raise them:
// ListProtectableResourceFailed when the backing service cannot list,
// ProtectableResourceNotFound when it cannot show,
// ProtectableResourceInvalidStatus for a resource in a status karbor does not
// protect.
type Plugin interface {
	// ResourceType is the type of the resources this plugin knows.
	ResourceType() string
	// ParentTypes are the types whose resources may have resources of this
	// type as dependents (a volume's parents are servers, pods and
	// projects).
	ParentTypes() []string
	// List returns every resource of the type visible to the caller.
	// params is the RPC's parameters argument (nil for null).
	List(ctx context.Context, rc *karbor.RequestContext, params Parameters) ([]graph.Resource, error)
	// Show returns one resource, or nil (the RPC answers null) when the
	// plugin does not know it.
	Show(ctx context.Context, rc *karbor.RequestContext, id string, params Parameters) (*graph.Resource, error)
	// Dependents returns the resources of this plugin's type that depend on
	// parent, a resource of one of ParentTypes.
	Dependents(ctx context.Context, rc *karbor.RequestContext, parent graph.Resource) ([]graph.Resource, error)
}

// ParentMatcher is implemented by plugins that decide for themselves whether a
// type is one of their parents. Two Python plugins (network and pod) return
// their parent type as a plain string, so Python's "t in parents" is a
// substring test for them: "OS::Keystone::Project" but also "Project" or
// "OS::" count as their parent. A plugin reproducing that implements this.
type ParentMatcher interface {
	IsParentType(t string) bool
}

// isParentType reports whether p lists t among its parent types.
func isParentType(p Plugin, t string) bool {
	if m, ok := p.(ParentMatcher); ok {
		return m.IsParentType(t)
	}
	return slices.Contains(p.ParentTypes(), t)
}

// Parameters are the parameters argument of list_protectable_instances and
// show_protectable_instance: a JSON object decoded (values are any JSON), or
// nil for null.
type Parameters map[string]any

// Factory builds a plugin. conf is karbor.conf, where OpenStack-backed
// plugins find their client options ([cinder_client], [pod_protectable], …);
// it may be nil, meaning every option has its default.
type Factory func(ctx context.Context, conf *config.Config) (Plugin, error)

var factories = registry.New[Factory]("protectables", "protectable plugin")

// Register makes a protectable plugin available under name, its entry-point
// name in karbor.protectables ("volume", "project", …). It panics on an empty
// name, a nil factory or a duplicate, all programmer errors (two packages
// providing the same types imported at once, for instance).
func Register(name string, factory Factory) { factories.Register(name, factory) }

// Plugins returns the registered plugin names, sorted.
func Plugins() []string { return factories.Names() }
