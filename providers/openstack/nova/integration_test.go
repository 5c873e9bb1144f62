package nova_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
	_ "github.com/gokarbor/karbor-protection/providers/openstack/cinder" // the volumes' plugin
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	_ "github.com/gokarbor/karbor-protection/providers/openstack/glance" // the image's plugin
	"github.com/gokarbor/karbor-protection/providers/openstack/nova"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
)

// realWorld is a server of the real services (scripts/ensure-openstack.sh)
// as the demo user: booted from a small image on a network with a subnet,
// a 1 GiB volume attached; clients to look at what the plugins do.
type realWorld struct {
	peers                         ostest.Peers
	rc                            karbor.RequestContext
	nova, cinder, glance, neutron *gophercloud.ServiceClient
	prefix                        string
	server, volume, image, net    string
}

// plugins are the provider's plugins in the real tests: the server's, and
// the real ones of its dependents (the volume as a Cinder snapshot, the
// image copied into the bank).
var plugins = []string{nova.PluginName, "karbor-volume-snapshot-plugin", "karbor-image-protection-plugin"}

// pluginOptions poll every second; the image is protected as an image,
// since the fake virt driver cannot snapshot a server.
const pluginOptions = "[nova_backup_protection_plugin]\npoll_interval = 1\n" +
	"[volume_snapshot_plugin]\npoll_interval = 1\n" +
	"[image_backup_plugin]\npoll_interval = 1\nenable_server_snapshot = False\n"

func newRealWorld(t *testing.T) *realWorld {
	t.Helper()
	peers := ostest.RealPeers(t)
	f := peers.Factory(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := &realWorld{peers: peers, prefix: "karbor-test-nova-" + uuid.NewString()[:8]}
	// Keystone refuses tokens issued in the second of a revocation event
	// (other tests revoke the demo user's tokens): take one Nova accepts.
	ostest.WaitFor(t, ctx, "a token Nova accepts", func() (bool, error) {
		w.rc = peers.Context(t)
		c, err := f.Client(ctx, &w.rc, clients.Nova)
		if err != nil {
			return false, err
		}
		_, err = servers.Get(ctx, c, "00000000-0000-0000-0000-000000000000").Extract()
		var te *clients.TokenError
		if errors.As(err, &te) {
			return false, nil
		}
		w.nova = c
		return gophercloud.ResponseCodeIs(err, 404), nil
	})
	client := func(svc clients.Service) *gophercloud.ServiceClient {
		c, err := f.Client(ctx, &w.rc, svc)
		require.NoError(t, err)
		return c
	}
	w.cinder, w.glance, w.neutron = client(clients.Cinder), client(clients.Glance), client(clients.Neutron)

	img, err := images.Create(ctx, w.glance, images.CreateOpts{Name: w.prefix, DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	require.NoError(t, err)
	w.image = img.ID
	t.Cleanup(func() { w.deleteImage(t, img.ID) })
	require.NoError(t, imagedata.Upload(ctx, w.glance, img.ID, bytes.NewReader(bytes.Repeat([]byte("karbor"), 1000))).ExtractErr())
	vol, err := volumes.Create(ctx, w.cinder, volumes.CreateOpts{Size: 1, Name: w.prefix}, nil).Extract()
	require.NoError(t, err)
	w.volume = vol.ID
	t.Cleanup(func() { w.deleteVolume(t, vol.ID) })
	net, err := networks.Create(ctx, w.neutron, networks.CreateOpts{Name: w.prefix}).Extract()
	require.NoError(t, err)
	w.net = net.ID
	t.Cleanup(func() { _ = networks.Delete(context.Background(), w.neutron, net.ID).ExtractErr() })
	_, err = subnets.Create(ctx, w.neutron, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.97.1.0/24", IPVersion: gophercloud.IPv4}).Extract()
	require.NoError(t, err)

	w.wait(t, "image active", func(ctx context.Context) (bool, error) {
		got, err := images.Get(ctx, w.glance, img.ID).Extract()
		return err == nil && got.Status == images.ImageStatusActive, err
	})
	srv, err := servers.Create(ctx, w.nova, servers.CreateOpts{Name: w.prefix, ImageRef: img.ID, FlavorRef: w.flavor(t, ctx),
		Networks: []servers.Network{{UUID: net.ID}}}, nil).Extract()
	require.NoError(t, err)
	w.server = srv.ID
	t.Cleanup(func() { w.deleteServer(t, srv.ID) })
	w.wait(t, "volume available", func(ctx context.Context) (bool, error) {
		got, err := volumes.Get(ctx, w.cinder, vol.ID).Extract()
		return err == nil && got.Status == "available", err
	})
	w.waitActive(t, srv.ID)
	_, err = volumeattach.Create(ctx, w.nova, srv.ID, volumeattach.CreateOpts{VolumeID: vol.ID}).Extract()
	require.NoError(t, err)
	w.wait(t, "volume in-use", func(ctx context.Context) (bool, error) {
		got, err := volumes.Get(ctx, w.cinder, vol.ID).Extract()
		return err == nil && got.Status == "in-use", err
	})
	return w
}

func (w *realWorld) flavor(t *testing.T, ctx context.Context) string {
	pages, err := flavors.ListDetail(w.nova, nil).AllPages(ctx)
	require.NoError(t, err)
	all, err := flavors.ExtractFlavors(pages)
	require.NoError(t, err)
	i := slices.IndexFunc(all, func(f flavors.Flavor) bool { return f.Name == "m1.tiny" })
	require.GreaterOrEqual(t, i, 0, "no flavor m1.tiny (scripts/ensure-openstack.sh makes it)")
	return all[i].ID
}

func (w *realWorld) wait(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ostest.WaitFor(t, ctx, what, func() (bool, error) { return cond(ctx) })
}

func (w *realWorld) waitActive(t *testing.T, id string) {
	t.Helper()
	w.wait(t, "server "+id+" active", func(ctx context.Context) (bool, error) {
		got, err := servers.Get(ctx, w.nova, id).Extract()
		if err == nil && got.Status == "ERROR" {
			return false, fmt.Errorf("server %s went to ERROR: %v", id, got.Fault)
		}
		return err == nil && got.Status == "ACTIVE", err
	})
}

func (w *realWorld) deleteServer(t *testing.T, id string) {
	err := servers.Delete(context.Background(), w.nova, id).ExtractErr()
	if gophercloud.ResponseCodeIs(err, 404) {
		return
	}
	assert.NoError(t, err, "delete server %s", id)
	w.wait(t, "server "+id+" gone", func(ctx context.Context) (bool, error) {
		_, err := servers.Get(ctx, w.nova, id).Extract()
		return gophercloud.ResponseCodeIs(err, 404), nil
	})
}

// deleteVolume deletes a volume and its snapshots once it is detached.
func (w *realWorld) deleteVolume(t *testing.T, id string) {
	w.wait(t, "volume "+id+" settled", func(ctx context.Context) (bool, error) {
		v, err := volumes.Get(ctx, w.cinder, id).Extract()
		if gophercloud.ResponseCodeIs(err, 404) {
			return true, nil
		}
		return err == nil && !slices.Contains([]string{"creating", "in-use", "attaching", "detaching", "reserved"}, v.Status), err
	})
	err := volumes.Delete(context.Background(), w.cinder, id, volumes.DeleteOpts{Cascade: true}).ExtractErr()
	if gophercloud.ResponseCodeIs(err, 404) {
		return
	}
	assert.NoError(t, err, "delete volume %s", id)
	w.wait(t, "volume "+id+" gone", func(ctx context.Context) (bool, error) {
		_, err := volumes.Get(ctx, w.cinder, id).Extract()
		return gophercloud.ResponseCodeIs(err, 404), nil
	})
}

func (w *realWorld) deleteImage(t *testing.T, id string) {
	err := images.Delete(context.Background(), w.glance, id).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("delete image %s: %v", id, err)
	}
}

func (w *realWorld) env(t *testing.T, rc karbor.RequestContext) *env {
	e := newEnv(t, plugins, pluginOptions, w.peers.KarborConf(), &rc)
	// The volume is attached: Cinder snapshots it only when forced.
	e.planParams = karbor.Parameters{karbor.VolumeResourceType: {"force": "True"}}
	return e
}

func (w *realWorld) graph() graph.Graph {
	img := image(w.image)
	img.ExtraInfo = json.RawMessage(`{"server_id": "` + w.server + `"}`)
	return serverGraph(w.server, volume(w.volume), img)
}

// restoredServers lists the demo project's servers called name.
func (w *realWorld) restoredServers(t *testing.T, name string) []servers.Server {
	pages, err := servers.List(w.nova, servers.ListOpts{Name: "^" + name + "$"}).AllPages(context.Background())
	require.NoError(t, err)
	all, err := servers.ExtractServers(pages)
	require.NoError(t, err)
	return all
}

// cleanupRestored deletes what a restore made under the names of params.
func (w *realWorld) cleanupRestored(t *testing.T, name string) {
	t.Cleanup(func() {
		for _, s := range w.restoredServers(t, name) {
			w.deleteServer(t, s.ID)
		}
		pages, err := volumes.List(w.cinder, volumes.ListOpts{Name: name + "-volume"}).AllPages(context.Background())
		require.NoError(t, err)
		vols, err := volumes.ExtractVolumes(pages)
		require.NoError(t, err)
		for _, v := range vols {
			w.deleteVolume(t, v.ID)
		}
		pages, err = images.List(w.glance, images.ListOpts{Name: name + "-image"}).AllPages(context.Background())
		require.NoError(t, err)
		imgs, err := images.ExtractImages(pages)
		require.NoError(t, err)
		for _, i := range imgs {
			w.deleteImage(t, i.ID)
		}
	})
}

func restoreParams(name string) karbor.Parameters {
	return karbor.Parameters{
		karbor.ServerResourceType: {"restore_name": name},
		karbor.VolumeResourceType: {"restore_name": name + "-volume"},
		karbor.ImageResourceType:  {"restore_name": name + "-image"},
	}
}

// TestRealServer runs, on one server of the real services (booting one
// takes most of the time), protect → verify → restore → delete, then the
// failures: a restore whose server never starts, a protect with an invalid
// token.
func TestRealServer(t *testing.T) {
	w := newRealWorld(t)
	e := w.env(t, w.rc)
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Minute)
	defer cancel()

	cp, err := e.protect(t, ctx, w.graph())
	require.NoError(t, err)
	require.Equal(t, bank.StatusAvailable, cp.Status)
	var md struct {
		ResourceID     string                     `json:"resource_id"`
		AttachMetadata map[string]json.RawMessage `json:"attach_metadata"`
		BootMetadata   map[string]string          `json:"boot_metadata"`
		ServerMetadata struct {
			Networks []string `json:"networks"`
		} `json:"server_metadata"`
	}
	require.NoError(t, json.Unmarshal([]byte(e.section(t, cp, w.server, "metadata")), &md))
	assert.Equal(t, w.server, md.ResourceID)
	assert.Equal(t, map[string]string{"boot_device_type": "image", "boot_image_id": w.image}, md.BootMetadata)
	assert.Equal(t, []string{w.net}, md.ServerMetadata.Networks)
	require.Contains(t, md.AttachMetadata, w.volume)
	var att struct {
		ServerID string `json:"server_id"`
		Device   string `json:"device"`
		Bootable string `json:"bootable"`
	}
	require.NoError(t, json.Unmarshal(md.AttachMetadata[w.volume], &att))
	assert.Equal(t, w.server, att.ServerID)
	assert.NotEmpty(t, att.Device)
	assert.Equal(t, "false", att.Bootable)

	_, row, err := e.verify(t, cp)
	require.NoError(t, err)
	assert.Equal(t, karbor.VerificationStatusSuccess, last(row.Statuses))

	t.Run("restore boots the server with the restored volume attached", func(t *testing.T) {
		name := w.prefix + "-restored"
		w.cleanupRestored(t, name)
		rec, row, err := e.restoreWith(t, ctx, cp, restoreParams(name))
		require.NoError(t, err)
		assert.Equal(t, karbor.RestoreStatusSuccess, last(row.Statuses))
		statuses, _ := of(rec, karbor.ServerResourceType)
		assert.Equal(t, []string{"restoring", "available"}, statuses)
		restored := w.restoredServers(t, name)
		require.Len(t, restored, 1)
		got := restored[0]
		assert.Equal(t, "ACTIVE", got.Status)
		require.Len(t, got.AttachedVolumes, 1, "the restored volume is attached")
		vol, err := volumes.Get(ctx, w.cinder, got.AttachedVolumes[0].ID).Extract()
		require.NoError(t, err)
		assert.Equal(t, name+"-volume", vol.Name)
		assert.Equal(t, "in-use", vol.Status)
		require.Len(t, vol.Attachments, 1)
		assert.Equal(t, got.ID, vol.Attachments[0].ServerID)
		assert.Equal(t, att.Device, vol.Attachments[0].Device, "at the saved device")
		img, _ := got.Image["id"].(string)
		rimg, err := images.Get(ctx, w.glance, img).Extract()
		require.NoError(t, err)
		assert.Equal(t, name+"-image", rimg.Name, "booted from the restored image")
		assert.Contains(t, got.Addresses, w.prefix, "on the original network")
	})

	t.Run("a restored server that never starts is deleted", func(t *testing.T) {
		// A flavor no host can hold: the scheduler puts the server in
		// ERROR.
		name := w.prefix + "-never"
		w.cleanupRestored(t, name)
		params := restoreParams(name)
		params[karbor.ServerResourceType]["restore_flavor_id"] = w.hugeFlavor(t)
		rec, row, err := e.restoreWith(t, ctx, cp, params)
		require.Error(t, err)
		assert.Equal(t, karbor.RestoreStatusFailure, last(row.Statuses))
		statuses, reasons := of(rec, karbor.ServerResourceType)
		assert.Equal(t, []string{"restoring", "error"}, statuses)
		assert.Contains(t, reasons[1], "The server does not start successfully")
		assert.Contains(t, reasons[1], "is ERROR: No valid host was found")
		assert.Empty(t, w.restoredServers(t, name), "the server that failed is deleted")
	})

	require.NoError(t, e.delete(t, cp))
	assert.Equal(t, "deleted", e.section(t, cp, w.server, "status"))
	assert.True(t, e.missing(t, cp, w.server, "metadata"))
	w.noSnapshotsOf(t, w.volume)

	t.Run("an invalid token fails the protect with the reason", func(t *testing.T) {
		rc := w.rc
		rc.AuthToken = "invalid-" + w.prefix
		e := w.env(t, rc)
		cp, err := e.protect(t, ctx, w.graph())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Create Server Backup failed: get volume "+w.volume)
		assert.Contains(t, err.Error(), "cinder refused the request's token (expired, revoked or invalid)")
		assert.Equal(t, bank.StatusError, cp.Status)
		assert.Equal(t, "error", e.section(t, cp, w.server, "status"))
		w.noSnapshotsOf(t, w.volume)
	})
}

// noSnapshotsOf checks that nothing karbor made of the volume is left.
func (w *realWorld) noSnapshotsOf(t *testing.T, vol string) {
	t.Helper()
	w.wait(t, "snapshots of "+vol+" gone", func(ctx context.Context) (bool, error) {
		pages, err := snapshots.List(w.cinder, snapshots.ListOpts{VolumeID: vol}).AllPages(ctx)
		if err != nil {
			return false, err
		}
		all, err := snapshots.ExtractSnapshots(pages)
		return len(all) == 0, err
	})
}

// hugeFlavor makes, as admin, a public flavor bigger than the fake
// compute host, deleted when the test ends.
func (w *realWorld) hugeFlavor(t *testing.T) string {
	tok, body := w.peers.Token(t, w.peers.AdminUser, w.peers.AdminPass, w.peers.AdminProj)
	arc := ostest.ContextFromToken(t, tok, body)
	adm, err := w.peers.Factory(t).Client(context.Background(), &arc, clients.Nova)
	require.NoError(t, err)
	public := true
	fl, err := flavors.Create(context.Background(), adm, flavors.CreateOpts{Name: w.prefix + "-huge", RAM: 64, VCPUs: 1, Disk: gophercloud.IntToPointer(1000000), IsPublic: &public}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { _ = flavors.Delete(context.Background(), adm, fl.ID).ExtractErr() })
	return fl.ID
}
