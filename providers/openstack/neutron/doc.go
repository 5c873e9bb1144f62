// Package neutron is karbor's Neutron network protection plugin,
// "karbor-network-protection-plugin", for OS::Neutron::Network
// (karbor/services/protection/protection_plugins/network/). The resource
// is a project's whole network topology: its id is the project's, as the
// OS::Neutron::Network protectable names it ("Network Topology").
//
// It keeps the Python plugin's bank layout, so either service reads the
// other's checkpoints: in the resource's section, "status" (protecting →
// available | error) and "metadata", {"resource_id", "backup_name",
// "network_metadata", "subnet_metadata", "port_metadata",
// "router_metadata", "security-group_metadata"}, each kind of object kept
// by id with the keys the Python plugin keeps, values as Neutron sent them.
//
// Protect lists the project's networks, subnets, ports, routers and
// security groups. Restore recreates them in the caller's project in the
// Python plugin's order (networks, security groups, subnets, routers,
// ports, router interfaces), waiting for each network, router and port to
// settle every poll_interval seconds ([neutron_backup_protection_plugin],
// default 15; nothing is polled that Neutron answers settled). Verify reads
// the saved status; delete removes the section's objects.
//
// Better than the Python plugin (docs/compatibility.md): a restore that
// fails removes what it made; restored objects are recorded under their
// original ids, and the restore reports its result; routers keep their
// admin state and external gateway, security groups all their rules and
// ports their restored groups; delete removes the saved topology.
//
// The program imports it for its side effect:
//
//	import _ "github.com/gokarbor/karbor-protection/providers/openstack/neutron"
package neutron
