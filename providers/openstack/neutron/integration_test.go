package neutron_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
)

// realNeutron is a project of the test's own in the real Neutron
// (scripts/ensure-openstack.sh), the demo user a member, with a small
// topology: a network with a subnet, a router (administratively down) with
// an interface on it, a security group with rules and a port; all named
// with a prefix unique to the test and removed when it ends.
type realNeutron struct {
	peers  ostest.Peers
	rc     karbor.RequestContext
	c      *gophercloud.ServiceClient
	prefix string
	cidr   string

	net, subnet, router, group, port string
}

// keystone makes an admin request to Keystone and decodes the answer into
// out (when given).
func keystone(t *testing.T, peers ostest.Peers, token, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, peers.AuthURL+path, rd)
	require.NoError(t, err)
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Less(t, resp.StatusCode, 300, "%s %s: HTTP %d", method, path, resp.StatusCode)
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
}

// project makes a project of its own for the test, with the demo user as
// a member, and deletes it when the test ends: the plugin protects and
// restores a whole project's topology, and the demo project's holds other
// tests' objects, which they change meanwhile.
func project(t *testing.T, peers ostest.Peers, name string) {
	t.Helper()
	admin, _ := peers.Token(t, peers.AdminUser, peers.AdminPass, peers.AdminProj)
	var p struct {
		Project struct {
			ID string `json:"id"`
		} `json:"project"`
	}
	keystone(t, peers, admin, http.MethodPost, "/projects", map[string]any{"project": map[string]any{"name": name, "domain_id": "default"}}, &p)
	t.Cleanup(func() { keystone(t, peers, admin, http.MethodDelete, "/projects/"+p.Project.ID, nil, nil) })
	var users struct {
		Users []struct {
			ID string `json:"id"`
		} `json:"users"`
	}
	keystone(t, peers, admin, http.MethodGet, "/users?name="+peers.User, nil, &users)
	var roles struct {
		Roles []struct {
			ID string `json:"id"`
		} `json:"roles"`
	}
	keystone(t, peers, admin, http.MethodGet, "/roles?name=member", nil, &roles)
	require.Len(t, users.Users, 1)
	require.Len(t, roles.Roles, 1)
	keystone(t, peers, admin, http.MethodPut, "/projects/"+p.Project.ID+"/users/"+users.Users[0].ID+"/roles/"+roles.Roles[0].ID, nil, nil)
}

func newRealNeutron(t *testing.T) *realNeutron {
	peers := ostest.RealPeers(t)
	f := peers.Factory(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := &realNeutron{peers: peers, prefix: "karbor-test-" + uuid.NewString()[:8]}
	project(t, peers, r.prefix)
	// Keystone refuses tokens issued in the second of a revocation event
	// (other tests revoke the demo user's tokens): take one Neutron accepts.
	ostest.WaitFor(t, ctx, "a token Neutron accepts", func() (bool, error) {
		tok, body := peers.Token(t, peers.User, peers.Password, r.prefix)
		r.rc = ostest.ContextFromToken(t, tok, body)
		var err error
		if r.c, err = f.Client(ctx, &r.rc, clients.Neutron); err != nil {
			return false, err
		}
		_, err = networks.Get(ctx, r.c, "00000000-0000-0000-0000-000000000000").Extract()
		var te *clients.TokenError
		if errors.As(err, &te) {
			return false, nil
		}
		if gophercloud.ResponseCodeIs(err, 404) {
			return true, nil
		}
		return false, err
	})
	// Neutron gives the project a default group, which only an admin may
	// remove.
	tok, body := peers.Token(t, peers.AdminUser, peers.AdminPass, peers.AdminProj)
	arc := ostest.ContextFromToken(t, tok, body)
	adm, err := f.Client(ctx, &arc, clients.Neutron)
	require.NoError(t, err)
	projectID := r.rc.ProjectID
	t.Cleanup(func() {
		ctx := context.Background()
		pages, err := groups.List(adm, groups.ListOpts{ProjectID: projectID}).AllPages(ctx)
		if err == nil {
			var gs []groups.SecGroup
			if gs, err = groups.ExtractGroups(pages); err == nil {
				for _, g := range gs {
					if err := groups.Delete(ctx, adm, g.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
						t.Errorf("cleanup group %s: %v", g.ID, err)
					}
				}
			}
		}
		if err != nil {
			t.Errorf("cleanup the project's groups: %v", err)
		}
	})
	r.cidr = fmt.Sprintf("10.%d.%d.0/24", 100+rand.IntN(100), rand.IntN(250))
	r.build(t)
	return r
}

func (r *realNeutron) must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// gone deletes an object at the end of the test (404: already gone).
func (r *realNeutron) gone(t *testing.T, what string, del func(ctx context.Context) error) {
	t.Cleanup(func() {
		if err := del(context.Background()); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("cleanup %s: %v", what, err)
		}
	})
}

func (r *realNeutron) build(t *testing.T) {
	ctx := context.Background()
	down, up := false, true
	n, err := networks.Create(ctx, r.c, networks.CreateOpts{Name: r.prefix + "-net", AdminStateUp: &up}).Extract()
	r.must(t, "create network", err)
	r.gone(t, "network", func(ctx context.Context) error { return networks.Delete(ctx, r.c, n.ID).ExtractErr() })
	r.net = n.ID
	gw := strings.TrimSuffix(r.cidr, "0/24") + "1"
	s, err := subnets.Create(ctx, r.c, subnets.CreateOpts{NetworkID: n.ID, Name: r.prefix + "-subnet", CIDR: r.cidr, IPVersion: 4,
		GatewayIP: &gw, DNSNameservers: []string{"192.0.2.53"}}).Extract()
	r.must(t, "create subnet", err)
	r.gone(t, "subnet", func(ctx context.Context) error { return subnets.Delete(ctx, r.c, s.ID).ExtractErr() })
	r.subnet = s.ID
	rt, err := routers.Create(ctx, r.c, routers.CreateOpts{Name: r.prefix + "-router", AdminStateUp: &down}).Extract()
	r.must(t, "create router", err)
	r.gone(t, "router", func(ctx context.Context) error { return routers.Delete(ctx, r.c, rt.ID).ExtractErr() })
	r.router = rt.ID
	_, err = routers.AddInterface(ctx, r.c, rt.ID, routers.AddInterfaceOpts{SubnetID: s.ID}).Extract()
	r.must(t, "add router interface", err)
	r.gone(t, "router interface", func(ctx context.Context) error {
		_, err := routers.RemoveInterface(ctx, r.c, rt.ID, routers.RemoveInterfaceOpts{SubnetID: s.ID}).Extract()
		return err
	})
	g, err := groups.Create(ctx, r.c, groups.CreateOpts{Name: r.prefix + "-sg", Description: "karbor test"}).Extract()
	r.must(t, "create security group", err)
	r.gone(t, "security group", func(ctx context.Context) error { return groups.Delete(ctx, r.c, g.ID).ExtractErr() })
	r.group = g.ID
	_, err = rules.Create(ctx, r.c, rules.CreateOpts{SecGroupID: g.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22, RemoteIPPrefix: "0.0.0.0/0"}).Extract()
	r.must(t, "create rule", err)
	_, err = rules.Create(ctx, r.c, rules.CreateOpts{SecGroupID: g.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
		RemoteGroupID: g.ID}).Extract()
	r.must(t, "create rule", err)
	ip := strings.TrimSuffix(r.cidr, "0/24") + "50"
	p, err := ports.Create(ctx, r.c, ports.CreateOpts{NetworkID: n.ID, Name: r.prefix + "-port", SecurityGroups: &[]string{g.ID},
		FixedIPs: []ports.IP{{SubnetID: s.ID, IPAddress: ip}}}).Extract()
	r.must(t, "create port", err)
	r.gone(t, "port", func(ctx context.Context) error { return ports.Delete(ctx, r.c, p.ID).ExtractErr() })
	r.port = p.ID
}

// removeRestored removes what a restore made (its new_resources), the
// router interfaces first.
func (r *realNeutron) removeRestored(t *testing.T, made map[string]string, md map[string]map[string]map[string]any) {
	t.Helper()
	ctx := context.Background()
	ok := func(what string, err error) {
		if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("remove restored %s: %v", what, err)
		}
	}
	for orig, p := range md["port_metadata"] {
		if p["device_owner"] != "network:router_interface" {
			continue
		}
		router, sub := made[p["device_id"].(string)], ""
		if ips, _ := p["fixed_ips"].([]any); len(ips) > 0 {
			sub = made[ips[0].(map[string]any)["subnet_id"].(string)]
		}
		if router != "" && sub != "" {
			_, err := routers.RemoveInterface(ctx, r.c, router, routers.RemoveInterfaceOpts{SubnetID: sub}).Extract()
			ok("interface "+orig, err)
		}
	}
	// Ports first: a group or subnet in use cannot go.
	for _, step := range []struct {
		kind string
		del  func(string) error
	}{
		{"port_metadata", func(id string) error { return ports.Delete(ctx, r.c, id).ExtractErr() }},
		{"router_metadata", func(id string) error { return routers.Delete(ctx, r.c, id).ExtractErr() }},
		{"subnet_metadata", func(id string) error { return subnets.Delete(ctx, r.c, id).ExtractErr() }},
		{"security-group_metadata", func(id string) error { return groups.Delete(ctx, r.c, id).ExtractErr() }},
		{"network_metadata", func(id string) error { return networks.Delete(ctx, r.c, id).ExtractErr() }},
	} {
		for orig := range md[step.kind] {
			if id, found := made[orig]; found {
				ok(step.kind+" "+id, step.del(id))
			}
		}
	}
}

// named counts the project's objects of each kind named with the test's
// prefix.
func (r *realNeutron) named(t *testing.T) map[string]int {
	t.Helper()
	ctx := context.Background()
	out := map[string]int{}
	count := func(kind string, names []string) {
		for _, n := range names {
			if strings.HasPrefix(n, r.prefix) {
				out[kind]++
			}
		}
	}
	pn, err := networks.List(r.c, networks.ListOpts{ProjectID: r.rc.ProjectID}).AllPages(ctx)
	require.NoError(t, err)
	ns, err := networks.ExtractNetworks(pn)
	require.NoError(t, err)
	var names []string
	for _, n := range ns {
		names = append(names, n.Name)
	}
	count("networks", names)
	ps, err := subnets.List(r.c, subnets.ListOpts{ProjectID: r.rc.ProjectID}).AllPages(ctx)
	require.NoError(t, err)
	ss, err := subnets.ExtractSubnets(ps)
	require.NoError(t, err)
	names = nil
	for _, s := range ss {
		names = append(names, s.Name)
	}
	count("subnets", names)
	pr, err := routers.List(r.c, routers.ListOpts{ProjectID: r.rc.ProjectID}).AllPages(ctx)
	require.NoError(t, err)
	rs, err := routers.ExtractRouters(pr)
	require.NoError(t, err)
	names = nil
	for _, x := range rs {
		names = append(names, x.Name)
	}
	count("routers", names)
	pg, err := groups.List(r.c, groups.ListOpts{ProjectID: r.rc.ProjectID}).AllPages(ctx)
	require.NoError(t, err)
	gs, err := groups.ExtractGroups(pg)
	require.NoError(t, err)
	names = nil
	for _, g := range gs {
		names = append(names, g.Name)
	}
	count("security-groups", names)
	pp, err := ports.List(r.c, ports.ListOpts{ProjectID: r.rc.ProjectID}).AllPages(ctx)
	require.NoError(t, err)
	pts, err := ports.ExtractPorts(pp)
	require.NoError(t, err)
	names = nil
	for _, p := range pts {
		names = append(names, p.Name)
	}
	count("ports", names)
	return out
}

// TestRealNeutron: protect → available → verify → restore (the restored
// network, subnet, router, interface, group and port exist with the saved
// attributes) → delete, against the real Neutron; then a restore that
// Neutron refuses half-way ends in error with Neutron's reason and leaves
// nothing behind.
func TestRealNeutron(t *testing.T) {
	r := newRealNeutron(t)
	rc := r.rc
	e := newEnv(t, "[neutron_backup_protection_plugin]\npoll_interval = 1\n", r.peers.KarborConf(), &rc)
	ctx := context.Background()
	own := map[string]int{"networks": 1, "subnets": 1, "routers": 1, "security-groups": 1, "ports": 1}

	start := time.Now()
	cp, err := e.protect(t)
	require.NoError(t, err)
	t.Logf("protect: %v", time.Since(start))
	assert.Equal(t, bank.StatusAvailable, cp.Status)
	assert.Equal(t, karbor.ResourceStatusAvailable, e.read(t, cp, "status"))
	md := savedMetadata(t, e.read(t, cp, "metadata"))
	require.Contains(t, md["network_metadata"], r.net)
	require.Contains(t, md["subnet_metadata"], r.subnet)
	require.Contains(t, md["router_metadata"], r.router)
	require.Contains(t, md["security-group_metadata"], r.group)
	require.Contains(t, md["port_metadata"], r.port)
	assert.Equal(t, false, md["router_metadata"][r.router]["admin_state_up"])

	rec, row, err := e.verify(t, cp)
	require.NoError(t, err)
	assert.Equal(t, []string{"available"}, rec.Statuses())
	assert.Equal(t, map[string]string{karbor.NetworkResourceType + "#" + rc.ProjectID: "available"}, row.ResourcesStatus)

	start = time.Now()
	res := e.restore(t, cp, nil)
	removed := false
	t.Cleanup(func() {
		if !removed {
			r.removeRestored(t, res.newResources, md)
		}
	})
	require.NoError(t, res.err)
	t.Logf("restore: %v", time.Since(start))
	assert.Equal(t, []string{"restoring", "available"}, res.trail.Statuses())

	nn, err := networks.Get(ctx, r.c, res.newResources[r.net]).Extract()
	require.NoError(t, err)
	assert.Equal(t, r.prefix+"-net", nn.Name)
	assert.True(t, nn.AdminStateUp)
	ns, err := subnets.Get(ctx, r.c, res.newResources[r.subnet]).Extract()
	require.NoError(t, err)
	assert.Equal(t, nn.ID, ns.NetworkID)
	assert.Equal(t, r.cidr, ns.CIDR)
	assert.Equal(t, strings.TrimSuffix(r.cidr, "0/24")+"1", ns.GatewayIP)
	assert.Equal(t, []string{"192.0.2.53"}, ns.DNSNameservers)
	nr, err := routers.Get(ctx, r.c, res.newResources[r.router]).Extract()
	require.NoError(t, err)
	assert.Equal(t, r.prefix+"-router", nr.Name)
	assert.False(t, nr.AdminStateUp, "the router's admin state is restored")
	pp, err := ports.List(r.c, ports.ListOpts{DeviceID: nr.ID}).AllPages(ctx)
	require.NoError(t, err)
	ifaces, err := ports.ExtractPorts(pp)
	require.NoError(t, err)
	require.Len(t, ifaces, 1, "the router's interface")
	assert.Equal(t, ns.ID, ifaces[0].FixedIPs[0].SubnetID)
	ng, err := groups.Get(ctx, r.c, res.newResources[r.group]).Extract()
	require.NoError(t, err)
	var ingress []string
	for _, rule := range ng.Rules {
		if rule.Direction == "ingress" {
			ingress = append(ingress, fmt.Sprintf("%s %d-%d %s %v", rule.Protocol, rule.PortRangeMin, rule.PortRangeMax, rule.RemoteIPPrefix, rule.RemoteGroupID == ng.ID))
		}
	}
	assert.ElementsMatch(t, []string{"tcp 22-22 0.0.0.0/0 false", " 0-0  true"}, ingress)
	np, err := ports.Get(ctx, r.c, res.newResources[r.port]).Extract()
	require.NoError(t, err)
	assert.Equal(t, nn.ID, np.NetworkID)
	assert.Equal(t, []string{ng.ID}, np.SecurityGroups)
	assert.Equal(t, strings.TrimSuffix(r.cidr, "0/24")+"50", np.FixedIPs[0].IPAddress)

	r.removeRestored(t, res.newResources, md)
	removed = true

	t.Run("refused half-way", func(t *testing.T) {
		// A port address outside its subnet: Neutron refuses the port
		// once networks, groups, subnets and routers are made.
		var raw map[string]any
		require.NoError(t, json.Unmarshal([]byte(e.read(t, cp, "metadata")), &raw))
		port := raw["port_metadata"].(map[string]any)[r.port].(map[string]any)
		port["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] = "192.0.2.1"
		require.NoError(t, e.section(t, cp).PutJSON(e.ctx, "metadata", raw))
		res := e.restore(t, cp, nil)
		require.Error(t, res.err)
		assert.Contains(t, res.err.Error(), "create port")
		assert.Contains(t, res.err.Error(), "192.0.2.1")
		assert.Equal(t, []string{"restoring", "error"}, res.trail.Statuses())
		assert.Equal(t, own, r.named(t), "nothing left behind but the test's own objects")
	})

	start = time.Now()
	require.NoError(t, e.delete(t, cp))
	t.Logf("delete: %v", time.Since(start))
	keys, err := e.section(t, cp).ListObjects(e.ctx, bank.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"status"}, keys)
	assert.Equal(t, karbor.ResourceStatusDeleted, e.read(t, cp, "status"))
}
