package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// waitGlanceStatus polls show_checkpoint of the Glance provider until the
// checkpoint has status; an error status ends the wait at once.
func waitGlanceStatus(t *testing.T, c *rpctest.PyClient, ctx map[string]any, id, status string) {
	t.Helper()
	got := ""
	waitFor(t, 120*time.Second, "checkpoint "+id+" "+status, func() bool {
		var cp struct{ Status string }
		require.NoError(t, json.Unmarshal(result(t, call(t, c, "show_checkpoint", ctx, map[string]any{"provider_id": infraProviderID, "checkpoint_id": id})), &cp))
		got = cp.Status
		return got == status || got == "error"
	})
	require.Equal(t, status, got)
}

// TestGlanceImageOverRPC drives the built binary, configured with a
// provider of karbor's image protection plugin and a file-system bank,
// through protect → available → verification → restore → delete over RPC
// as karbor-api does, as the demo member of the real Keystone, against the
// real Glance: the restored image carries the original bytes, and the
// restores and verifications rows in MariaDB get the image's result.
func TestGlanceImageOverRPC(t *testing.T) {
	peers := ostest.RealPeers(t)
	m := sharedMariaDB(t)
	dbName, pool := m.createDatabase(t)
	url := rpctest.Vhost(t)
	tok, body := peers.Token(t, peers.User, peers.Password, peers.Project)
	rc := ostest.ContextFromToken(t, tok, body)
	octx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	glance, err := peers.Factory(t).Client(octx, &rc, clients.Glance)
	require.NoError(t, err)

	data := make([]byte, 3*131072+77)
	_, _ = rand.Read(data)
	img, err := images.Create(octx, glance, images.CreateOpts{Name: "karbor-e2e-image", DiskFormat: "qcow2", ContainerFormat: "bare"}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { _ = images.Delete(context.Background(), glance, img.ID).ExtractErr() })
	require.NoError(t, imagedata.Upload(octx, glance, img.ID, bytes.NewReader(data)).ExtractErr())

	s := configureService(t, url, serviceConfig{sections: peers.KarborConf() + "[database]\nconnection = " + m.url(dbName) + "\n"})
	bankPath := filepath.Join(s.dir, "glance-bank")
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "providers.d", "openstack-infra.conf"), []byte(fmt.Sprintf(`[provider]
name = OS Infra Provider
description = This provider uses OpenStack's own services (swift, cinder) as storage
id = %s
plugin=karbor-image-protection-plugin
bank=karbor-fs-bank-plugin
enabled=True

[file_system_bank_plugin]
file_system_bank_path = %s

[image_backup_plugin]
backup_image_object_size = 131072
poll_interval = 1
`, infraProviderID, bankPath)), 0o644))
	s.start()
	c := pyClient(t, url)

	project := rc.ProjectID
	ctx := requestContext(t, project, false)
	maps.Copy(ctx, ostest.ContextDict(t, tok, body))
	ctx["project"], ctx["user"] = project, ctx["user_id"]
	ctx["user_identity"] = fmt.Sprintf("%s %s - - -", ctx["user_id"], project)

	planID := "5b7c1f0e-8f6a-4f55-9d8e-2f6a0c1e9a11"
	resources := []map[string]any{{"id": img.ID, "type": "OS::Glance::Image", "name": "karbor-e2e-image", "extra_info": nil}}
	var cp string
	require.NoError(t, json.Unmarshal(result(t, call(t, c, "protect", ctx, map[string]any{
		"plan": map[string]any{
			"karbor_object.name": "Plan", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0",
			"karbor_object.data": map[string]any{"id": planID, "name": "image plan", "description": nil, "provider_id": infraProviderID,
				"project_id": project, "status": "suspended", "resources": resources, "parameters": map[string]any{}},
			"karbor_object.changes": []string{"id", "name", "description", "provider_id", "project_id", "status", "resources", "parameters"},
		},
		"checkpoint_properties": map[string]any{
			"project_id": project, "status": "protecting", "provider_id": infraProviderID,
			"protection_plan": map[string]any{"id": planID, "name": "image plan", "resources": resources},
			"extra_info":      `{"created_by": "manual"}`,
		},
	})), &cp))
	waitGlanceStatus(t, c, ctx, cp, "available")
	section := filepath.Join(bankPath, "karbor", "checkpoints", cp, "resource-data", img.ID)
	status, err := os.ReadFile(filepath.Join(section, "status"))
	require.NoError(t, err)
	assert.Equal(t, "available", string(status))
	meta, err := os.ReadFile(filepath.Join(section, "metadata"))
	require.NoError(t, err)
	assert.Contains(t, string(meta), `"disk_format": "qcow2", "container_format": "bare"`)
	assert.Contains(t, string(meta), `"chunks_num": 4}`)

	key := "OS::Glance::Image#" + img.ID
	py := pythonRows(t)
	withProvider := func(args map[string]any, kind string) map[string]any {
		args[kind].(map[string]any)["karbor_object.data"].(map[string]any)["provider_id"] = infraProviderID
		return args
	}

	t.Run("verification", func(t *testing.T) {
		insertAsAPI(t, pool, "verifications", pythonRow(t, py, "verifications", "id", recordedVerificationID), cp)
		assert.JSONEq(t, "null", string(result(t, call(t, c, "verification", ctx,
			withProvider(verificationArgs(recordedVerificationID, cp, project), "verification")))))
		row := oneRow(t, pool, "verification success", "verifications", "id = ?",
			func(r map[string]any) bool { return r["status"] == "success" }, recordedVerificationID)
		assert.JSONEq(t, fmt.Sprintf(`{%q: "available"}`, key), row["resources_status"].(string))
	})

	t.Run("restore", func(t *testing.T) {
		name := "karbor-e2e-restored-" + cp[:8]
		insertAsAPI(t, pool, "restores", pythonRow(t, py, "restores", "id", recordedRestoreID), cp)
		assert.JSONEq(t, "null", string(result(t, call(t, c, "restore", ctx,
			withProvider(restoreArgs(cp, project, map[string]any{key: map[string]any{"restore_name": name}}), "restore")))))
		row := oneRow(t, pool, "restore success", "restores", "id = ?",
			func(r map[string]any) bool { return r["status"] == "success" }, recordedRestoreID)
		assert.JSONEq(t, fmt.Sprintf(`{%q: "available"}`, key), row["resources_status"].(string))

		pages, err := images.List(glance, images.ListOpts{Name: name}).AllPages(octx)
		require.NoError(t, err)
		restored, err := images.ExtractImages(pages)
		require.NoError(t, err)
		require.Len(t, restored, 1)
		t.Cleanup(func() { _ = images.Delete(context.Background(), glance, restored[0].ID).ExtractErr() })
		assert.Equal(t, "qcow2", restored[0].DiskFormat)
		rd, err := imagedata.Download(octx, glance, restored[0].ID).Extract()
		require.NoError(t, err)
		got, err := io.ReadAll(rd)
		_ = rd.Close()
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data, got), "the restored image carries the original bytes")
	})

	assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", ctx, map[string]any{"provider_id": infraProviderID, "checkpoint_id": cp}))))
	waitGlanceStatus(t, c, ctx, cp, "deleted")
	_, err = os.Stat(filepath.Join(section, "data_1"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the image's objects are deleted")
}
