package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

const neutronProviderID = "cf56bd3e-97a7-4078-b6d5-f36246333fd9"

// TestNeutronProtectionOverRPC protects the demo project's network topology
// with the built binary's karbor-network-protection-plugin, as karbor-api
// asks it through a Python oslo.messaging client with a real Keystone
// token, then deletes the checkpoint: the bank gets the project's networks
// in the Python plugin's layout, and the delete leaves only the status.
func TestNeutronProtectionOverRPC(t *testing.T) {
	peers := ostest.RealPeers(t)
	url := rpctest.Vhost(t)
	tok, body := peers.Token(t, peers.User, peers.Password, peers.Project)
	rc := ostest.ContextFromToken(t, tok, body)
	neutron, err := peers.Factory(t).Client(context.Background(), &rc, clients.Neutron)
	require.NoError(t, err)
	name := "karbor-test-" + uuid.NewString()[:8]
	n, err := networks.Create(context.Background(), neutron, networks.CreateOpts{Name: name}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := networks.Delete(context.Background(), neutron, n.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("delete network: %v", err)
		}
	})

	s := configureService(t, url, serviceConfig{sections: peers.KarborConf()})
	bankPath := filepath.Join(s.dir, "neutron-bank")
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "providers.d", "neutron.conf"), []byte(fmt.Sprintf(`[provider]
name = OS Infra Provider
id = %s
plugin = karbor-network-protection-plugin
bank = karbor-fs-bank-plugin
enabled = True

[file_system_bank_plugin]
file_system_bank_path = %s

[neutron_backup_protection_plugin]
poll_interval = 1
`, neutronProviderID, bankPath)), 0o644))
	s.start()
	c := pyClient(t, url)

	ctx := requestContext(t, rc.ProjectID, false)
	maps.Copy(ctx, ostest.ContextDict(t, tok, body))
	ctx["project"] = rc.ProjectID
	ctx["user"] = ctx["user_id"]
	ctx["user_identity"] = fmt.Sprintf("%s %s - - -", ctx["user_id"], rc.ProjectID)

	planID := uuid.NewString()
	res := []map[string]any{{"id": rc.ProjectID, "type": "OS::Neutron::Network", "name": "Network Topology", "extra_info": nil}}
	args := map[string]any{
		"plan": map[string]any{
			"karbor_object.name": "Plan", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0",
			"karbor_object.data": map[string]any{"id": planID, "name": name, "description": nil, "provider_id": neutronProviderID,
				"project_id": rc.ProjectID, "status": "suspended", "resources": res, "parameters": map[string]any{}},
			"karbor_object.changes": []string{"id", "name", "description", "provider_id", "project_id", "status", "resources", "parameters"},
		},
		"checkpoint_properties": map[string]any{"project_id": rc.ProjectID, "status": "protecting", "provider_id": neutronProviderID,
			"protection_plan": map[string]any{"id": planID, "name": name, "resources": res}, "extra_info": `{"created_by": "manual"}`},
	}
	var id string
	require.NoError(t, json.Unmarshal(result(t, call(t, c, "protect", ctx, args)), &id))
	show := map[string]any{"provider_id": neutronProviderID, "checkpoint_id": id}
	waitFor(t, 2*time.Minute, "checkpoint available", func() bool {
		var cp struct{ Status string }
		require.NoError(t, json.Unmarshal(result(t, call(t, c, "show_checkpoint", ctx, show)), &cp))
		require.NotEqual(t, "error", cp.Status, s.out.String())
		return cp.Status == "available"
	})
	section := filepath.Join(bankPath, "karbor", "checkpoints", id, "resource-data", rc.ProjectID)
	raw, err := os.ReadFile(filepath.Join(section, "metadata"))
	require.NoError(t, err)
	var md struct {
		ResourceID string                    `json:"resource_id"`
		BackupName string                    `json:"backup_name"`
		Networks   map[string]map[string]any `json:"network_metadata"`
		Groups     map[string]map[string]any `json:"security-group_metadata"`
	}
	require.NoError(t, json.Unmarshal(raw, &md))
	assert.Equal(t, rc.ProjectID, md.ResourceID)
	assert.Equal(t, "karbor network backup", md.BackupName)
	require.Contains(t, md.Networks, n.ID)
	assert.Equal(t, name, md.Networks[n.ID]["name"])
	assert.NotContains(t, md.Networks[n.ID], "created_at", "only the Python plugin's keys")
	assert.NotEmpty(t, md.Groups, "the project's security groups (its default one at least)")

	assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", ctx, show))))
	waitFor(t, 2*time.Minute, "checkpoint deleted", func() bool {
		o := call(t, c, "show_checkpoint", ctx, show)
		if o.Exception != nil {
			return o.Exception.Class == "CheckpointNotFound_Remote"
		}
		var cp struct{ Status string }
		require.NoError(t, json.Unmarshal(o.Result, &cp))
		require.NotEqual(t, "error-deleting", cp.Status, s.out.String())
		return cp.Status == "deleted"
	})
	left, err := os.ReadDir(section)
	require.NoError(t, err)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"status"}, names, "the topology's objects are deleted")
}
