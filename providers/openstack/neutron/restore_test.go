package neutron_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// byName finds an object of a collection by name.
func byName(t *testing.T, objs []map[string]any, name string) map[string]any {
	t.Helper()
	for _, o := range objs {
		if o["name"] == name {
			return o
		}
	}
	t.Fatalf("no object named %q in %v", name, objs)
	return nil
}

// ruleSet is a group's rules as comparable strings, with group ids
// replaced by names.
func ruleSet(rules []any, names map[string]string) []string {
	var out []string
	for _, r := range rules {
		rule := r.(map[string]any)
		g := ""
		if id, ok := rule["remote_group_id"].(string); ok {
			g = names[id]
		}
		out = append(out, strings.Join([]string{norm(rule["direction"]), norm(rule["ethertype"]), norm(rule["protocol"]),
			norm(rule["port_range_min"]), norm(rule["port_range_max"]), norm(rule["remote_ip_prefix"]), g}, " "))
	}
	slices.Sort(out)
	return out
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestRestore: a restore into an empty project recreates the saved
// topology, in the Python plugin's order, with the saved attributes;
// records every new id under its original one and reports the topology
// restoring, then available.
func TestRestore(t *testing.T) {
	f, e, cp, md := protected(t)
	res := e.restore(t, cp, nil)
	require.NoError(t, res.err)
	key := karbor.NetworkResourceType + "#" + f.w.ProjectID
	assert.Equal(t, []string{"restoring", "available"}, res.trail.Statuses())
	assert.Equal(t, map[string]string{key: "available"}, res.row.ResourcesStatus)
	assert.Equal(t, karbor.RestoreStatusSuccess, res.row.Statuses[len(res.row.Statuses)-1])

	var log []string
	for _, l := range f.requests() {
		log = append(log, uuidRE.ReplaceAllString(l, "<id>"))
	}
	golden(t, "restore-requests.golden", []byte(strings.Join(log, "\n")+"\n"))

	w := f.w
	nets := f.all("networks")
	var external int
	for _, n := range md["network_metadata"] {
		if n["router:external"] == true {
			external++
		}
	}
	require.Len(t, nets, len(md["network_metadata"])-external, "every saved network but external ones")
	for origID, saved := range md["network_metadata"] {
		n := byName(t, nets, saved["name"].(string))
		assert.Equal(t, n["id"], res.newResources[origID], "new_resources[%s]", origID)
		for _, k := range []string{"admin_state_up", "port_security_enabled", "shared"} {
			assert.Equal(t, saved[k], n[k], "network %s %s", saved["name"], k)
		}
	}
	subs := f.all("subnets")
	require.Len(t, subs, len(md["subnet_metadata"]))
	for origID, saved := range md["subnet_metadata"] {
		s := byName(t, subs, saved["name"].(string))
		assert.Equal(t, s["id"], res.newResources[origID])
		assert.Equal(t, res.newResources[saved["network_id"].(string)], s["network_id"])
		for _, k := range []string{"cidr", "gateway_ip", "allocation_pools", "dns_nameservers", "host_routes", "enable_dhcp", "ip_version"} {
			assert.Equal(t, saved[k], s[k], "subnet %s %s", saved["name"], k)
		}
	}
	routers := f.all("routers")
	require.Len(t, routers, 1)
	saved := md["router_metadata"][w.Router]
	assert.Equal(t, routers[0]["id"], res.newResources[w.Router])
	assert.Equal(t, saved["name"], routers[0]["name"])
	assert.Equal(t, false, routers[0]["admin_state_up"], "the router's admin state is restored")
	if gw, ok := saved["external_gateway_info"].(map[string]any); ok {
		assert.Equal(t, map[string]any{"network_id": gw["network_id"]}, routers[0]["external_gateway_info"])
	}

	groups := f.all("security-groups")
	require.Len(t, groups, 1, "the default group is not made")
	g := groups[0]
	orig := md["security-group_metadata"][w.SecurityGroup]
	assert.Equal(t, orig["name"], g["name"])
	assert.Equal(t, orig["description"], g["description"])
	assert.Equal(t, g["id"], res.newResources[w.SecurityGroup])
	assert.Equal(t, ruleSet(orig["security_group_rules"].([]any), map[string]string{w.SecurityGroup: "self"}),
		ruleSet(g["security_group_rules"].([]any), map[string]string{g["id"].(string): "self"}), "the group's rules, its own group remapped")

	ports := f.all("ports")
	port := byName(t, ports, "cap-port")
	savedPort := md["port_metadata"][w.Port]
	assert.Equal(t, port["id"], res.newResources[w.Port])
	assert.Equal(t, savedPort["mac_address"], port["mac_address"])
	assert.Equal(t, []any{g["id"]}, port["security_groups"], "the port is in the restored group")
	assert.Equal(t, []any{map[string]any{"ip_address": "10.77.0.50", "subnet_id": res.newResources[w.Subnet]}}, port["fixed_ips"])
	assert.Equal(t, savedPort["allowed_address_pairs"], port["allowed_address_pairs"])
	var ifaces []map[string]any
	for _, p := range ports {
		if p["device_owner"] == "network:router_interface" {
			ifaces = append(ifaces, p)
		}
	}
	require.Len(t, ifaces, 1)
	assert.Equal(t, routers[0]["id"], ifaces[0]["device_id"])
	assert.Equal(t, res.newResources[w.Subnet], ifaces[0]["fixed_ips"].([]any)[0].(map[string]any)["subnet_id"])
}

// TestRestoreGateway: a router saved with a gateway gets one on the saved
// external network, or on public_network_id when given, with the network
// only; a null MAC of an address pair is left out.
func TestRestoreGateway(t *testing.T) {
	const ext, public = "b2b4b8c1-6d3c-4e0e-9a53-0d6f1a1f8e11", "0c6b2d8e-4c36-4f4e-8d0e-5b3c1f0a9e22"
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{want: ext},
		{params: map[string]string{"public_network_id": public}, want: public},
	} {
		t.Run(tc.want, func(t *testing.T) {
			f, e, cp, _ := protected(t)
			var md map[string]any
			require.NoError(t, json.Unmarshal([]byte(e.read(t, cp, "metadata")), &md))
			md["router_metadata"].(map[string]any)[f.w.Router].(map[string]any)["external_gateway_info"] = map[string]any{
				"network_id": ext, "enable_snat": true, "external_fixed_ips": []any{map[string]any{"subnet_id": "s", "ip_address": "203.0.113.5"}}}
			port := md["port_metadata"].(map[string]any)[f.w.Port].(map[string]any)
			port["allowed_address_pairs"] = []any{map[string]any{"ip_address": "10.77.0.200", "mac_address": nil}}
			require.NoError(t, e.section(t, cp).PutJSON(e.ctx, "metadata", md))
			res := e.restore(t, cp, tc.params)
			require.NoError(t, res.err)
			routers := f.all("routers")
			require.Len(t, routers, 1)
			assert.Equal(t, map[string]any{"network_id": tc.want}, routers[0]["external_gateway_info"])
			assert.Equal(t, []any{map[string]any{"ip_address": "10.77.0.200"}}, byName(t, f.all("ports"), "cap-port")["allowed_address_pairs"])
		})
	}
}

// leftovers lists what the fake holds, by collection.
func leftovers(f *fakeNeutron) map[string]int {
	out := map[string]int{}
	for c := range singular {
		if n := len(f.all(c)); n > 0 {
			out[c] = n
		}
	}
	return out
}

// TestRestoreStatuses: networks, routers and ports Neutron answers BUILD
// are polled until ACTIVE or DOWN; ERROR, DEGRADED, an unknown status or
// a 404 fails the restore, which removes everything it made.
func TestRestoreStatuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		coll     string
		statuses []string
		fail     map[string][]int
		reason   string
		gets     int
	}{
		{name: "network builds", coll: "networks", statuses: []string{"BUILD", "BUILD", "ACTIVE"}, gets: 2},
		{name: "network down", coll: "networks", statuses: []string{"BUILD", "DOWN"}, gets: 1},
		{name: "router builds", coll: "routers", statuses: []string{"BUILD", "ACTIVE"}, gets: 1},
		{name: "port builds", coll: "ports", statuses: []string{"BUILD", "BUILD", "DOWN"}, gets: 2},
		{name: "network error", coll: "networks", statuses: []string{"BUILD", "ERROR"}, reason: "is ERROR", gets: 1},
		{name: "router degraded", coll: "routers", statuses: []string{"BUILD", "DEGRADED"}, reason: "is DEGRADED", gets: 1},
		{name: "port unknown status", coll: "ports", statuses: []string{"BUILD", "WHATEVER"}, reason: "is WHATEVER", gets: 1},
		{name: "network vanishes", coll: "networks", statuses: []string{"BUILD"}, fail: map[string][]int{"GET networks": {404}}, reason: "is not-found", gets: 1},
		{name: "network poll 500", coll: "networks", statuses: []string{"BUILD"}, fail: map[string][]int{"GET networks": {500}}, reason: "500", gets: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, e, cp, _ := protected(t)
			f.mu.Lock()
			f.statuses[tc.coll] = tc.statuses
			for k, v := range tc.fail {
				f.fail[k] = v
			}
			f.mu.Unlock()
			res := e.restore(t, cp, nil)
			gets := 0
			for _, l := range f.requests() {
				if strings.HasPrefix(l, "GET /"+tc.coll+"/") {
					gets++
				}
			}
			if tc.reason == "" {
				require.NoError(t, res.err)
				assert.Equal(t, []string{"restoring", "available"}, res.trail.Statuses())
				assert.Equal(t, tc.gets*countSettled(t, f, tc.coll), gets, "GETs of %s: %v", tc.coll, f.requests())
				return
			}
			require.Error(t, res.err)
			assert.ErrorIs(t, res.err, karbor.ExcRestoreResourceFailed)
			assert.Contains(t, res.err.Error(), tc.reason)
			assert.Equal(t, []string{"restoring", "error"}, res.trail.Statuses())
			key := karbor.NetworkResourceType + "#" + f.w.ProjectID
			assert.Contains(t, res.row.ResourcesReason[key], tc.reason)
			assert.Equal(t, tc.gets, gets)
			assert.Empty(t, leftovers(f), "a failed restore leaves nothing: %v", f.requests())
			assert.Empty(t, res.newResources, "nothing recorded")
		})
	}
}

// countSettled counts the restored objects of a collection that were polled.
func countSettled(t *testing.T, f *fakeNeutron, coll string) int {
	t.Helper()
	n := 0
	for _, o := range f.all(coll) {
		if o["device_owner"] != "network:router_interface" {
			n++
		}
	}
	return n
}

// TestRestoreFails: a request Neutron refuses (5xx, 404, 409 where it is
// not a duplicate, an invalid token) fails the restore with the reason,
// and what the restore made is removed; what cannot be removed is named.
func TestRestoreFails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fail    map[string][]int
		token   string
		reason  []string
		remains map[string]int
	}{
		{name: "network refused", fail: map[string][]int{"POST networks": {500}}, reason: []string{"create network", "500"}},
		{name: "subnet conflict", fail: map[string][]int{"POST subnets": {409}}, reason: []string{"create subnet", "409"}},
		{name: "rule refused", fail: map[string][]int{"POST security-group-rules": {503}}, reason: []string{"security group", "503"}},
		{name: "router 404", fail: map[string][]int{"POST routers": {404}}, reason: []string{"create router", "404"}},
		{name: "port refused", fail: map[string][]int{"POST ports": {500}}, reason: []string{"create port", "500"}},
		{name: "interface refused", fail: map[string][]int{"PUT routers": {500}}, reason: []string{"add_router_interface", "500"}},
		{name: "invalid token", token: "revoked", reason: []string{"neutron refused the request's token (expired, revoked or invalid)"}},
		{name: "cleanup fails", fail: map[string][]int{"POST ports": {500}, "DELETE networks": {500, 500, 500, 500}},
			reason: []string{"create port", "could not all be removed", "delete networks"}, remains: map[string]int{"networks": 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, e, cp, _ := protected(t)
			f.mu.Lock()
			for k, v := range tc.fail {
				f.fail[k] = v
			}
			f.mu.Unlock()
			if tc.token != "" {
				e.rc.AuthToken = tc.token
			}
			res := e.restore(t, cp, nil)
			require.Error(t, res.err)
			for _, r := range tc.reason {
				assert.Contains(t, res.err.Error(), r)
			}
			assert.Equal(t, []string{"restoring", "error"}, res.trail.Statuses())
			remains := tc.remains
			if remains == nil {
				remains = map[string]int{}
			}
			assert.Equal(t, remains, leftovers(f), "%v", f.requests())
		})
	}
}

// TestRestoreBadCheckpoint: a section without readable metadata fails the
// restore with a clear reason before Neutron is asked anything; a Python
// checkpoint (its routers without admin_state_up) restores.
func TestRestoreBadCheckpoint(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(md map[string]any) any // nil result: the object is removed
		reason string
	}{
		{name: "no metadata", edit: func(map[string]any) any { return nil }, reason: "Error reading the network topology"},
		{name: "not JSON", edit: func(map[string]any) any { return "{not json" }, reason: "Error reading the network topology"},
		{name: "network not an object", edit: func(md map[string]any) any {
			md["network_metadata"] = map[string]any{"n1": 5}
			return md
		}, reason: "Error reading the network topology"},
		{name: "subnet cidr a number", edit: func(md map[string]any) any {
			for _, s := range md["subnet_metadata"].(map[string]any) {
				s.(map[string]any)["cidr"] = 10
			}
			return md
		}, reason: "the checkpoint's subnet"},
		{name: "python checkpoint", edit: func(md map[string]any) any {
			for _, r := range md["router_metadata"].(map[string]any) {
				delete(r.(map[string]any), "admin_state_up")
			}
			return md
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, e, cp, _ := protected(t)
			sec := e.section(t, cp)
			var md map[string]any
			require.NoError(t, json.Unmarshal([]byte(e.read(t, cp, "metadata")), &md))
			switch v := tc.edit(md).(type) {
			case nil:
				require.NoError(t, sec.DeleteObject(e.ctx, "metadata"))
			case string:
				require.NoError(t, sec.PutString(e.ctx, "metadata", v))
			default:
				require.NoError(t, sec.PutJSON(e.ctx, "metadata", v))
			}
			res := e.restore(t, cp, nil)
			if tc.reason == "" {
				require.NoError(t, res.err)
				routers := f.all("routers")
				require.Len(t, routers, 1)
				assert.Equal(t, true, routers[0]["admin_state_up"], "Neutron's default")
				return
			}
			require.Error(t, res.err)
			assert.Contains(t, res.err.Error(), tc.reason)
			assert.Equal(t, []string{"restoring", "error"}, res.trail.Statuses())
			assert.Empty(t, f.requests(), "Neutron is not asked")
		})
	}
}

// TestRestoreCancelled: a restore waiting for a network Neutron keeps in
// BUILD ends when its operation is cancelled, long before the next poll,
// and removes what it made.
func TestRestoreCancelled(t *testing.T) {
	f := newFakeNeutron(t)
	e := newEnv(t, "[neutron_backup_protection_plugin]\npoll_interval = 3600\n", f.karborConf(), f.context())
	cp, err := e.protect(t)
	require.NoError(t, err)
	f.empty()
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	e.ctx = ctx
	f.mu.Lock()
	f.statuses["networks"] = []string{"BUILD"}
	f.onRequest = func(line string) {
		if line == "POST /networks" {
			cancel()
		}
	}
	f.mu.Unlock()
	res := e.restore(t, cp, nil)
	require.Error(t, res.err)
	assert.Contains(t, res.err.Error(), "stopped waiting for network")
	assert.Equal(t, []string{"restoring", "error"}, res.trail.Statuses())
	assert.Empty(t, leftovers(f), "%v", f.requests())
}

// TestRestoreAddressGroupRule: a rule from an address group comes back
// from that address group, not from anywhere.
func TestRestoreAddressGroupRule(t *testing.T) {
	f, e, cp, _ := protected(t)
	var md map[string]any
	require.NoError(t, json.Unmarshal([]byte(e.read(t, cp, "metadata")), &md))
	g := md["security-group_metadata"].(map[string]any)[f.w.SecurityGroup].(map[string]any)
	g["security_group_rules"] = append(g["security_group_rules"].([]any), map[string]any{
		"id": "r-ag", "direction": "ingress", "ethertype": "IPv4", "protocol": "udp", "port_range_min": 53, "port_range_max": 53,
		"remote_ip_prefix": nil, "remote_group_id": nil, "remote_address_group_id": "5f2c9a34-3d0e-4c55-a1c5-7d7d1c0f0b11"})
	require.NoError(t, e.section(t, cp).PutJSON(e.ctx, "metadata", md))
	res := e.restore(t, cp, nil)
	require.NoError(t, res.err)
	groups := f.all("security-groups")
	require.Len(t, groups, 1)
	var found []any
	for _, r := range groups[0]["security_group_rules"].([]any) {
		if rule := r.(map[string]any); rule["protocol"] == "udp" {
			found = append(found, rule["remote_address_group_id"], rule["remote_ip_prefix"])
		}
	}
	assert.Equal(t, []any{"5f2c9a34-3d0e-4c55-a1c5-7d7d1c0f0b11", nil}, found)
}

// TestRestorePortWithoutGroups: a port saved in no security group is
// restored in none (Neutron would otherwise put it in the default group).
func TestRestorePortWithoutGroups(t *testing.T) {
	f, e, cp, _ := protected(t)
	var md map[string]any
	require.NoError(t, json.Unmarshal([]byte(e.read(t, cp, "metadata")), &md))
	md["port_metadata"].(map[string]any)[f.w.Port].(map[string]any)["security_groups"] = []any{}
	require.NoError(t, e.section(t, cp).PutJSON(e.ctx, "metadata", md))
	res := e.restore(t, cp, nil)
	require.NoError(t, res.err)
	assert.Equal(t, []any{}, byName(t, f.all("ports"), "cap-port")["security_groups"])
}
