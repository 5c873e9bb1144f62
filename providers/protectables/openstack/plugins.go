package openstack

import (
	"context"
	"slices"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/protectables"
)

// The statuses karbor does not protect (protectable_plugins/*.py).
var (
	invalidServerStatus = []string{"DELETED", "ERROR", "UNKNOWN", "SOFT_DELETED", "RESCUED"}
	invalidVolumeStatus = []string{"error", "deleting", "error_deleting"}
	invalidImageStatus  = []string{"killed", "deleted", "pending_delete", "deactivated"}
)

// Server is OS::Nova::Server (protectable_plugins/server.py): the caller's
// servers, every project's servers being its dependents.
type Server struct{ base }

func (p *Server) all(ctx context.Context, rc *karbor.RequestContext) ([]graph.Resource, error) {
	c, err := p.clients.Client(ctx, rc, clients.Nova)
	if err != nil {
		return nil, p.listFailed(err)
	}
	pages, err := servers.List(c, servers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, p.listFailed(err)
	}
	all, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, p.listFailed(err)
	}
	out := []graph.Resource{}
	for _, s := range all {
		if !slices.Contains(invalidServerStatus, s.Status) {
			out = append(out, p.resource(s.ID, s.Name, nil))
		}
	}
	return out, nil
}

// List returns the caller's servers in a status karbor protects.
func (p *Server) List(ctx context.Context, rc *karbor.RequestContext, _ protectables.Parameters) ([]graph.Resource, error) {
	return p.all(ctx, rc)
}

// Show returns one server; one in an unprotectable status is
// ProtectableResourceInvalidStatus.
func (p *Server) Show(ctx context.Context, rc *karbor.RequestContext, id string, _ protectables.Parameters) (*graph.Resource, error) {
	c, err := p.clients.Client(ctx, rc, clients.Nova)
	if err != nil {
		return nil, p.notFound(id, err)
	}
	s, err := servers.Get(ctx, c, id).Extract()
	if err != nil {
		return nil, p.notFound(id, err)
	}
	if slices.Contains(invalidServerStatus, s.Status) {
		return nil, karbor.ProtectableResourceInvalidStatus(id, p.Type, s.Status)
	}
	r := p.resource(s.ID, s.Name, nil)
	return &r, nil
}

// Dependents of a project are its servers.
func (p *Server) Dependents(ctx context.Context, rc *karbor.RequestContext, _ graph.Resource) ([]graph.Resource, error) {
	return p.all(ctx, rc)
}

// Volume is OS::Cinder::Volume (protectable_plugins/volume.py), with its
// availability zone as extra_info.
type Volume struct{ base }

func (p *Volume) volumes(ctx context.Context, rc *karbor.RequestContext) ([]volumes.Volume, error) {
	c, err := p.clients.Client(ctx, rc, clients.Cinder)
	if err != nil {
		return nil, p.listFailed(err)
	}
	pages, err := volumes.List(c, volumes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, p.listFailed(err)
	}
	all, err := volumes.ExtractVolumes(pages)
	if err != nil {
		return nil, p.listFailed(err)
	}
	return all, nil
}

func (p *Volume) of(v volumes.Volume) graph.Resource {
	return p.resource(v.ID, v.Name, map[string]string{"availability_zone": v.AvailabilityZone})
}

// List returns the caller's volumes in a status karbor protects.
func (p *Volume) List(ctx context.Context, rc *karbor.RequestContext, _ protectables.Parameters) ([]graph.Resource, error) {
	all, err := p.volumes(ctx, rc)
	if err != nil {
		return nil, err
	}
	out := []graph.Resource{}
	for _, v := range all {
		if !slices.Contains(invalidVolumeStatus, v.Status) {
			out = append(out, p.of(v))
		}
	}
	return out, nil
}

// Show returns one volume; one in an unprotectable status is
// ProtectableResourceInvalidStatus.
func (p *Volume) Show(ctx context.Context, rc *karbor.RequestContext, id string, _ protectables.Parameters) (*graph.Resource, error) {
	c, err := p.clients.Client(ctx, rc, clients.Cinder)
	if err != nil {
		return nil, p.notFound(id, err)
	}
	v, err := volumes.Get(ctx, c, id).Extract()
	if err != nil {
		return nil, p.notFound(id, err)
	}
	if slices.Contains(invalidVolumeStatus, v.Status) {
		return nil, karbor.ProtectableResourceInvalidStatus(id, p.Type, v.Status)
	}
	r := p.of(*v)
	return &r, nil
}

// Dependents of a server are the volumes attached to it; of a project, the
// volumes Cinder says it owns (os-vol-tenant-attr:tenant_id, which Cinder
// shows to the volume's project). A pod's volumes need Kubernetes, which
// this package does not speak.
func (p *Volume) Dependents(ctx context.Context, rc *karbor.RequestContext, parent graph.Resource) ([]graph.Resource, error) {
	var match func(volumes.Volume) bool
	switch parent.Type {
	case karbor.ServerResourceType:
		match = func(v volumes.Volume) bool {
			return slices.ContainsFunc(v.Attachments, func(a volumes.Attachment) bool { return a.ServerID == parent.ID })
		}
	case karbor.ProjectResourceType:
		match = func(v volumes.Volume) bool { return v.TenantID == parent.ID }
	case karbor.PodResourceType:
		return p.Plugin.Dependents(ctx, rc, parent)
	default:
		return []graph.Resource{}, nil
	}
	all, err := p.volumes(ctx, rc)
	if err != nil {
		return nil, err
	}
	out := []graph.Resource{}
	for _, v := range all {
		if match(v) {
			out = append(out, p.of(v))
		}
	}
	return out, nil
}

// Image is OS::Glance::Image (protectable_plugins/image.py).
type Image struct{ base }

func (p *Image) images(ctx context.Context, rc *karbor.RequestContext) ([]images.Image, error) {
	c, err := p.clients.Client(ctx, rc, clients.Glance)
	if err != nil {
		return nil, p.listFailed(err)
	}
	pages, err := images.List(c, images.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, p.listFailed(err)
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		return nil, p.listFailed(err)
	}
	return slices.DeleteFunc(all, func(i images.Image) bool {
		return slices.Contains(invalidImageStatus, string(i.Status))
	}), nil
}

// List returns the images the caller sees, in a status karbor protects.
func (p *Image) List(ctx context.Context, rc *karbor.RequestContext, _ protectables.Parameters) ([]graph.Resource, error) {
	all, err := p.images(ctx, rc)
	if err != nil {
		return nil, err
	}
	out := []graph.Resource{}
	for _, i := range all {
		out = append(out, p.resource(i.ID, i.Name, nil))
	}
	return out, nil
}

// Show returns one image; one in an unprotectable status is
// ProtectableResourceInvalidStatus.
func (p *Image) Show(ctx context.Context, rc *karbor.RequestContext, id string, _ protectables.Parameters) (*graph.Resource, error) {
	c, err := p.clients.Client(ctx, rc, clients.Glance)
	if err != nil {
		return nil, p.notFound(id, err)
	}
	i, err := images.Get(ctx, c, id).Extract()
	if err != nil {
		return nil, p.notFound(id, err)
	}
	if slices.Contains(invalidImageStatus, string(i.Status)) {
		return nil, karbor.ProtectableResourceInvalidStatus(i.ID, p.Type, string(i.Status))
	}
	r := p.resource(i.ID, i.Name, nil)
	return &r, nil
}

// Dependents of a server are the image it booted from, with the server's
// id as extra_info (which makes the image plugin snapshot the server); of a
// project, the images it owns.
func (p *Image) Dependents(ctx context.Context, rc *karbor.RequestContext, parent graph.Resource) ([]graph.Resource, error) {
	switch parent.Type {
	case karbor.ServerResourceType:
		return p.ofServer(ctx, rc, parent.ID)
	case karbor.ProjectResourceType:
		all, err := p.images(ctx, rc)
		if err != nil {
			return nil, err
		}
		out := []graph.Resource{}
		for _, i := range all {
			if i.Owner == parent.ID {
				out = append(out, p.resource(i.ID, i.Name, nil))
			}
		}
		return out, nil
	}
	return []graph.Resource{}, nil
}

func (p *Image) ofServer(ctx context.Context, rc *karbor.RequestContext, serverID string) ([]graph.Resource, error) {
	nova, err := p.clients.Client(ctx, rc, clients.Nova)
	if err != nil {
		return nil, p.listFailed(err)
	}
	s, err := servers.Get(ctx, nova, serverID).Extract()
	if err != nil {
		return nil, p.listFailed(err)
	}
	// A server booted from a volume has no image ("image": "").
	imageID, _ := s.Image["id"].(string)
	if imageID == "" {
		return []graph.Resource{}, nil
	}
	glance, err := p.clients.Client(ctx, rc, clients.Glance)
	if err != nil {
		return nil, p.listFailed(err)
	}
	i, err := images.Get(ctx, glance, imageID).Extract()
	if err != nil {
		return nil, p.listFailed(err)
	}
	return []graph.Resource{p.resource(imageID, i.Name, map[string]string{"server_id": s.ID})}, nil
}

// Network is OS::Neutron::Network (protectable_plugins/network.py): one
// pseudo-resource per project, "Network Topology", whose id is the project's,
// present when the project has a network.
type Network struct{ base }

// topologyName is the pseudo-resource's name.
const topologyName = "Network Topology"

// hasNetworks asks Neutron whether project has a network (one is enough).
func (p *Network) hasNetworks(ctx context.Context, rc *karbor.RequestContext, project string) (bool, error) {
	c, err := p.clients.Client(ctx, rc, clients.Neutron)
	if err != nil {
		return false, p.listFailed(err)
	}
	found := false
	err = networks.List(c, networks.ListOpts{ProjectID: project, Limit: 1}).EachPage(ctx,
		func(_ context.Context, page pagination.Page) (bool, error) {
			nets, err := networks.ExtractNetworks(page)
			found = len(nets) > 0
			return false, err
		})
	if err != nil {
		return false, p.listFailed(err)
	}
	return found, nil
}

func (p *Network) topology(ctx context.Context, rc *karbor.RequestContext, project string) ([]graph.Resource, error) {
	ok, err := p.hasNetworks(ctx, rc, project)
	if err != nil || !ok {
		return []graph.Resource{}, err
	}
	return []graph.Resource{p.resource(rc.ProjectID, topologyName, nil)}, nil
}

// List returns the caller's project's topology, if it has a network.
func (p *Network) List(ctx context.Context, rc *karbor.RequestContext, _ protectables.Parameters) ([]graph.Resource, error) {
	return p.topology(ctx, rc, rc.ProjectID)
}

// Show returns the topology when id is the caller's project and it has a
// network, else nil.
func (p *Network) Show(ctx context.Context, rc *karbor.RequestContext, id string, _ protectables.Parameters) (*graph.Resource, error) {
	if id != rc.ProjectID {
		return nil, nil
	}
	res, err := p.topology(ctx, rc, id)
	if err != nil || len(res) == 0 {
		return nil, err
	}
	return &res[0], nil
}

// Dependents of a project: its topology, if it has a network.
func (p *Network) Dependents(ctx context.Context, rc *karbor.RequestContext, parent graph.Resource) ([]graph.Resource, error) {
	return p.topology(ctx, rc, parent.ID)
}
