package main_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// TestOpenStackProtectablesOverRPC asks the built binary, configured with
// karbor's [trustee] user, for protectable instances through a real Python
// oslo.messaging client, as karbor-api does: the context carries a real
// Keystone token of the demo member, its token body and its catalog in the
// v2 shape. The answers come from the real Nova, Cinder, Glance and
// Neutron (scripts/ensure-openstack.sh).
func TestOpenStackProtectablesOverRPC(t *testing.T) {
	peers := ostest.RealPeers(t)
	url := rpctest.Vhost(t)
	tok, body := peers.Token(t, peers.User, peers.Password, peers.Project)
	w := peers.NewWorld(t, ostest.ContextFromToken(t, tok, body), 0)
	newService(t, url, serviceConfig{sections: peers.KarborConf()})
	c := pyClient(t, url)

	ctx := requestContext(t, w.ProjectID, false)
	maps.Copy(ctx, ostest.ContextDict(t, tok, body))
	ctx["project"] = w.ProjectID
	ctx["user"] = ctx["user_id"]
	ctx["user_identity"] = fmt.Sprintf("%s %s - - -", ctx["user_id"], w.ProjectID)

	type resource struct {
		Type      string            `json:"type"`
		ID        string            `json:"id"`
		Name      string            `json:"name"`
		ExtraInfo map[string]string `json:"extra_info"`
	}
	decode := func(raw json.RawMessage) map[string]resource {
		var rs []resource
		require.NoError(t, json.Unmarshal(raw, &rs), string(raw))
		m := map[string]resource{}
		for _, r := range rs {
			m[r.ID] = r
		}
		return m
	}
	list := func(typ string) map[string]resource {
		return decode(result(t, call(t, c, "list_protectable_instances", ctx, map[string]any{"protectable_type": typ,
			"marker": nil, "limit": nil, "sort_keys": nil, "sort_dirs": nil, "filters": nil, "parameters": nil})))
	}

	// Listed instances carry no type (karbor-api adds it).
	az := map[string]string{"availability_zone": "nova"}
	vols := list("OS::Cinder::Volume")
	assert.Equal(t, resource{"", w.Volumes[0], w.Prefix + "-volume-1", az}, vols[w.Volumes[0]])
	assert.Equal(t, resource{"", w.Volumes[1], w.Prefix + "-volume-2", az}, vols[w.Volumes[1]])
	assert.Equal(t, resource{ID: w.Server, Name: w.Prefix + "-server"}, list("OS::Nova::Server")[w.Server])
	assert.Equal(t, resource{ID: w.Images[0], Name: w.Prefix + "-image"}, list("OS::Glance::Image")[w.Images[0]])
	assert.Equal(t, map[string]resource{w.ProjectID: {ID: w.ProjectID, Name: "Network Topology"}}, list("OS::Neutron::Network"))

	var shown resource
	raw := result(t, call(t, c, "show_protectable_instance", ctx, map[string]any{
		"protectable_type": "OS::Nova::Server", "protectable_id": w.Server, "parameters": nil}))
	require.NoError(t, json.Unmarshal(raw, &shown))
	assert.Equal(t, resource{Type: "OS::Nova::Server", ID: w.Server, Name: w.Prefix + "-server"}, shown)

	o := call(t, c, "show_protectable_instance", ctx, map[string]any{
		"protectable_type": "OS::Cinder::Volume", "protectable_id": unknown, "parameters": nil})
	e := exception(t, o, "karbor.exception.ProtectableResourceNotFound")
	assert.Contains(t, e.Str, "The resource "+unknown+" of type OS::Cinder::Volume could not be found")

	deps := decode(result(t, call(t, c, "list_protectable_dependents", ctx, map[string]any{
		"protectable_id": w.Server, "protectable_type": "OS::Nova::Server", "protectable_name": w.Prefix + "-server"})))
	assert.Equal(t, map[string]resource{
		w.Images[0]:  {"OS::Glance::Image", w.Images[0], w.Prefix + "-image", map[string]string{"server_id": w.Server}},
		w.Volumes[0]: {"OS::Cinder::Volume", w.Volumes[0], w.Prefix + "-volume-1", az},
	}, deps)

	// The token karbor-api forwards is refused: a clear failure, not a hang.
	bad := maps.Clone(ctx)
	bad["auth_token"] = "gAAAAABnot-a-token"
	o = call(t, c, "list_protectable_instances", bad, map[string]any{"protectable_type": "OS::Nova::Server",
		"marker": nil, "limit": nil, "sort_keys": nil, "sort_dirs": nil, "filters": nil, "parameters": nil})
	e = exception(t, o, "karbor.exception.ListProtectableResourceFailed")
	assert.Contains(t, e.Str, "refused the request's token")
}
