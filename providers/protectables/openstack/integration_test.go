package openstack_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
	"github.com/gokarbor/karbor-protection/providers/protectables"
)

func byID(rs []graph.Resource) map[string]graph.Resource {
	m := map[string]graph.Resource{}
	for _, r := range rs {
		m[r.ID] = r
	}
	return m
}

// TestRealServices runs the protectables against the real Keystone, Nova,
// Cinder, Glance and Neutron (scripts/ensure-openstack.sh), as the demo
// user, a member of its project, with a token fresh from Keystone.
func TestRealServices(t *testing.T) {
	peers := ostest.RealPeers(t)
	rc := peers.Context(t)
	// Glance pages by 25 by default: more queued images than that make the
	// listing span pages.
	w := peers.NewWorld(t, rc, 26)
	reg := protectables.Load(quietCtx(), conf(t, peers.KarborConf()))
	ctx := quietCtx()
	az := extra(t, "availability_zone", "nova")
	server := graph.Resource{Type: karbor.ServerResourceType, ID: w.Server, Name: w.Prefix + "-server"}
	vol1 := graph.Resource{Type: karbor.VolumeResourceType, ID: w.Volumes[0], Name: w.Prefix + "-volume-1", ExtraInfo: az}
	vol2 := graph.Resource{Type: karbor.VolumeResourceType, ID: w.Volumes[1], Name: w.Prefix + "-volume-2", ExtraInfo: az}
	image := graph.Resource{Type: karbor.ImageResourceType, ID: w.Images[0], Name: w.Prefix + "-image"}
	topology := graph.Resource{Type: karbor.NetworkResourceType, ID: rc.ProjectID, Name: "Network Topology"}

	t.Run("list", func(t *testing.T) {
		got, err := reg.ListInstances(ctx, &rc, karbor.ServerResourceType, nil)
		require.NoError(t, err)
		assert.Equal(t, server, byID(got)[w.Server])

		got, err = reg.ListInstances(ctx, &rc, karbor.VolumeResourceType, nil)
		require.NoError(t, err)
		assert.Equal(t, vol1, byID(got)[vol1.ID])
		assert.Equal(t, vol2, byID(got)[vol2.ID])

		got, err = reg.ListInstances(ctx, &rc, karbor.ImageResourceType, nil)
		require.NoError(t, err)
		ids := byID(got)
		assert.Equal(t, image, ids[image.ID])
		for _, q := range w.Queued {
			assert.Contains(t, ids, q, "every page of Glance's listing")
		}

		got, err = reg.ListInstances(ctx, &rc, karbor.NetworkResourceType, nil)
		require.NoError(t, err)
		assert.Equal(t, []graph.Resource{topology}, got)
	})

	t.Run("show", func(t *testing.T) {
		for _, want := range []graph.Resource{server, vol1, image, topology} {
			got, err := reg.ShowInstance(ctx, &rc, want.Type, want.ID, nil)
			require.NoError(t, err, want.Type)
			assert.Equal(t, &want, got)
		}
		for _, typ := range []string{karbor.ServerResourceType, karbor.VolumeResourceType, karbor.ImageResourceType} {
			_, err := reg.ShowInstance(ctx, &rc, typ, "00000000-0000-0000-0000-000000000000", nil)
			require.ErrorIs(t, err, karbor.ExcProtectableResourceNotFound, typ)
		}
	})

	t.Run("dependents", func(t *testing.T) {
		got, err := reg.Dependents(ctx, &rc, server)
		require.NoError(t, err)
		bootImage := image
		bootImage.ExtraInfo = extra(t, "server_id", w.Server)
		assert.Equal(t, []graph.Resource{bootImage, vol1}, got)

		got, err = reg.Dependents(ctx, &rc, graph.Resource{Type: karbor.ProjectResourceType, ID: rc.ProjectID, Name: rc.ProjectName})
		require.NoError(t, err)
		ids := byID(got)
		for _, want := range []graph.Resource{server, vol1, vol2, image, topology} {
			assert.Equal(t, want, ids[want.ID], want.Type)
		}
		g, err := reg.BuildGraph(ctx, &rc, []graph.Resource{{Type: karbor.ProjectResourceType, ID: rc.ProjectID, Name: rc.ProjectName}})
		require.NoError(t, err)
		assert.NotEmpty(t, g)
	})

	t.Run("status filters", func(t *testing.T) {
		admin := peers.Factory(t)
		tok, body := peers.Token(t, peers.AdminUser, peers.AdminPass, peers.AdminProj)
		arc := ostest.ContextFromToken(t, tok, body)
		cinder, err := admin.Client(ctx, &arc, clients.Cinder)
		require.NoError(t, err)
		// An admin resets any project's volume through its own project's URL.
		require.NoError(t, volumes.ResetStatus(ctx, cinder, vol2.ID, volumes.ResetStatusOpts{Status: "error"}).ExtractErr())
		t.Cleanup(func() {
			assert.NoError(t, volumes.ResetStatus(context.Background(), cinder, vol2.ID, volumes.ResetStatusOpts{Status: "available"}).ExtractErr())
		})
		got, err := reg.ListInstances(ctx, &rc, karbor.VolumeResourceType, nil)
		require.NoError(t, err)
		assert.NotContains(t, byID(got), vol2.ID, "a volume in error is not protectable")
		assert.Contains(t, byID(got), vol1.ID)
		_, err = reg.ShowInstance(ctx, &rc, karbor.VolumeResourceType, vol2.ID, nil)
		require.ErrorIs(t, err, karbor.ExcProtectableResourceInvalidStatus)
		assert.Contains(t, err.Error(), "error")
	})

	t.Run("refused token", func(t *testing.T) {
		bad := rc
		bad.AuthToken = "gAAAAABnot-a-token"
		for _, typ := range []string{karbor.ServerResourceType, karbor.VolumeResourceType, karbor.ImageResourceType, karbor.NetworkResourceType} {
			_, err := reg.ListInstances(ctx, &bad, typ, nil)
			require.ErrorIs(t, err, karbor.ExcListProtectableResourceFailed, typ)
			assert.Contains(t, err.Error(), "refused the request's token", typ)
		}
		got, err := reg.Dependents(ctx, &bad, server)
		require.NoError(t, err, "dependents skip a plugin that cannot list, as in karbor")
		assert.Empty(t, got)
	})

	t.Run("another project sees none of it", func(t *testing.T) {
		tok, body := peers.Token(t, peers.AdminUser, peers.AdminPass, peers.AdminProj)
		arc := ostest.ContextFromToken(t, tok, body)
		got, err := reg.ListInstances(ctx, &arc, karbor.VolumeResourceType, nil)
		require.NoError(t, err)
		assert.False(t, slices.ContainsFunc(got, func(r graph.Resource) bool { return r.ID == vol1.ID }),
			"the admin's own project's volumes only")
		got, err = reg.ListInstances(ctx, &arc, karbor.NetworkResourceType, nil)
		require.NoError(t, err)
		for _, r := range got {
			assert.Equal(t, arc.ProjectID, r.ID, "the caller's project, not the first caller's")
		}
	})
}
