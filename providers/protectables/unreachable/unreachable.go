// Package unreachable provides the protectable plugins of the seven
// OpenStack-backed resource types (database, image, network, pod, server,
// share, volume) for a service that has no OpenStack to ask. Each answers
// exactly as its Python plugin answers when the OpenStack client cannot be
// created, which with the shipped configuration is every call: karbor's
// client factory first builds the karbor service user's Keystone plugin from
// [trustee], and without a reachable Keystone that fails with
// AuthorizationFailure(obj="trustee"), "Authorization for trustee is failed ".
//
//   - listing instances: ListProtectableResourceFailed(type, reason);
//   - showing one: ProtectableResourceNotFound(id, type, reason), except
//     a network, which is null unless the id is the caller's project
//     (then ListProtectableResourceFailed), and a pod, whose parameters are
//     checked first as the Python plugin checks them;
//   - dependents: ListProtectableResourceFailed, which the registry swallows
//     (so list_protectable_dependents answers []), except a pod's volumes,
//     which fail with ProtectableResourceNotFound for the pod, as in Python.
//
// providers/protectables/openstack registers them under their entry-point
// names and answers with them when karbor.conf configures no OpenStack.
package unreachable

import (
	"context"
	"encoding/json"
	"maps"
	"strings"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/protectables"
)

// Reason is why every OpenStack call fails: the message of
// AuthorizationFailure(obj="trustee"), trailing space included.
var Reason = karbor.AuthorizationFailure("trustee").Error()

// The entry-point names (karbor.protectables) and what each knows.
var plugins = map[string]Plugin{
	"database": {Type: karbor.DatabaseResourceType, Parents: []string{karbor.ProjectResourceType}},
	"image":    {Type: karbor.ImageResourceType, Parents: []string{karbor.ServerResourceType, karbor.ProjectResourceType}},
	"network":  {Type: karbor.NetworkResourceType, Parents: []string{karbor.ProjectResourceType}, ParentIsString: true},
	"pod":      {Type: karbor.PodResourceType, Parents: []string{karbor.ProjectResourceType}, ParentIsString: true},
	"server":   {Type: karbor.ServerResourceType, Parents: []string{karbor.ProjectResourceType}},
	"share":    {Type: karbor.ShareResourceType, Parents: []string{karbor.ProjectResourceType}},
	"volume": {Type: karbor.VolumeResourceType, Parents: []string{
		karbor.ServerResourceType, karbor.PodResourceType, karbor.ProjectResourceType}},
}

// Plugins returns the plugins by entry-point name. The package registers
// none itself: the program's OpenStack package registers these names and
// falls back on these plugins where it has no service to ask.
func Plugins() map[string]Plugin { return maps.Clone(plugins) }

// Plugin is one type's plugin without OpenStack.
type Plugin struct {
	Type    string
	Parents []string
	// ParentIsString reproduces the network and pod plugins, whose parent
	// types are a plain string in Python, so that "is t a parent" is a
	// substring test.
	ParentIsString bool
}

var _ protectables.ParentMatcher = Plugin{}

// ResourceType implements protectables.Plugin.
func (p Plugin) ResourceType() string { return p.Type }

// ParentTypes implements protectables.Plugin.
func (p Plugin) ParentTypes() []string { return p.Parents }

// IsParentType implements protectables.ParentMatcher.
func (p Plugin) IsParentType(t string) bool {
	for _, parent := range p.Parents {
		if t == parent || (p.ParentIsString && strings.Contains(parent, t)) {
			return true
		}
	}
	return false
}

func (p Plugin) listFailed() error { return karbor.ListProtectableResourceFailed(p.Type, Reason) }

// List fails: nothing can be listed.
func (p Plugin) List(context.Context, *karbor.RequestContext, protectables.Parameters) ([]graph.Resource, error) {
	return nil, p.listFailed()
}

// Show fails as the Python plugin does when its client cannot be made.
func (p Plugin) Show(_ context.Context, rc *karbor.RequestContext, id string, params protectables.Parameters) (*graph.Resource, error) {
	switch p.Type {
	case karbor.NetworkResourceType:
		// The network pseudo-resource's id is the project id; any other id
		// is unknown before Neutron is asked.
		if id != rc.ProjectID {
			return nil, nil
		}
		return nil, p.listFailed()
	case karbor.PodResourceType:
		return nil, karbor.ProtectableResourceNotFound(id, p.Type, podShowReason(params))
	}
	return nil, karbor.ProtectableResourceNotFound(id, p.Type, Reason)
}

// Dependents fails; a pod's volumes fail with ProtectableResourceNotFound for
// the pod, which the registry does not swallow.
func (p Plugin) Dependents(_ context.Context, _ *karbor.RequestContext, parent graph.Resource) ([]graph.Resource, error) {
	if p.Type == karbor.VolumeResourceType && parent.Type == karbor.PodResourceType {
		// The pod's name is "namespace:name", split before Kubernetes is asked.
		return nil, karbor.ProtectableResourceNotFound(parent.ID, parent.Type, unpackTwo(parent.Name))
	}
	return nil, p.listFailed()
}

// podShowReason is why the Python pod plugin's show fails: its checks of
// parameters["name"] come before the client is made.
func podShowReason(params protectables.Parameters) string {
	if len(params) == 0 {
		return "No active exception to reraise" // a bare raise outside an except
	}
	switch name := params["name"].(type) {
	case nil:
		return "argument of type 'NoneType' is not iterable"
	case string:
		if strings.Contains(name, ":") {
			return unpackTwo(name)
		}
		return Reason
	case bool:
		return "argument of type 'bool' is not iterable"
	case float64:
		if name == float64(int64(name)) {
			return "argument of type 'int' is not iterable"
		}
		return "argument of type 'float' is not iterable"
	case json.Number:
		if strings.ContainsAny(string(name), ".eE") {
			return "argument of type 'float' is not iterable"
		}
		return "argument of type 'int' is not iterable"
	case []any:
		for _, v := range name {
			if v == ":" {
				return "'list' object has no attribute 'split'"
			}
		}
		return Reason
	case map[string]any:
		if _, ok := name[":"]; ok {
			return "'dict' object has no attribute 'split'"
		}
		return Reason
	}
	return Reason
}

// unpackTwo is what Python's "a, b = s.split(':')" does before the client
// is made: fail unless s has exactly one colon.
func unpackTwo(s string) string {
	switch n := strings.Count(s, ":"); {
	case n == 0:
		return "not enough values to unpack (expected 2, got 1)"
	case n > 1:
		return "too many values to unpack (expected 2)"
	}
	return Reason
}
