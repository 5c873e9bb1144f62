package providers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/karbortest"
	"github.com/gokarbor/karbor-protection/providers"
)

const noopID = karbortest.NoopProviderID

// sessionResult returns the raw result of the first recorded exchange of a
// method in pkg/karbortest's session (the real Python service).
func sessionResult(t *testing.T, method string) json.RawMessage {
	t.Helper()
	for _, e := range karbortest.Session(t) {
		if e.Method == method {
			return e.Result
		}
	}
	t.Fatalf("no %s in the session", method)
	return nil
}

func compact(t *testing.T, raw []byte) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, json.Compact(&b, raw))
	return b.String()
}

// The noop provider file of the recorded session, with a file-system bank.
func noopFile(bankDir string) string {
	return `[provider]
name = No-Op Provider
description = This provider does nothing for each protect and restore operation. Used for testing
id = ` + noopID + `

plugin=karbor-noop-protection-plugin
bank=karbor-fs-bank-plugin

enabled=True

[file_system_bank_plugin]
file_system_bank_path = ` + bankDir + `
`
}

func TestNoopProviderDictMatchesPython(t *testing.T) {
	ctx, _ := quiet(t)
	reg, p := loadOne(t, ctx, noopFile(t.TempDir()))
	got, err := json.Marshal(p.Dict())
	require.NoError(t, err)
	// Byte order included: key order of every map is the Python one.
	assert.Equal(t, compact(t, sessionResult(t, "show_provider")), compact(t, got))

	list, err := reg.List(providers.ListQuery{})
	require.NoError(t, err)
	got, err = json.Marshal(list)
	require.NoError(t, err)
	assert.Equal(t, compact(t, sessionResult(t, "list_providers")), compact(t, got))

	_, err = reg.Show("00000000-0000-0000-0000-000000000000")
	var ke *karbor.Error
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "ProviderNotFound", ke.PythonClass())
	assert.Equal(t, "Provider 00000000-0000-0000-0000-000000000000 could not be found.", ke.Error())
	shown, err := reg.Show(noopID)
	require.NoError(t, err)
	assert.Same(t, p, shown)
}

func TestLoadDirectory(t *testing.T) {
	ctx, hook := quiet(t)
	dir, banks := t.TempDir(), t.TempDir()
	bankAt := func(name string) string { return filepath.Join(banks, name) }
	testPlugins.Store("registry", &testPlugin{types: []string{karbor.VolumeResourceType, karbor.ServerResourceType}})
	t.Cleanup(func() { testPlugins.Delete("registry") })
	files := map[string]string{
		"a-noop.conf":     noopFile(bankAt("a")),
		"b-disabled.conf": strings.Replace(providerFile("id-b", "Disabled", []string{"karbor-noop-protection-plugin"}, bankAt("b"), ""), "enabled = True", "enabled = False", 1),
		"c-default-off.conf": "[provider]\nid = id-c\nname = Off by default\nbank = karbor-fs-bank-plugin\n" +
			"plugin = karbor-noop-protection-plugin\n[file_system_bank_plugin]\nfile_system_bank_path = " + bankAt("c") + "\n",
		"d-syntax.conf":         "[provider\nid = id-d\n",
		"e-bad-bool.conf":       strings.Replace(providerFile("id-e", "Bad bool", nil, bankAt("e"), ""), "enabled = True", "enabled = maybe", 1),
		"f-empty-bank.conf":     strings.Replace(providerFile("id-f", "No bank", nil, bankAt("f"), ""), "bank = karbor-fs-bank-plugin", "bank =", 1),
		"g-empty-plugin.conf":   providerFile("id-g", "Empty plugin", []string{"karbor-noop-protection-plugin", ""}, bankAt("g"), ""),
		"h-unknown-plugin.conf": providerFile("id-h", "Unknown plugin", []string{"karbor-nope-plugin"}, bankAt("h"), ""),
		"i-unknown-bank.conf":   strings.Replace(providerFile("id-i", "Unknown bank", nil, bankAt("i"), ""), "karbor-fs-bank-plugin", "karbor-swift-bank-plugin", 1),
		"j-no-fs-path.conf":     "[provider]\nid = id-j\nname = No path\nbank = karbor-fs-bank-plugin\nenabled = True\n",
		"k-duplicate.conf":      strings.Replace(noopFile(bankAt("k")), "No-Op Provider", "Second No-Op", 1),
		"l-class-paths.conf": strings.NewReplacer("karbor-fs-bank-plugin", "karbor.services.protection.bank_plugins.file_system_bank_plugin.FileSystemBankPlugin").
			Replace(providerFile("id-l", "Class paths", []string{"karbor.services.protection.protection_plugins.noop_plugin.NoopProtectionPlugin"}, bankAt("l"), "")),
		"m-no-plugins.conf":     providerFile("id-m", "No plugins", nil, bankAt("m"), ""),
		"n-broken-plugin.conf":  providerFile("id-n", "Broken plugin", []string{testPluginName}, bankAt("n"), "[test_plugin]\ninstance = nobody\n"),
		"o-two-plugins.conf":    providerFile("id-o", "Two plugins", []string{"karbor-noop-protection-plugin", testPluginName}, bankAt("o"), "[test_plugin]\ninstance = registry\n"),
		"readme.txt":            "not a provider",
		"p-unreadable.conf.bak": "[provider\n",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "q-directory.conf"), 0o755))

	reg, err := providers.Load(ctx, providers.Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })

	var ids []string
	for _, p := range reg.Providers() {
		ids = append(ids, p.ID())
	}
	assert.Equal(t, []string{noopID, "id-l", "id-m", "id-o"}, ids, "sorted by id")
	assert.Equal(t, "No-Op Provider", must(reg.Show(noopID)).Name(), "the first file keeps the id")
	assert.Equal(t, filepath.Join(dir, "a-noop.conf"), must(reg.Show(noopID)).File())

	reasons := map[string]string{}
	var disabled []string
	for _, e := range hook.AllEntries() {
		file, _ := e.Data["provider_file"].(string)
		switch e.Level {
		case logrus.ErrorLevel:
			reasons[filepath.Base(file)] = e.Data[logrus.ErrorKey].(error).Error()
		case logrus.InfoLevel:
			if e.Message == "Provider is not enabled" {
				disabled = append(disabled, filepath.Base(file))
			}
		}
	}
	assert.ElementsMatch(t, []string{"b-disabled.conf", "c-default-off.conf"}, disabled)
	want := map[string]string{
		"d-syntax.conf":         "d-syntax.conf",
		"e-bad-bool.conf":       "maybe",
		"f-empty-bank.conf":     "Empty bank",
		"g-empty-plugin.conf":   "Empty protection plugin",
		"h-unknown-plugin.conf": `unknown protection plugin "karbor-nope-plugin" (forgotten import?)`,
		"i-unknown-bank.conf":   `unknown bank plugin "karbor-swift-bank-plugin" (forgotten import?)`,
		"j-no-fs-path.conf":     "file_system_bank_path",
		"k-duplicate.conf":      `has the id "` + noopID + `" of provider "No-Op Provider"`,
		"n-broken-plugin.conf":  `no test plugin instance "nobody"`,
		"q-directory.conf":      "not a regular file",
	}
	for file, part := range want {
		if assert.Contains(t, reasons, file) {
			assert.Contains(t, reasons[file], part, file)
		}
	}
	assert.Len(t, reasons, len(want), "only the broken files are reported: %v", reasons)

	// The later plugin serves its types, in the place the earlier one
	// gave them in the schema maps.
	two := must(reg.Show("id-o"))
	assert.Equal(t, karbor.ResourceTypes(), two.ExtendedInfoSchema().Options.Types())
	vol, ok := two.ExtendedInfoSchema().Options.Get(karbor.VolumeResourceType)
	require.True(t, ok)
	assert.JSONEq(t, `{"title": "options of OS::Cinder::Volume"}`, string(vol))
	proj, _ := two.ExtendedInfoSchema().SavedInfo.Get(karbor.ProjectResourceType)
	assert.Equal(t, "{}", string(proj))
	pl, err := two.Plugin(karbor.ServerResourceType)
	require.NoError(t, err)
	_, isTest := pl.(*testPlugin)
	assert.True(t, isTest)

	_, err = must(reg.Show("id-m")).Plugin(karbor.ServerResourceType)
	var ke *karbor.Error
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "Protection Plugin for OS::Nova::Server could not be found.", ke.Error())

	list, err := reg.List(providers.ListQuery{})
	require.NoError(t, err)
	out, err := json.MarshalIndent(list, "", " ")
	require.NoError(t, err)
	golden(t, "providers-list.json", append(out, '\n'))
}

func must(p *providers.Provider, err error) *providers.Provider {
	if err != nil {
		panic(err)
	}
	return p
}

func TestFindConfigDir(t *testing.T) {
	root := t.TempDir()
	roots := []string{filepath.Join(root, "r1"), filepath.Join(root, "r2"), filepath.Join(root, "r3"), filepath.Join(root, "r4")}
	mk := func(p string) string {
		require.NoError(t, os.MkdirAll(p, 0o755))
		return p
	}
	t.Run("as given", func(t *testing.T) {
		d := mk(filepath.Join(root, "abs", "providers.d"))
		got, err := providers.FindConfigDir(d, roots)
		require.NoError(t, err)
		assert.Equal(t, d, got)
	})
	t.Run("relative to the working directory", func(t *testing.T) {
		cwd := t.TempDir()
		mk(filepath.Join(cwd, "providers.d"))
		t.Chdir(cwd)
		got, err := providers.FindConfigDir("providers.d", roots)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(cwd, "providers.d"), got)
	})
	t.Run("fallbacks in order", func(t *testing.T) {
		t.Chdir(t.TempDir())
		last := mk(filepath.Join(roots[3], "fb.d"))
		got, err := providers.FindConfigDir("fb.d", roots)
		require.NoError(t, err)
		assert.Equal(t, last, got)
		third := mk(filepath.Join(roots[2], "fb.d"))
		got, err = providers.FindConfigDir("fb.d", roots)
		require.NoError(t, err)
		assert.Equal(t, third, got)
		first := mk(filepath.Join(roots[0], "fb.d"))
		got, err = providers.FindConfigDir("fb.d", roots)
		require.NoError(t, err)
		assert.Equal(t, first, got)
	})
	t.Run("not found", func(t *testing.T) {
		cwd := t.TempDir()
		t.Chdir(cwd)
		_, err := providers.FindConfigDir("nowhere.d", roots)
		var ke *karbor.Error
		require.ErrorAs(t, err, &ke)
		assert.Equal(t, "ConfigNotFound", ke.PythonClass())
		assert.Equal(t, "Could not find config at "+filepath.Join(cwd, "nowhere.d"), ke.Error())
		_, err = providers.Load(t.Context(), providers.Options{Dir: "nowhere.d", SearchRoots: roots})
		require.ErrorAs(t, err, &ke)
	})
	t.Run("a file is no directory", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file.d")
		require.NoError(t, os.WriteFile(f, nil, 0o644))
		_, err := providers.Load(t.Context(), providers.Options{Dir: f, SearchRoots: roots})
		assert.Error(t, err)
	})
}

func TestList(t *testing.T) {
	ctx, _ := quiet(t)
	dir, banks := t.TempDir(), t.TempDir()
	for _, id := range []string{"c", "a", "b"} {
		text := providerFile(id, "name-"+id, []string{"karbor-noop-protection-plugin"}, filepath.Join(banks, id), "")
		require.NoError(t, os.WriteFile(filepath.Join(dir, id+".conf"), []byte(text), 0o644))
	}
	reg, err := providers.Load(ctx, providers.Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	schema, err := json.Marshal(must(reg.Show("a")).ExtendedInfoSchema())
	require.NoError(t, err)
	var schemaValue any
	require.NoError(t, json.Unmarshal(schema, &schemaValue))
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name string
		q    providers.ListQuery
		want []string
	}{
		{"all, by id", providers.ListQuery{}, []string{"a", "b", "c"}},
		{"after the marker", providers.ListQuery{Marker: str("a")}, []string{"b", "c"}},
		{"last marker", providers.ListQuery{Marker: str("c")}, []string{}},
		{"unknown marker ignored", providers.ListQuery{Marker: str("zz")}, []string{"a", "b", "c"}},
		{"limit", providers.ListQuery{Limit: 2}, []string{"a", "b"}},
		{"limit 0 is none", providers.ListQuery{Limit: 0}, []string{"a", "b", "c"}},
		{"negative limit is none", providers.ListQuery{Limit: -1}, []string{"a", "b", "c"}},
		{"marker and limit", providers.ListQuery{Marker: str("a"), Limit: 1}, []string{"b"}},
		{"name filter", providers.ListQuery{Filters: map[string]any{"name": "name-b"}}, []string{"b"}},
		{"description filter", providers.ListQuery{Filters: map[string]any{"description": "name-c provider"}}, []string{"c"}},
		{"id filter", providers.ListQuery{Filters: map[string]any{"id": "zz"}}, []string{}},
		{"unknown filter ignored", providers.ListQuery{Filters: map[string]any{"status": "x"}}, []string{"a", "b", "c"}},
		{"schema filter", providers.ListQuery{Filters: map[string]any{"extended_info_schema": schemaValue}}, []string{"a", "b", "c"}},
		{"schema filter mismatch", providers.ListQuery{Filters: map[string]any{"extended_info_schema": map[string]any{}}}, []string{}},
		{"filter then limit", providers.ListQuery{Filters: map[string]any{"name": "name-c"}, Limit: 1}, []string{"c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := reg.List(tc.q)
			require.NoError(t, err)
			ids := []string{}
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			assert.Equal(t, tc.want, ids)
		})
	}
	_, err = reg.List(providers.ListQuery{Filters: map[string]any{"name": make(chan int)}})
	assert.Error(t, err, "a filter value that is no JSON")
}

func TestRegisterPanics(t *testing.T) {
	f := func(context.Context, *config.Config, *config.Config) (providers.ProtectionPlugin, error) {
		return nil, nil
	}
	assert.Panics(t, func() { providers.Register("", f) })
	assert.Panics(t, func() { providers.Register("x", nil) })
	assert.Panics(t, func() { providers.Register(testPluginName, f) })
	assert.Contains(t, providers.Plugins(), "karbor-noop-protection-plugin")
}
