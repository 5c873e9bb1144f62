// Package protectables answers what karbor can protect: the protectable
// plugins (one per resource type, karbor/services/protection/
// protectable_plugins), their registry, the type graph (which types depend on
// which) and the resource graph of a plan, whose children come from the
// plugins (a server's volumes and boot image, a project's everything).
//
// Plugins register themselves from init under karbor's entry-point names
// (namespace karbor.protectables: "database", "image", "network", "pod",
// "project", "server", "share", "volume"), as database/sql drivers do. Load
// instantiates every registered plugin in name order, which is the order the
// Python service loads them in practice, and so the order of
// list_protectable_types and of every dependent_types list:
//
//	OS::Trove::Instance, OS::Glance::Image, OS::Neutron::Network,
//	OS::Kubernetes::Pod, OS::Keystone::Project, OS::Nova::Server,
//	OS::Manila::Share, OS::Cinder::Volume
//
// The project plugin lives here, registered as "project": it needs no
// OpenStack (a project is the caller's context). The seven OpenStack-backed
// types come from protectables/openstack, which asks Nova, Cinder, Glance and
// Neutron when karbor.conf configures [trustee], and otherwise answers as
// the Python plugins do when no OpenStack can be reached
// (protectables/unreachable).
package protectables
