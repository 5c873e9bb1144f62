//go:build linux

package fs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openBeneath opens what stays inside the bank's folder, links included,
// and leaves everything else to the os.Root (readFile falls back to it).
func TestOpenBeneath(t *testing.T) {
	base := t.TempDir()
	bankDir := filepath.Join(base, "bank")
	outside := filepath.Join(base, "outside")
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644))
	p := newPlugin(t, bankDir)
	dir := filepath.Join(bankDir, "karbor", "checkpoints")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "real"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "real", "index.json"), []byte("{}"), 0o644))
	require.NoError(t, os.Symlink("real", filepath.Join(dir, "inside")))
	require.NoError(t, os.Symlink("../../../outside", filepath.Join(dir, "relative")))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "absolute")))

	for _, c := range []struct {
		name   string
		opened bool
	}{
		{"karbor/checkpoints/real/index.json", true},
		{"karbor/checkpoints/inside/index.json", true},
		{"karbor/checkpoints/relative/secret", false},
		{"karbor/checkpoints/absolute/secret", false},
		{"karbor/checkpoints/missing/index.json", false},
		{"../outside/secret", false},
		{filepath.Join(outside, "secret"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, ok := p.openBeneath(c.name)
			if ok {
				defer f.Close()
			}
			assert.Equal(t, c.opened, ok)
		})
	}
}
