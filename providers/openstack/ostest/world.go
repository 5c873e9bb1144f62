package ostest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
)

// RealWorld is what NewWorld made in the demo project of the real services.
type RealWorld struct {
	World
	// Prefix starts every name made, unique to the test.
	Prefix string
	// Queued are images created without data (status queued), to make
	// Glance's listing span pages.
	Queued []string
}

// Factory returns a client factory for the peers' karbor.conf.
func (p Peers) Factory(t testing.TB) *clients.Factory {
	t.Helper()
	return p.FactoryWith(t, "")
}

// FactoryWith returns a client factory for the peers' karbor.conf with
// more sections appended (a service's endpoint, for one).
func (p Peers) FactoryWith(t testing.TB, more string) *clients.Factory {
	t.Helper()
	f, err := config.ParseFile("karbor.conf", []byte(p.KarborConf()+more))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := clients.OptionsFrom(config.New(config.KarborRegistry(), []*config.File{f}, nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := clients.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewWorld creates, as the caller of rc, an active image, queued more
// images, two 1 GiB volumes, a network and a server booted from the image
// (no network) with the first volume attached; all deleted when the test
// ends.
func (p Peers) NewWorld(t testing.TB, rc karbor.RequestContext, queued int) RealWorld {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := p.Factory(t)
	client := func(svc clients.Service) *gophercloud.ServiceClient {
		sc, err := c.Client(ctx, &rc, svc)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	glance, cinder, nova, neutron := client(clients.Glance), client(clients.Cinder), client(clients.Nova), client(clients.Neutron)
	w := RealWorld{World: World{ProjectID: rc.ProjectID}, Prefix: "karbor-test-" + uuid.NewString()[:8]}
	cleanup := func(what string, err error) {
		if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("cleanup %s: %v", what, err)
		}
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	img, err := images.Create(ctx, glance, images.CreateOpts{Name: w.Prefix + "-image", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	must("create image", err)
	t.Cleanup(func() { cleanup("image", images.Delete(context.Background(), glance, img.ID).ExtractErr()) })
	must("upload image", imagedata.Upload(ctx, glance, img.ID, bytes.NewReader(make([]byte, 4096))).ExtractErr())
	w.Images = []string{img.ID}
	for i := range queued {
		q, err := images.Create(ctx, glance, images.CreateOpts{Name: fmt.Sprintf("%s-queued-%02d", w.Prefix, i)}).Extract()
		must("create queued image", err)
		t.Cleanup(func() { cleanup("image", images.Delete(context.Background(), glance, q.ID).ExtractErr()) })
		w.Queued = append(w.Queued, q.ID)
	}
	for i := range 2 {
		v, err := volumes.Create(ctx, cinder, volumes.CreateOpts{Size: 1, Name: fmt.Sprintf("%s-volume-%d", w.Prefix, i+1)}, nil).Extract()
		must("create volume", err)
		t.Cleanup(func() {
			// Nova detaches the volume after its server is gone.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			WaitFor(t, ctx, "volume detached", func() (bool, error) {
				got, err := volumes.Get(ctx, cinder, v.ID).Extract()
				return err != nil || !slices.Contains([]string{"in-use", "detaching", "creating", "attaching"}, got.Status), nil
			})
			cleanup("volume", volumes.Delete(ctx, cinder, v.ID, volumes.DeleteOpts{Cascade: true}).ExtractErr())
		})
		w.Volumes = append(w.Volumes, v.ID)
	}
	net, err := networks.Create(ctx, neutron, networks.CreateOpts{Name: w.Prefix + "-net"}).Extract()
	must("create network", err)
	t.Cleanup(func() { cleanup("network", networks.Delete(context.Background(), neutron, net.ID).ExtractErr()) })
	w.Network = net.ID

	pages, err := flavors.ListDetail(nova, nil).AllPages(ctx)
	must("list flavors", err)
	fl, err := flavors.ExtractFlavors(pages)
	must("list flavors", err)
	i := slices.IndexFunc(fl, func(f flavors.Flavor) bool { return f.Name == "m1.tiny" })
	if i < 0 {
		t.Fatal("no flavor m1.tiny (scripts/ensure-openstack.sh makes it)")
	}
	WaitFor(t, ctx, "image active", func() (bool, error) {
		got, err := images.Get(ctx, glance, img.ID).Extract()
		return err == nil && got.Status == images.ImageStatusActive, err
	})
	boot := *nova
	boot.Microversion = "2.37" // "networks": "none"
	srv, err := servers.Create(ctx, &boot, servers.CreateOpts{Name: w.Prefix + "-server", ImageRef: img.ID,
		FlavorRef: fl[i].ID, Networks: "none"}, nil).Extract()
	must("create server", err)
	t.Cleanup(func() {
		err := servers.Delete(context.Background(), nova, srv.ID).ExtractErr()
		cleanup("server", err)
		if err == nil {
			// The attached volume can only go once the server is gone.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			WaitFor(t, ctx, "server deleted", func() (bool, error) {
				_, err := servers.Get(ctx, nova, srv.ID).Extract()
				return gophercloud.ResponseCodeIs(err, 404), nil
			})
		}
	})
	w.Server = srv.ID
	for _, v := range w.Volumes {
		WaitFor(t, ctx, "volume available", func() (bool, error) {
			got, err := volumes.Get(ctx, cinder, v).Extract()
			return err == nil && got.Status == "available", err
		})
	}
	WaitFor(t, ctx, "server active", func() (bool, error) {
		got, err := servers.Get(ctx, nova, srv.ID).Extract()
		if err == nil && got.Status == "ERROR" {
			return false, fmt.Errorf("server went to ERROR: %v", got.Fault)
		}
		return err == nil && got.Status == "ACTIVE", err
	})
	_, err = volumeattach.Create(ctx, nova, srv.ID, volumeattach.CreateOpts{VolumeID: w.Volumes[0]}).Extract()
	must("attach volume", err)
	WaitFor(t, ctx, "volume in-use", func() (bool, error) {
		got, err := volumes.Get(ctx, cinder, w.Volumes[0]).Extract()
		return err == nil && got.Status == "in-use", err
	})
	return w
}

// WaitFor polls cond every 200 ms until it holds; an error from cond or
// the end of ctx fails the test.
func WaitFor(t testing.TB, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}
