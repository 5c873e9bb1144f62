package openstack_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
	"github.com/gokarbor/karbor-protection/providers/protectables"
	"github.com/gokarbor/karbor-protection/providers/protectables/openstack"
	"github.com/gokarbor/karbor-protection/providers/protectables/unreachable"
)

func conf(t *testing.T, text string) *config.Config {
	t.Helper()
	f, err := config.ParseFile("karbor.conf", []byte(text))
	require.NoError(t, err)
	return config.New(config.KarborRegistry(), []*config.File{f}, nil)
}

func quietCtx() context.Context {
	l, _ := test.NewNullLogger()
	return logctx.With(context.Background(), logrus.NewEntry(l))
}

// fakeWorld is the registry over the fake services, as the program loads
// it, and the demo caller's context.
func fakeWorld(t *testing.T) (*ostest.Fake, *protectables.Registry, karbor.RequestContext) {
	t.Helper()
	f := ostest.NewFake(t)
	pid := f.World.ProjectID
	// Listings without "limit" answer with the first captured page, whose
	// links lead to the next ones.
	f.Alias("nova", "GET", "/v2.1/"+pid+"/servers/detail", "nova-servers-detail-page1")
	f.Alias("cinder", "GET", "/v3/"+pid+"/volumes/detail", "cinder-volumes-detail-page1")
	f.Alias("glance", "GET", "/v2/images", "glance-images-page1")
	c := conf(t, "[trustee]\nauth_type = password\nauth_url = "+f.URL("keystone")+"/v3\nusername = karbor\npassword = password\n"+
		"user_domain_id = default\nproject_name = service\nproject_domain_id = default\n")
	reg := protectables.Load(quietCtx(), c)
	t.Cleanup(func() { assert.Empty(t, f.Unmatched(), "requests nothing was captured for") })
	return f, reg, f.Context(t, "user-token", time.Now().Add(time.Hour))
}

func extra(t *testing.T, kv ...string) json.RawMessage {
	t.Helper()
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	return raw
}

func TestNewFallsBackWithoutTrustee(t *testing.T) {
	for name, fallback := range unreachable.Plugins() {
		p, err := openstack.New(name, nil, fallback)
		require.NoError(t, err)
		assert.Equal(t, fallback, p, name)
	}
	configured := conf(t, "[trustee]\nauth_type = password\nauth_url = http://127.0.0.1:1/v3\n")
	for name, fallback := range unreachable.Plugins() {
		p, err := openstack.New(name, configured, fallback)
		require.NoError(t, err)
		switch name {
		case "database", "pod", "share":
			assert.Equal(t, fallback, p, "%s has no OpenStack plugin here", name)
		default:
			assert.NotEqual(t, fallback, p, name)
			assert.Equal(t, fallback.Type, p.ResourceType())
			assert.Equal(t, fallback.Parents, p.ParentTypes())
		}
	}
	_, err := openstack.New("server", conf(t, "[trustee]\nauth_type = v3token\nauth_url = http://k\n"), unreachable.Plugins()["server"])
	require.Error(t, err)
}

func TestTypeGraphUnchanged(t *testing.T) {
	_, reg, _ := fakeWorld(t)
	assert.Equal(t, karbor.ProtectableLoadOrder(), reg.Types())
	info, err := reg.ShowType(karbor.ProjectResourceType)
	require.NoError(t, err)
	assert.Equal(t, []string{karbor.DatabaseResourceType, karbor.ImageResourceType, karbor.NetworkResourceType,
		karbor.PodResourceType, karbor.ServerResourceType, karbor.ShareResourceType, karbor.VolumeResourceType}, info.DependentTypes)
}

func TestListPagesThroughEveryPage(t *testing.T) {
	f, reg, rc := fakeWorld(t)
	ctx := quietCtx()
	w := f.World

	got, err := reg.ListInstances(ctx, &rc, karbor.ServerResourceType, nil)
	require.NoError(t, err)
	assert.Equal(t, []graph.Resource{{Type: karbor.ServerResourceType, ID: w.Server, Name: "capture-srv"}}, got)

	got, err = reg.ListInstances(ctx, &rc, karbor.VolumeResourceType, nil)
	require.NoError(t, err)
	az := extra(t, "availability_zone", "nova")
	assert.ElementsMatch(t, []graph.Resource{
		{Type: karbor.VolumeResourceType, ID: w.Volumes[0], Name: "capture-vol-1", ExtraInfo: az},
		{Type: karbor.VolumeResourceType, ID: w.Volumes[1], Name: "capture-vol-2", ExtraInfo: az},
	}, got)

	got, err = reg.ListInstances(ctx, &rc, karbor.ImageResourceType, nil)
	require.NoError(t, err)
	assert.Equal(t, []graph.Resource{
		{Type: karbor.ImageResourceType, ID: w.Images[1], Name: "capture-img-2"},
		{Type: karbor.ImageResourceType, ID: w.Images[0], Name: "capture-img-1"},
	}, got)

	got, err = reg.ListInstances(ctx, &rc, karbor.NetworkResourceType, nil)
	require.NoError(t, err)
	assert.Equal(t, []graph.Resource{{Type: karbor.NetworkResourceType, ID: w.ProjectID, Name: "Network Topology"}}, got)

	pages := map[string]int{}
	for _, r := range f.Requests() {
		pages[r.Service]++
	}
	assert.Equal(t, map[string]int{"keystone": 4, "nova": 2, "cinder": 3, "glance": 3, "neutron": 1}, pages,
		"every page of every listing, one trustee token per plugin, one network is enough")
}

func TestShow(t *testing.T) {
	f, reg, rc := fakeWorld(t)
	ctx := quietCtx()
	w := f.World
	missing := "00000000-0000-0000-0000-000000000000"

	for _, c := range []struct {
		typ, id string
		want    *graph.Resource
	}{
		{karbor.ServerResourceType, w.Server, &graph.Resource{Type: karbor.ServerResourceType, ID: w.Server, Name: "capture-srv"}},
		{karbor.VolumeResourceType, w.Volumes[0], &graph.Resource{Type: karbor.VolumeResourceType, ID: w.Volumes[0], Name: "capture-vol-1",
			ExtraInfo: extra(t, "availability_zone", "nova")}},
		{karbor.ImageResourceType, w.Images[0], &graph.Resource{Type: karbor.ImageResourceType, ID: w.Images[0], Name: "capture-img-1"}},
		{karbor.NetworkResourceType, w.ProjectID, &graph.Resource{Type: karbor.NetworkResourceType, ID: w.ProjectID, Name: "Network Topology"}},
		{karbor.NetworkResourceType, "another-project", nil},
	} {
		got, err := reg.ShowInstance(ctx, &rc, c.typ, c.id, nil)
		require.NoError(t, err, c.typ)
		assert.Equal(t, c.want, got, c.typ)
	}
	for _, typ := range []string{karbor.ServerResourceType, karbor.VolumeResourceType, karbor.ImageResourceType} {
		_, err := reg.ShowInstance(ctx, &rc, typ, missing, nil)
		require.ErrorIs(t, err, karbor.ExcProtectableResourceNotFound, typ)
		assert.Contains(t, err.Error(), "404", typ)
	}
}

func TestDependents(t *testing.T) {
	f, reg, rc := fakeWorld(t)
	ctx := quietCtx()
	w := f.World
	az := extra(t, "availability_zone", "nova")

	got, err := reg.Dependents(ctx, &rc, graph.Resource{Type: karbor.ServerResourceType, ID: w.Server, Name: "capture-srv"})
	require.NoError(t, err)
	assert.Equal(t, []graph.Resource{
		{Type: karbor.ImageResourceType, ID: w.Images[0], Name: "capture-img-1", ExtraInfo: extra(t, "server_id", w.Server)},
		{Type: karbor.VolumeResourceType, ID: w.Volumes[0], Name: "capture-vol-1", ExtraInfo: az},
	}, got, "the boot image (which switches the image plugin to a server snapshot) and the attached volume")

	got, err = reg.Dependents(ctx, &rc, graph.Resource{Type: karbor.ProjectResourceType, ID: w.ProjectID, Name: "demo"})
	require.NoError(t, err)
	var types []string
	for _, r := range got {
		types = append(types, r.Type)
	}
	assert.Equal(t, []string{karbor.ImageResourceType, karbor.ImageResourceType, karbor.NetworkResourceType,
		karbor.ServerResourceType, karbor.VolumeResourceType, karbor.VolumeResourceType}, types,
		"database, pod and share fail and are skipped, as without OpenStack")

	// A pod's volumes need Kubernetes: the unreachable answer.
	_, err = reg.Dependents(ctx, &rc, graph.Resource{Type: karbor.PodResourceType, ID: "p", Name: "ns:pod"})
	require.ErrorIs(t, err, karbor.ExcProtectableResourceNotFound)
}

func TestNetworkOfProjectWithoutNetworks(t *testing.T) {
	_, reg, rc := fakeWorld(t)
	got, err := reg.Dependents(quietCtx(), &rc, graph.Resource{Type: karbor.ProjectResourceType, ID: "00000000000000000000000000000000"})
	require.NoError(t, err)
	for _, r := range got {
		assert.NotEqual(t, karbor.NetworkResourceType, r.Type)
	}
}

func TestRefusedTokenIsAListFailure(t *testing.T) {
	f, reg, _ := fakeWorld(t)
	rc := f.Context(t, ostest.ExpiredToken, time.Now().Add(time.Hour))
	ctx := quietCtx()
	for _, typ := range []string{karbor.ServerResourceType, karbor.VolumeResourceType, karbor.ImageResourceType, karbor.NetworkResourceType} {
		_, err := reg.ListInstances(ctx, &rc, typ, nil)
		require.ErrorIs(t, err, karbor.ExcListProtectableResourceFailed, typ)
		assert.Contains(t, err.Error(), "refused the request's token", typ)
	}
	_, err := reg.ShowInstance(ctx, &rc, karbor.ServerResourceType, f.World.Server, nil)
	require.ErrorIs(t, err, karbor.ExcProtectableResourceNotFound)
	assert.Contains(t, err.Error(), "refused the request's token")

	expired := f.Context(t, "user-token", time.Now().Add(-time.Second))
	_, err = reg.ListInstances(ctx, &expired, karbor.VolumeResourceType, nil)
	require.ErrorIs(t, err, karbor.ExcListProtectableResourceFailed)
	assert.Contains(t, err.Error(), "the token expired at")
}
