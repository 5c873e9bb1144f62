package neutron_test

import (
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/neutron"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func fakeEnv(t *testing.T, f *fakeNeutron) *env {
	return newEnv(t, "[neutron_backup_protection_plugin]\npoll_interval = 0\n", f.karborConf(), f.context())
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

// TestPluginAndSchemas: the plugin registers under karbor's entry-point
// name, protects OS::Neutron::Network, publishes karbor's schemas and
// implements every operation but copy.
func TestPluginAndSchemas(t *testing.T) {
	assert.Contains(t, providers.Plugins(), neutron.PluginName)
	p, err := neutron.New(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{karbor.NetworkResourceType}, p.ResourceTypes())
	sc := p.Schemas(karbor.NetworkResourceType)
	for kind, got := range map[string]json.RawMessage{"options": sc.Options, "restore": sc.Restore, "saved_info": sc.SavedInfo} {
		want, err := os.ReadFile("schemas/" + kind + ".json")
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), kind)
		assert.True(t, json.Valid(got), kind)
	}
	r := graph.Resource{Type: karbor.NetworkResourceType, ID: "p"}
	for _, op := range []providers.Op{providers.OpProtect, providers.OpRestore, providers.OpVerify, providers.OpDelete} {
		h, err := p.Hooks(op, r)
		require.NoError(t, err)
		assert.NotNil(t, h, op)
	}
	_, err = p.Hooks(providers.OpCopy, r)
	assert.ErrorIs(t, err, providers.ErrNotImplemented)
}

// TestBadOptions: an unreadable or negative poll_interval fails the
// plugin with the option named.
func TestBadOptions(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"poll_interval = soon", "poll_interval"},
		{"poll_interval = -1", "poll_interval: -1 is negative"},
		{"poll_interval = 1.5", "poll_interval"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			f, err := config.ParseFile("p.conf", []byte("[neutron_backup_protection_plugin]\n"+tc.body+"\n"))
			require.NoError(t, err)
			_, err = neutron.New(config.New(config.ProviderRegistry(), []*config.File{f}, nil), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// savedMetadata decodes a section's metadata.
func savedMetadata(t *testing.T, raw string) map[string]map[string]map[string]any {
	t.Helper()
	var md map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(raw), &md), raw)
	out := map[string]map[string]map[string]any{}
	for k, v := range md {
		if strings.HasSuffix(k, "_metadata") {
			var objs map[string]map[string]any
			require.NoError(t, json.Unmarshal(v, &objs), k)
			out[k] = objs
		}
	}
	return out
}

// TestProtect: the section gets the project's topology in the Python
// plugin's keys (golden file, as json.dumps writes it), and the status
// available; every listing asks for the project's objects.
func TestProtect(t *testing.T) {
	f := newFakeNeutron(t)
	e := fakeEnv(t, f)
	cp, err := e.protect(t)
	require.NoError(t, err)
	assert.Equal(t, bank.StatusAvailable, cp.Status)
	assert.Equal(t, karbor.ResourceStatusAvailable, e.read(t, cp, "status"))
	raw := e.read(t, cp, "metadata")
	golden(t, "metadata.golden.json", []byte(raw))

	md := savedMetadata(t, raw)
	w := f.w
	require.Contains(t, md["network_metadata"], w.Network)
	assert.Equal(t, []string{"admin_state_up", "availability_zone_hints", "description", "id", "ipv4_address_scope", "ipv6_address_scope",
		"mtu", "name", "port_security_enabled", "router:external", "shared", "status", "subnets", "tags", "tenant_id"},
		keys(md["network_metadata"][w.Network]), "Python's network keys, nothing else")
	assert.Equal(t, []string{"admin_state_up", "availability_zone_hints", "description", "external_gateway_info", "id", "name", "routes", "status"},
		keys(md["router_metadata"][w.Router]), "admin_state_up is kept (Python's typo admin_state_u drops it)")
	assert.Equal(t, false, md["router_metadata"][w.Router]["admin_state_up"])
	assert.Contains(t, md["subnet_metadata"], w.Subnet)
	assert.Contains(t, md["port_metadata"], w.Port)
	assert.Contains(t, md["security-group_metadata"], w.SecurityGroup)
	var top map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &top))
	assert.Equal(t, w.ProjectID, top["resource_id"])
	assert.Equal(t, "karbor network backup", top["backup_name"])
	assert.Equal(t, []string{"GET /networks", "GET /subnets", "GET /ports", "GET /routers", "GET /security-groups"}, f.requests())
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestProtectFails: a listing Neutron refuses (5xx, 404, an invalid
// token) fails the protection at once with the reason: the checkpoint
// and the section end in error, nothing is saved.
func TestProtectFails(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fakeNeutron, e *env)
		want  string
	}{
		{"networks 500", func(f *fakeNeutron, _ *env) { f.fail["GET networks"] = []int{500} }, "Request Failed: internal server error"},
		{"ports 503", func(f *fakeNeutron, _ *env) { f.fail["GET ports"] = []int{503} }, "503"},
		{"routers 404", func(f *fakeNeutron, _ *env) { f.fail["GET routers"] = []int{404} }, "404"},
		{"item without an id", func(f *fakeNeutron, _ *env) {
			f.objects["subnets"] = append(f.objects["subnets"], map[string]any{"name": "x", "project_id": f.w.ProjectID})
		}, "list subnets: an item without an id"},
		{"invalid token", func(_ *fakeNeutron, e *env) { e.rc.AuthToken = "revoked" },
			"neutron refused the request's token (expired, revoked or invalid)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNeutron(t)
			e := fakeEnv(t, f)
			tc.setup(f, e)
			cp, err := e.protect(t)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Get protection network sub-resources of type ['OS::Neutron::Network'] failed")
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, bank.StatusError, cp.Status)
			assert.Equal(t, karbor.ResourceStatusError, e.read(t, cp, "status"))
			assert.True(t, strings.HasPrefix(e.read(t, cp, "metadata"), "<"), "no metadata")
		})
	}
}

// protected is a checkpoint of the captured topology and its saved
// metadata, with Neutron then emptied and its request log cleared, so that
// a restore's objects and requests are the only ones.
func protected(t *testing.T) (*fakeNeutron, *env, *bank.Checkpoint, map[string]map[string]map[string]any) {
	t.Helper()
	f := newFakeNeutron(t)
	e := fakeEnv(t, f)
	cp, err := e.protect(t)
	require.NoError(t, err)
	md := savedMetadata(t, e.read(t, cp, "metadata"))
	f.empty()
	f.mu.Lock()
	f.log = nil
	f.mu.Unlock()
	return f, e, cp, md
}

// TestVerify: the saved status decides, as in Python; the result is
// reported under the topology.
func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name, status, reason string
	}{
		{name: "available", status: karbor.ResourceStatusAvailable},
		{name: "error", status: karbor.ResourceStatusError, reason: "The status of network backup status is error."},
		{name: "protecting", status: karbor.ResourceStatusProtecting, reason: "The status of network backup status is protecting."},
		{name: "no status", reason: "The status of network backup cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, e, cp, _ := protected(t)
			sec := e.section(t, cp)
			if tc.status == "" {
				require.NoError(t, sec.DeleteObject(e.ctx, "status"))
			} else {
				require.NoError(t, sec.PutString(e.ctx, "status", tc.status))
			}
			rec, row, err := e.verify(t, cp)
			key := karbor.NetworkResourceType + "#" + f.w.ProjectID
			if tc.reason == "" {
				require.NoError(t, err)
				assert.Equal(t, []string{"available"}, rec.Statuses())
				assert.Equal(t, karbor.VerificationStatusSuccess, row.Statuses[len(row.Statuses)-1])
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, karbor.ExcVerifyResourceFailed)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Contains(t, row.ResourcesReason[key], tc.reason)
			assert.Equal(t, karbor.VerificationStatusFailure, row.Statuses[len(row.Statuses)-1])
			assert.Empty(t, f.requests(), "verify does not ask Neutron")
		})
	}
}

// TestDelete: the section keeps only its status, deleted; Neutron is not
// asked. A section whose protection failed is deleted too.
func TestDelete(t *testing.T) {
	for _, failed := range []bool{false, true} {
		t.Run(map[bool]string{false: "protected", true: "failed"}[failed], func(t *testing.T) {
			f := newFakeNeutron(t)
			e := fakeEnv(t, f)
			if failed {
				f.fail["GET subnets"] = []int{500}
			}
			cp, err := e.protect(t)
			require.Equal(t, failed, err != nil, "%v", err)
			before := len(f.requests())
			require.NoError(t, e.delete(t, cp))
			keys, err := e.section(t, cp).ListObjects(e.ctx, bank.ListOptions{})
			require.NoError(t, err)
			assert.Equal(t, []string{"status"}, keys)
			assert.Equal(t, karbor.ResourceStatusDeleted, e.read(t, cp, "status"))
			assert.Len(t, f.requests(), before, "delete does not ask Neutron")
			got, err := e.p.Checkpoints().Get(e.ctx, cp.ID)
			require.NoError(t, err)
			assert.Equal(t, bank.StatusDeleted, got.Status)
		})
	}
}
