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
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// TestCinderProtectionOverRPC protects a real Cinder volume with the built
// binary's karbor-volume-protection-plugin, as karbor-api asks it through a
// Python oslo.messaging client with a real Keystone token, then deletes the
// checkpoint: the backup appears and goes, the checkpoint ends deleted.
func TestCinderProtectionOverRPC(t *testing.T) {
	peers := ostest.RealPeers(t)
	url := rpctest.Vhost(t)
	tok, body := peers.Token(t, peers.User, peers.Password, peers.Project)
	rc := ostest.ContextFromToken(t, tok, body)
	cinder, err := peers.Factory(t).Client(context.Background(), &rc, clients.Cinder)
	require.NoError(t, err)
	name := "karbor-test-" + uuid.NewString()[:8]
	v, err := volumes.Create(context.Background(), cinder, volumes.CreateOpts{Size: 1, Name: name}, nil).Extract()
	require.NoError(t, err)
	t.Cleanup(func() {
		ostest.DeleteBackups(t, cinder, v.ID) // left by a failed run
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		ostest.WaitFor(t, ctx, "volume deletable", func() (bool, error) {
			got, err := volumes.Get(ctx, cinder, v.ID).Extract()
			return err != nil || got.Status == "available" || got.Status == "error", nil
		})
		if err := volumes.Delete(ctx, cinder, v.ID, volumes.DeleteOpts{Cascade: true}).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("delete volume: %v", err)
		}
	})

	s := configureService(t, url, serviceConfig{sections: peers.KarborConf()})
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "providers.d", "cinder.conf"), []byte(fmt.Sprintf(`[provider]
name = OS Infra Provider
id = %s
plugin = karbor-volume-protection-plugin
bank = karbor-fs-bank-plugin
enabled = True

[file_system_bank_plugin]
file_system_bank_path = %s

[cinder_backup_protection_plugin]
poll_interval = 1
`, infraProviderID, filepath.Join(s.dir, "cinder-bank"))), 0o644))
	s.start()
	c := pyClient(t, url)

	ctx := requestContext(t, rc.ProjectID, false)
	maps.Copy(ctx, ostest.ContextDict(t, tok, body))
	ctx["project"] = rc.ProjectID
	ctx["user"] = ctx["user_id"]
	ctx["user_identity"] = fmt.Sprintf("%s %s - - -", ctx["user_id"], rc.ProjectID)

	planID := uuid.NewString()
	res := []map[string]any{{"id": v.ID, "type": "OS::Cinder::Volume", "name": name, "extra_info": nil}}
	args := map[string]any{
		"plan": map[string]any{
			"karbor_object.name": "Plan", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0",
			"karbor_object.data": map[string]any{"id": planID, "name": name, "description": nil, "provider_id": infraProviderID,
				"project_id": rc.ProjectID, "status": "suspended", "resources": res,
				"parameters": map[string]any{"OS::Cinder::Volume": map[string]any{"backup_name": name + "-backup", "backup_mode": "full"}}},
			"karbor_object.changes": []string{"id", "name", "description", "provider_id", "project_id", "status", "resources", "parameters"},
		},
		"checkpoint_properties": map[string]any{"project_id": rc.ProjectID, "status": "protecting", "provider_id": infraProviderID,
			"protection_plan": map[string]any{"id": planID, "name": name, "resources": res}, "extra_info": `{"created_by": "manual"}`},
	}
	// Cinder has the volume available before it is protected.
	wctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ostest.WaitFor(t, wctx, "volume available", func() (bool, error) {
		got, err := volumes.Get(wctx, cinder, v.ID).Extract()
		return err == nil && got.Status == "available", err
	})

	var id string
	require.NoError(t, json.Unmarshal(result(t, call(t, c, "protect", ctx, args)), &id))
	show := map[string]any{"provider_id": infraProviderID, "checkpoint_id": id}
	status := func() string {
		var cp struct{ Status string }
		require.NoError(t, json.Unmarshal(result(t, call(t, c, "show_checkpoint", ctx, show)), &cp))
		return cp.Status
	}
	waitFor(t, 2*time.Minute, "checkpoint available", func() bool {
		st := status()
		require.NotEqual(t, "error", st, s.out.String())
		return st == "available"
	})
	found, err := filepath.Glob(filepath.Join(s.dir, "cinder-bank", "*", "checkpoints", id, "resource-data", v.ID, "metadata"))
	require.NoError(t, err)
	require.Len(t, found, 1, "the resource's metadata in the bank")
	raw, err := os.ReadFile(found[0])
	require.NoError(t, err)
	var md struct {
		VolumeID string `json:"volume_id"`
		BackupID string `json:"backup_id"`
	}
	require.NoError(t, json.Unmarshal(raw, &md))
	assert.Equal(t, v.ID, md.VolumeID)
	b, err := backups.Get(context.Background(), cinder, md.BackupID).Extract()
	require.NoError(t, err)
	assert.Equal(t, name+"-backup", b.Name)
	assert.Equal(t, "available", b.Status)

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
	_, err = backups.Get(context.Background(), cinder, md.BackupID).Extract()
	assert.True(t, gophercloud.ResponseCodeIs(err, 404), "the backup is gone: %v", err)
}
