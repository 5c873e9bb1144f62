package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

func TestSearch(t *testing.T) {
	root := t.TempDir()
	home, etc := filepath.Join(root, "home"), filepath.Join(root, "etc")
	s := Search{Project: "karbor", Prog: "karbor-protection", Home: home, Etc: etc}

	assert.Empty(t, s.Files())
	assert.Empty(t, s.Dirs())

	writeFile(t, filepath.Join(etc, "karbor.conf"), "")
	writeFile(t, filepath.Join(etc, "karbor", "karbor.conf"), "")
	writeFile(t, filepath.Join(etc, "karbor-protection.conf"), "")
	assert.Equal(t, []string{filepath.Join(etc, "karbor", "karbor.conf"), filepath.Join(etc, "karbor-protection.conf")},
		s.Files(), "the first directory holding each name; project first, then the program")

	writeFile(t, filepath.Join(home, "karbor.conf"), "")
	writeFile(t, filepath.Join(home, ".karbor", "karbor.conf"), "")
	assert.Equal(t, filepath.Join(home, ".karbor", "karbor.conf"), s.Files()[0])

	writeFile(t, filepath.Join(etc, "karbor", "karbor.conf.d", "x.conf"), "")
	assert.Equal(t, []string{filepath.Join(etc, "karbor", "karbor.conf.d")}, s.Dirs())

	snap := Search{Project: "karbor", Snap: "/snap/k", SnapCommon: "/var/snap/k", Etc: etc}
	assert.Equal(t, []string{filepath.Join(etc, "karbor"), etc, "/var/snap/k/etc/karbor", "/snap/k/etc/karbor"}, snap.dirs())
	assert.Equal(t, []string{etc}, Search{Prog: "p", Etc: etc}.dirs(), "no project: only ~ (if known) and /etc")
}

func TestLoadOrder(t *testing.T) {
	root := t.TempDir()
	etc := filepath.Join(root, "etc")
	writeFile(t, filepath.Join(etc, "karbor", "karbor.conf"), "[DEFAULT]\nm = default-file\n")
	writeFile(t, filepath.Join(etc, "karbor", "karbor.conf.d", "b.conf"), "[DEFAULT]\nm = default-dir-b\n")
	writeFile(t, filepath.Join(etc, "karbor", "karbor.conf.d", "a.conf"), "[DEFAULT]\nm = default-dir-a\n")
	writeFile(t, filepath.Join(root, "cli.conf"), "[DEFAULT]\nm = cli-file\n")
	writeFile(t, filepath.Join(root, "cli.d", "z.conf"), "[DEFAULT]\nm = cli-dir\n")
	writeFile(t, filepath.Join(root, "home", "extra.conf"), "[DEFAULT]\nm = home\n")
	search := &Search{Project: "karbor", Prog: "karbor-protection", Etc: etc}
	reg := NewRegistry()
	reg.Register(DefaultGroup, Opt{Name: "m", Type: String{}, Multi: true})

	tests := []struct {
		name    string
		sources []Source
		want    []string
	}{
		{"defaults only", nil, []string{"default-file", "default-dir-a", "default-dir-b"}},
		{"a file replaces the default files", []Source{{Path: filepath.Join(root, "cli.conf")}},
			[]string{"default-dir-a", "default-dir-b", "cli-file"}},
		{"a dir replaces the default dirs", []Source{{Path: filepath.Join(root, "cli.d"), Dir: true}},
			[]string{"default-file", "cli-dir"}},
		{"command-line order", []Source{{Path: filepath.Join(root, "cli.d"), Dir: true}, {Path: filepath.Join(root, "cli.conf")}, {Path: "~/extra.conf"}},
			[]string{"cli-dir", "cli-file", "home"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(reg, LoadOptions{Sources: tt.sources, Search: search, Home: filepath.Join(root, "home")})
			require.NoError(t, err)
			v, err := c.Value(DefaultGroup, "m")
			require.NoError(t, err)
			assert.Equal(t, tt.want, v)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "bad.conf"), "[DEFAULT]\nx\n")
	writeFile(t, filepath.Join(root, "d", "bad.conf"), "novalue\n")
	writeFile(t, filepath.Join(root, "file"), "")
	tests := []struct {
		name   string
		source Source
		want   string
	}{
		{"missing file", Source{Path: filepath.Join(root, "nope.conf")}, "nope.conf"},
		{"missing dir", Source{Path: filepath.Join(root, "nodir"), Dir: true}, "nodir"},
		{"dir is a file", Source{Path: filepath.Join(root, "file"), Dir: true}, "file"},
		{"bad file", Source{Path: filepath.Join(root, "bad.conf")}, "bad.conf:2"},
		{"bad file in dir", Source{Path: filepath.Join(root, "d"), Dir: true}, filepath.Join("d", "bad.conf") + ":1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(NewRegistry(), LoadOptions{Sources: []Source{tt.source}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestExpandHome(t *testing.T) {
	o := LoadOptions{Home: "/home/k"}
	for in, want := range map[string]string{"~": "/home/k", "~/a.conf": "/home/k/a.conf", "/etc/x": "/etc/x", "~other/x": "~other/x"} {
		got, err := o.expand(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
}
