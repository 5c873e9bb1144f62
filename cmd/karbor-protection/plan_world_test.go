package main_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// The resources the plan test protects, in a project of its own, and the
// clean-up of everything it makes in OpenStack, restores included,
// whatever happened to the test.

// ownProject makes a project of the test's own in the default domain,
// the demo user a member of it, and returns the peers with it as the demo
// user's project. The project is deleted when the test ends, so call it
// before making anything in it (cleanups run last-in first-out). The
// plan's network is the whole project's topology, which a restore makes
// again: in the demo project that would be other tests' objects too,
// which they change meanwhile.
func ownProject(t *testing.T, peers ostest.Peers) ostest.Peers {
	t.Helper()
	ctx := context.Background()
	admin, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: peers.AuthURL,
		Username: peers.AdminUser, Password: peers.AdminPass, DomainID: "default",
		Scope: &gophercloud.AuthScope{ProjectName: peers.AdminProj, DomainID: "default"}})
	require.NoError(t, err)
	keystone, err := openstack.NewIdentityV3(admin, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	p, err := projects.Create(ctx, keystone, projects.CreateOpts{Name: "karbor-e2e-" + uuid.NewString()[:8], DomainID: "default"}).Extract()
	require.NoError(t, err)
	neutron, err := openstack.NewNetworkV2(admin, gophercloud.EndpointOpts{})
	require.NoError(t, err)
	t.Cleanup(func() {
		// Neutron made the project's default security group, which only
		// an admin may delete, and keeps it when the project goes.
		ctx := context.Background()
		pages, err := groups.List(neutron, groups.ListOpts{ProjectID: p.ID}).AllPages(ctx)
		if err == nil {
			var gs []groups.SecGroup
			if gs, err = groups.ExtractGroups(pages); err == nil {
				for _, g := range gs {
					if err := groups.Delete(ctx, neutron, g.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
						t.Errorf("delete security group %s: %v", g.ID, err)
					}
				}
			}
		}
		if err != nil {
			t.Errorf("list the security groups of project %s: %v", p.ID, err)
		}
		if err := projects.Delete(ctx, keystone, p.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("delete project %s: %v", p.ID, err)
		}
	})
	pages, err := users.List(keystone, users.ListOpts{Name: peers.User, DomainID: "default"}).AllPages(ctx)
	require.NoError(t, err)
	us, err := users.ExtractUsers(pages)
	require.NoError(t, err)
	require.Len(t, us, 1, "user %s", peers.User)
	pages, err = roles.List(keystone, roles.ListOpts{Name: "member"}).AllPages(ctx)
	require.NoError(t, err)
	rs, err := roles.ExtractRoles(pages)
	require.NoError(t, err)
	require.Len(t, rs, 1, "role member")
	require.NoError(t, roles.Assign(ctx, keystone, rs[0].ID, roles.AssignOpts{UserID: us[0].ID, ProjectID: p.ID}).ExtractErr())
	peers.Project = p.Name
	return peers
}

// clientsOf are the demo user's clients of the services the plan's
// resources live in, with the token of the API's context.
type clientsOf struct {
	cinder, glance, nova, neutron *gophercloud.ServiceClient
}

func openstackClients(t *testing.T, peers ostest.Peers, rc karbor.RequestContext) clientsOf {
	t.Helper()
	f := peers.Factory(t)
	client := func(svc clients.Service) *gophercloud.ServiceClient {
		c, err := f.Client(context.Background(), &rc, svc)
		require.NoError(t, err)
		return c
	}
	return clientsOf{cinder: client(clients.Cinder), glance: client(clients.Glance), nova: client(clients.Nova), neutron: client(clients.Neutron)}
}

// waitOS polls cond for up to two minutes; an error from cond fails the
// test.
func waitOS(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ostest.WaitFor(t, ctx, what, func() (bool, error) { return cond(ctx) })
}

// volumeFiles is where the test deployment's file-backed Cinder driver
// keeps each volume's bytes, "" when they are not on this machine.
func volumeFiles() string {
	dir := filepath.Join(rpctest.EnvOr("KARBOR_TEST_PEERS_DIR", "/var/lib/karbor-test-peers"), "cinder", "files")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// volumeOffsets are where a test volume gets known bytes: its first block
// and one in the middle.
var volumeOffsets = []int64{0, 512 << 20}

// deleteVolumes deletes the volumes named name (restores of a failed run
// included), their backups and snapshots, and waits until they are gone.
func deleteVolumes(t *testing.T, c *gophercloud.ServiceClient, name string) {
	t.Helper()
	pages, err := volumes.List(c, volumes.ListOpts{Name: name}).AllPages(context.Background())
	if err != nil {
		t.Errorf("list volumes %s: %v", name, err)
		return
	}
	vs, err := volumes.ExtractVolumes(pages)
	if err != nil {
		t.Errorf("list volumes %s: %v", name, err)
		return
	}
	for _, v := range vs {
		ostest.DeleteBackups(t, c, v.ID)
		waitOS(t, "volume "+v.ID+" settled", func(ctx context.Context) (bool, error) {
			got, err := volumes.Get(ctx, c, v.ID).Extract()
			if gophercloud.ResponseCodeIs(err, 404) {
				return true, nil
			}
			return err == nil && !slices.Contains([]string{"creating", "restoring-backup", "backing-up", "in-use", "attaching", "detaching"}, got.Status), err
		})
		if err := volumes.Delete(context.Background(), c, v.ID, volumes.DeleteOpts{Cascade: true}).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("delete volume %s: %v", v.ID, err)
			continue
		}
		waitOS(t, "volume "+v.ID+" gone", func(ctx context.Context) (bool, error) {
			_, err := volumes.Get(ctx, c, v.ID).Extract()
			return gophercloud.ResponseCodeIs(err, 404), nil
		})
	}
}

// deleteImages deletes the images named name.
func deleteImages(t *testing.T, c *gophercloud.ServiceClient, name string) {
	t.Helper()
	pages, err := images.List(c, images.ListOpts{Name: name}).AllPages(context.Background())
	if err != nil {
		t.Errorf("list images %s: %v", name, err)
		return
	}
	is, err := images.ExtractImages(pages)
	if err != nil {
		t.Errorf("list images %s: %v", name, err)
		return
	}
	for _, i := range is {
		if err := images.Delete(context.Background(), c, i.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("delete image %s: %v", i.ID, err)
		}
	}
}

// serversNamed lists the servers named exactly name (Nova's name filter is
// a regular expression).
func serversNamed(ctx context.Context, c *gophercloud.ServiceClient, name string) ([]servers.Server, error) {
	pages, err := servers.List(c, servers.ListOpts{Name: "^" + regexp.QuoteMeta(name) + "$"}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	return servers.ExtractServers(pages)
}

// deleteServers deletes the servers named name and waits until they are
// gone, so that their volumes are detached.
func deleteServers(t *testing.T, c *gophercloud.ServiceClient, name string) {
	t.Helper()
	ss, err := serversNamed(context.Background(), c, name)
	if err != nil {
		t.Errorf("list servers %s: %v", name, err)
		return
	}
	for _, s := range ss {
		if err := servers.Delete(context.Background(), c, s.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("delete server %s: %v", s.ID, err)
			continue
		}
		waitOS(t, "server "+s.ID+" gone", func(ctx context.Context) (bool, error) {
			_, err := servers.Get(ctx, c, s.ID).Extract()
			return gophercloud.ResponseCodeIs(err, 404), nil
		})
	}
}

// planResources are what the test protects: a server
// booted from an image of known bytes, with a 1 GiB volume of known bytes
// attached, and a network.
type planResources struct {
	prefix                         string
	volume, image, server, network string
	volumeData                     []byte // nil when the volume's bytes are not reachable
	imageData                      []byte
	imageChecksum                  string
	volumeName, imageName, srvName string
	netName                        string
	restoredVolume, restoredImage  string // names the restore gives
	restoredServer                 string
}

// createResources makes the plan's resources and has everything named
// after them (their restores included) deleted when the test ends.
func createResources(t *testing.T, oc clientsOf) planResources {
	t.Helper()
	p := "karbor-e2e-" + uuid.NewString()[:8]
	r := planResources{prefix: p, volumeName: p + "-volume", imageName: p + "-image", srvName: p + "-server", netName: p + "-net",
		restoredVolume: p + "-volume-restored", restoredImage: p + "-image-restored", restoredServer: p + "-server-restored"}
	ctx := context.Background()

	// Cleanups run last-in first-out: the servers go before the volumes
	// attached to them, the restores before the originals whose backups
	// they came from.
	v, err := volumes.Create(ctx, oc.cinder, volumes.CreateOpts{Size: 1, Name: r.volumeName}, nil).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { deleteVolumes(t, oc.cinder, r.volumeName) })
	t.Cleanup(func() { deleteVolumes(t, oc.cinder, r.restoredVolume) })
	r.volume = v.ID

	r.imageData = make([]byte, 3*131072+77)
	_, _ = rand.Read(r.imageData)
	sum := md5.Sum(r.imageData)
	r.imageChecksum = hex.EncodeToString(sum[:])
	img, err := images.Create(ctx, oc.glance, images.CreateOpts{Name: r.imageName, DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { deleteImages(t, oc.glance, r.imageName) })
	t.Cleanup(func() { deleteImages(t, oc.glance, r.restoredImage) })
	r.image = img.ID
	require.NoError(t, imagedata.Upload(ctx, oc.glance, img.ID, bytes.NewReader(r.imageData)).ExtractErr())

	n, err := networks.Create(ctx, oc.neutron, networks.CreateOpts{Name: r.netName}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := networks.Delete(context.Background(), oc.neutron, n.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("delete network %s: %v", n.ID, err)
		}
	})
	r.network = n.ID

	waitOS(t, "volume available", func(ctx context.Context) (bool, error) {
		got, err := volumes.Get(ctx, oc.cinder, v.ID).Extract()
		if err == nil && got.Status == "error" {
			return false, errors.New("the volume went to error")
		}
		return err == nil && got.Status == "available", err
	})
	if files := volumeFiles(); files != "" {
		r.volumeData = []byte(r.prefix + " volume " + uuid.NewString())
		f, err := os.OpenFile(filepath.Join(files, "volume-"+v.ID), os.O_WRONLY, 0)
		require.NoError(t, err)
		for _, off := range volumeOffsets {
			_, err = f.WriteAt(r.volumeData, off)
			require.NoError(t, err)
		}
		require.NoError(t, f.Close())
	}
	waitOS(t, "image active", func(ctx context.Context) (bool, error) {
		got, err := images.Get(ctx, oc.glance, img.ID).Extract()
		return err == nil && got.Status == images.ImageStatusActive, err
	})

	pages, err := flavors.ListDetail(oc.nova, nil).AllPages(ctx)
	require.NoError(t, err)
	fl, err := flavors.ExtractFlavors(pages)
	require.NoError(t, err)
	i := slices.IndexFunc(fl, func(f flavors.Flavor) bool { return f.Name == "m1.tiny" })
	require.GreaterOrEqual(t, i, 0, "flavor m1.tiny (scripts/ensure-openstack.sh makes it)")
	// No network: the test ML2 driver binds ports only on its own host,
	// and the server's networks are restored as they were saved anyway.
	boot := *oc.nova
	boot.Microversion = "2.37" // "networks": "none"
	srv, err := servers.Create(ctx, &boot, servers.CreateOpts{Name: r.srvName, ImageRef: img.ID, FlavorRef: fl[i].ID, Networks: "none"}, nil).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { deleteServers(t, oc.nova, r.srvName) })
	t.Cleanup(func() { deleteServers(t, oc.nova, r.restoredServer) })
	r.server = srv.ID
	waitOS(t, "server active", func(ctx context.Context) (bool, error) {
		got, err := servers.Get(ctx, oc.nova, srv.ID).Extract()
		if err == nil && got.Status == "ERROR" {
			return false, fmt.Errorf("server went to ERROR: %v", got.Fault)
		}
		return err == nil && got.Status == "ACTIVE", err
	})
	_, err = volumeattach.Create(ctx, oc.nova, srv.ID, volumeattach.CreateOpts{VolumeID: v.ID}).Extract()
	require.NoError(t, err)
	waitOS(t, "volume in-use", func(ctx context.Context) (bool, error) {
		got, err := volumes.Get(ctx, oc.cinder, v.ID).Extract()
		return err == nil && got.Status == "in-use", err
	})
	return r
}

// topology is a project's Neutron objects by id.
type topology struct {
	networks map[string]networks.Network
	subnets  map[string]subnets.Subnet
	ports    map[string]ports.Port
	routers  map[string]routers.Router
	groups   map[string]groups.SecGroup
}

func listTopology(t *testing.T, c *gophercloud.ServiceClient, project string) topology {
	t.Helper()
	ctx := context.Background()
	top := topology{networks: map[string]networks.Network{}, subnets: map[string]subnets.Subnet{}, ports: map[string]ports.Port{},
		routers: map[string]routers.Router{}, groups: map[string]groups.SecGroup{}}
	pn, err := networks.List(c, networks.ListOpts{ProjectID: project}).AllPages(ctx)
	require.NoError(t, err)
	ns, err := networks.ExtractNetworks(pn)
	require.NoError(t, err)
	for _, n := range ns {
		top.networks[n.ID] = n
	}
	ps, err := subnets.List(c, subnets.ListOpts{ProjectID: project}).AllPages(ctx)
	require.NoError(t, err)
	ss, err := subnets.ExtractSubnets(ps)
	require.NoError(t, err)
	for _, s := range ss {
		top.subnets[s.ID] = s
	}
	pp, err := ports.List(c, ports.ListOpts{ProjectID: project}).AllPages(ctx)
	require.NoError(t, err)
	pts, err := ports.ExtractPorts(pp)
	require.NoError(t, err)
	for _, p := range pts {
		top.ports[p.ID] = p
	}
	pr, err := routers.List(c, routers.ListOpts{ProjectID: project}).AllPages(ctx)
	require.NoError(t, err)
	rs, err := routers.ExtractRouters(pr)
	require.NoError(t, err)
	for _, r := range rs {
		top.routers[r.ID] = r
	}
	pg, err := groups.List(c, groups.ListOpts{ProjectID: project}).AllPages(ctx)
	require.NoError(t, err)
	gs, err := groups.ExtractGroups(pg)
	require.NoError(t, err)
	for _, g := range gs {
		top.groups[g.ID] = g
	}
	return top
}

// savedTopology is what the network plugin saved of the topology: the
// names of the objects a restore re-creates by name.
type savedTopology struct {
	Networks map[string]struct{ Name string } `json:"network_metadata"`
	Routers  map[string]struct{ Name string } `json:"router_metadata"`
	Groups   map[string]struct{ Name string } `json:"security-group_metadata"`
}

func names[V any](m map[string]V, name func(V) string) map[string]bool {
	out := map[string]bool{}
	for _, v := range m {
		out[name(v)] = true
	}
	return out
}

// restoredTopology is what a restore of saved made, between the listings
// before and after: the new networks of a saved name, the new subnets and
// ports on them, and the new routers and security groups of a saved name.
// Objects other tests make meanwhile have names of their own.
func restoredTopology(before, after topology, saved savedTopology) topology {
	made := topology{networks: map[string]networks.Network{}, subnets: map[string]subnets.Subnet{}, ports: map[string]ports.Port{},
		routers: map[string]routers.Router{}, groups: map[string]groups.SecGroup{}}
	netNames := names(saved.Networks, func(n struct{ Name string }) string { return n.Name })
	for id, n := range after.networks {
		if _, old := before.networks[id]; !old && netNames[n.Name] {
			made.networks[id] = n
		}
	}
	for id, s := range after.subnets {
		if _, old := before.subnets[id]; !old {
			if _, ok := made.networks[s.NetworkID]; ok {
				made.subnets[id] = s
			}
		}
	}
	for id, p := range after.ports {
		if _, old := before.ports[id]; !old {
			if _, ok := made.networks[p.NetworkID]; ok {
				made.ports[id] = p
			}
		}
	}
	routerNames := names(saved.Routers, func(n struct{ Name string }) string { return n.Name })
	for id, r := range after.routers {
		if _, old := before.routers[id]; !old && routerNames[r.Name] {
			made.routers[id] = r
		}
	}
	groupNames := names(saved.Groups, func(n struct{ Name string }) string { return n.Name })
	for id, g := range after.groups {
		// The project's default group is never made again.
		if _, old := before.groups[id]; !old && groupNames[g.Name] && g.Name != "default" {
			made.groups[id] = g
		}
	}
	return made
}

// removeTopology deletes made: router interfaces first, then ports,
// routers, subnets, networks and security groups.
func removeTopology(t *testing.T, c *gophercloud.ServiceClient, made topology) {
	t.Helper()
	ctx := context.Background()
	ok := func(what string, err error) {
		if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("remove restored %s: %v", what, err)
		}
	}
	for id, p := range made.ports {
		if p.DeviceOwner == "network:router_interface" {
			_, err := routers.RemoveInterface(ctx, c, p.DeviceID, routers.RemoveInterfaceOpts{PortID: id}).Extract()
			ok("router interface "+id, err)
		}
	}
	for id, p := range made.ports {
		if p.DeviceOwner != "network:router_interface" {
			ok("port "+id, ports.Delete(ctx, c, id).ExtractErr())
		}
	}
	for id := range made.routers {
		ok("router "+id, routers.Delete(ctx, c, id).ExtractErr())
	}
	for id := range made.subnets {
		ok("subnet "+id, subnets.Delete(ctx, c, id).ExtractErr())
	}
	for id := range made.networks {
		ok("network "+id, networks.Delete(ctx, c, id).ExtractErr())
	}
	for id := range made.groups {
		ok("security group "+id, groups.Delete(ctx, c, id).ExtractErr())
	}
}
