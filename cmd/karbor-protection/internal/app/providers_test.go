package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
)

// infraSample is karbor's OS Infra Provider file as this repository ships
// it.
var infraSample = filepath.Join("..", "..", "..", "..", "etc", "providers.d", "openstack-infra.conf.sample")

// TestOpenStackInfraSample: the sample parses as karbor's OS Infra Provider
// (its id, Swift bank, the four OpenStack plugins and each plugin's option
// at its default), and, copied into a provider directory as an operator
// would, loads with a plugin for each resource type.
func TestOpenStackInfraSample(t *testing.T) {
	raw, err := os.ReadFile(infraSample)
	require.NoError(t, err)
	conf, err := config.Load(config.ProviderRegistry(), config.LoadOptions{Sources: []config.Source{{Path: infraSample}}})
	require.NoError(t, err)
	pc, err := config.NewProvider(conf)
	require.NoError(t, err)
	assert.Equal(t, "OS Infra Provider", pc.Name)
	assert.Equal(t, "cf56bd3e-97a7-4078-b6d5-f36246333fd9", pc.ID, "karbor's id: plans made for the Python service keep working")
	assert.Equal(t, "karbor-swift-bank-plugin", pc.Bank)
	assert.True(t, pc.Enabled)
	types := map[string]string{
		"karbor-volume-protection-plugin":  karbor.VolumeResourceType,
		"karbor-image-protection-plugin":   karbor.ImageResourceType,
		"karbor-server-protection-plugin":  karbor.ServerResourceType,
		"karbor-network-protection-plugin": karbor.NetworkResourceType,
	}
	assert.ElementsMatch(t, []string{"karbor-volume-protection-plugin", "karbor-image-protection-plugin",
		"karbor-server-protection-plugin", "karbor-network-protection-plugin"}, pc.Plugins)
	for _, o := range []struct {
		section, key string
		want         int
	}{
		{"cinder_backup_protection_plugin", "poll_interval", 15},
		{"image_backup_plugin", "backup_image_object_size", 655360},
		{"image_backup_plugin", "poll_interval", 10},
		{"nova_backup_protection_plugin", "poll_interval", 15},
		{"neutron_backup_protection_plugin", "poll_interval", 15},
	} {
		v, present := conf.Get(o.section, o.key)
		assert.True(t, present, "[%s] %s", o.section, o.key)
		got, err := conf.Int(o.section, o.key, -1)
		assert.NoError(t, err)
		assert.Equal(t, o.want, got, "[%s] %s = %s", o.section, o.key, v)
	}
	for _, o := range []struct{ section, key string }{
		{"cinder_backup_protection_plugin", "backup_from_snapshot"},
		{"image_backup_plugin", "enable_server_snapshot"},
	} {
		got, err := conf.Bool(o.section, o.key, false)
		assert.NoError(t, err)
		assert.True(t, got, "[%s] %s", o.section, o.key)
	}

	text := string(raw)
	// The Swift bank connects in the background when Keystone does not
	// answer: the load needs no Swift.
	text = strings.Replace(text, "swift_auth_url=http://127.0.0.1:5000/v3", "swift_auth_url=http://127.0.0.1:9/v3", 1)
	dir := filepath.Join(t.TempDir(), "providers.d")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "openstack-infra.conf"), []byte(text), 0o644))
	logger, _ := logtest.NewNullLogger()
	ctx := logctx.With(context.Background(), logrus.NewEntry(logger))
	reg, err := providers.Load(ctx, providers.Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, reg.Close()) })
	p, err := reg.Show(pc.ID)
	require.NoError(t, err, "the provider is loaded")
	assert.Equal(t, pc.Name, p.Name())
	for _, name := range pc.Plugins {
		_, err := p.Plugin(types[name])
		assert.NoError(t, err, "%s protects %s", name, types[name])
	}
}
