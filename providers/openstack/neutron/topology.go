package neutron

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// backupName is what the Python plugin writes as the metadata's
// backup_name (its hooks never receive one).
const backupName = "karbor network backup"

// objects are one kind of Neutron object as the bank keeps them: by id,
// each with the allowed keys Neutron answered, values exactly as sent.
type objects map[string]map[string]json.RawMessage

// metadata is the section's "metadata" object, in the Python plugin's key
// order.
type metadata struct {
	ResourceID     string  `json:"resource_id"`
	BackupName     string  `json:"backup_name"`
	Networks       objects `json:"network_metadata"`
	Subnets        objects `json:"subnet_metadata"`
	Ports          objects `json:"port_metadata"`
	Routers        objects `json:"router_metadata"`
	SecurityGroups objects `json:"security-group_metadata"`
}

// kind is one kind of object the topology holds: how to list it and which
// of its keys are kept (the Python plugin's allowed_keys).
type kind struct {
	name    string // Neutron's collection name, for messages
	keys    []string
	list    func(c *gophercloud.ServiceClient, project string) pagination.Pager
	listKey string // the collection's key in a listing's body
}

// The kinds, in the order the Python plugin lists them. The Python
// plugin's router keys hold "admin_state_u", a typo that drops
// admin_state_up; it is kept here (harmless: Neutron has no such key) and
// admin_state_up is saved too, so a restored router keeps its state.
var (
	networkKind = kind{name: "networks", listKey: "networks",
		keys: []string{"id", "admin_state_up", "availability_zone_hints", "description", "ipv4_address_scope",
			"ipv6_address_scope", "mtu", "name", "port_security_enabled", "router:external", "shared", "status",
			"subnets", "tags", "tenant_id"},
		list: func(c *gophercloud.ServiceClient, project string) pagination.Pager {
			return networks.List(c, networks.ListOpts{ProjectID: project})
		}}
	subnetKind = kind{name: "subnets", listKey: "subnets",
		keys: []string{"cidr", "allocation_pools", "description", "dns_nameservers", "enable_dhcp", "gateway_ip",
			"host_routes", "id", "ip_version", "ipv6_address_mode", "ipv6_ra_mode", "name", "network_id",
			"subnetpool_id", "tenant_id"},
		list: func(c *gophercloud.ServiceClient, project string) pagination.Pager {
			return subnets.List(c, subnets.ListOpts{ProjectID: project})
		}}
	portKind = kind{name: "ports", listKey: "ports",
		keys: []string{"admin_state_up", "allowed_address_pairs", "description", "device_id", "device_owner",
			"extra_dhcp_opts", "fixed_ips", "id", "mac_address", "name", "network_id", "port_security_enabled",
			"security_groups", "status", "tenant_id"},
		list: func(c *gophercloud.ServiceClient, project string) pagination.Pager {
			return ports.List(c, ports.ListOpts{ProjectID: project})
		}}
	routerKind = kind{name: "routers", listKey: "routers",
		keys: []string{"admin_state_u", "admin_state_up", "availability_zone_hints", "description",
			"external_gateway_info", "id", "name", "routes", "status"},
		list: func(c *gophercloud.ServiceClient, project string) pagination.Pager {
			return routers.List(c, routers.ListOpts{ProjectID: project})
		}}
	securityGroupKind = kind{name: "security_groups", listKey: "security_groups",
		keys: []string{"id", "description", "name", "security_group_rules", "tenant_id"},
		list: func(c *gophercloud.ServiceClient, project string) pagination.Pager {
			return groups.List(c, groups.ListOpts{ProjectID: project})
		}}
)

// rawPage is what every Neutron listing page offers: its body decoded
// into a slice under the collection's key.
type rawPage interface {
	ExtractIntoSlicePtr(to any, label string) error
}

// fetch lists the project's objects of k, keeping the allowed keys.
func (k kind) fetch(ctx context.Context, c *gophercloud.ServiceClient, project string) (objects, error) {
	out := objects{}
	err := k.list(c, project).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
		rp, ok := page.(rawPage)
		if !ok {
			return false, fmt.Errorf("unexpected page type %T", page)
		}
		var items []map[string]json.RawMessage
		if err := rp.ExtractIntoSlicePtr(&items, k.listKey); err != nil {
			return false, err
		}
		for _, item := range items {
			var id string
			if err := json.Unmarshal(item["id"], &id); err != nil || id == "" {
				return false, fmt.Errorf("an item without an id: %s", item["id"])
			}
			kept := map[string]json.RawMessage{}
			for key, v := range item {
				if slices.Contains(k.keys, key) {
					kept[key] = v
				}
			}
			out[id] = kept
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", k.name, err)
	}
	return out, nil
}

// topology reads the project's network topology from Neutron.
func topology(ctx context.Context, c *gophercloud.ServiceClient, project string) (*metadata, error) {
	md := &metadata{ResourceID: project, BackupName: backupName}
	for _, s := range []struct {
		k  kind
		to *objects
	}{
		{networkKind, &md.Networks}, {subnetKind, &md.Subnets}, {portKind, &md.Ports},
		{routerKind, &md.Routers}, {securityGroupKind, &md.SecurityGroups},
	} {
		objs, err := s.k.fetch(ctx, c, project)
		if err != nil {
			return nil, err
		}
		*s.to = objs
	}
	return md, nil
}
