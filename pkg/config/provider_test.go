package config

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProvider(t *testing.T) {
	tests := []struct {
		name, text string
		want       Provider
	}{
		{"fs bank provider", `[provider]
name = OS Infra Provider with local file system bank
description = This provider uses local file system as the bank of karbor
id = 6659007d-6f66-4a0f-9cb4-17d6aded0bb9

plugin=karbor-volume-protection-plugin
plugin=karbor-image-protection-plugin
plugin=karbor-server-protection-plugin
bank=karbor-fs-bank-plugin

enabled=True

[file_system_bank_plugin]
file_system_bank_path=/opt/stack/karbor_fs_bank
`, Provider{
			ID:          "6659007d-6f66-4a0f-9cb4-17d6aded0bb9",
			Name:        "OS Infra Provider with local file system bank",
			Description: "This provider uses local file system as the bank of karbor",
			Bank:        "karbor-fs-bank-plugin",
			Plugins:     []string{"karbor-volume-protection-plugin", "karbor-image-protection-plugin", "karbor-server-protection-plugin"},
			Enabled:     true,
		}},
		{"empty file: defaults", "", Provider{Plugins: []string{}}},
		{"empty plugin value kept (the Python service rejects it)", "[Provider]\nplugin =\nenabled = off\n",
			Provider{Plugins: []string{""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.conf")
			writeFile(t, path, tt.text)
			c, err := Load(ProviderRegistry(), LoadOptions{Sources: []Source{{Path: path}}})
			require.NoError(t, err)
			p, err := NewProvider(c)
			require.NoError(t, err)
			assert.Equal(t, &tt.want, p)
		})
	}
}

func TestProviderPluginSections(t *testing.T) {
	c := New(ProviderRegistry(), []*File{mustParse(t, "/etc/karbor/providers.d/fs.conf",
		"[provider]\nenabled = yes\n[file_system_bank_plugin]\nfile_system_bank_path = /srv/bank\nbank_object_container =\n")}, nil)
	path, ok := c.Get("file_system_bank_plugin", "file_system_bank_path")
	assert.True(t, ok)
	assert.Equal(t, "/srv/bank", path)
	container, ok := c.Get("file_system_bank_plugin", "bank_object_container")
	assert.True(t, ok, "an empty value is a value")
	assert.Empty(t, container)

	// A plugin may also declare its options, as it would with oslo.config.
	c.Registry().Register("file_system_bank_plugin", Opt{Name: "bank_object_container", Type: String{}, Default: "karbor"})
	v, err := c.Value("file_system_bank_plugin", "bank_object_container")
	require.NoError(t, err)
	assert.Equal(t, "", v)
}

func TestProviderBadValue(t *testing.T) {
	c := New(ProviderRegistry(), []*File{mustParse(t, "/etc/karbor/providers.d/x.conf", "[provider]\nenabled = sometimes\n")}, nil)
	_, err := NewProvider(c)
	assert.ErrorContains(t, err, `/etc/karbor/providers.d/x.conf: [provider] enabled = "sometimes"`)
}
