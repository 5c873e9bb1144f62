package fs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/fs/fstest"
)

// TestFullFileSystem runs the plugin on a real, full tmpfs: an existing
// object is still rewritten (in place) when that needs no new block, a new
// object fails with ENOSPC and leaves no directory behind, and once space
// is freed writes are atomic again.
func TestFullFileSystem(t *testing.T) {
	mnt := fstest.Tmpfs(t, 256<<10)
	p := newPlugin(t, filepath.Join(mnt, "bank"))
	ctx := context.Background()
	const key = "/checkpoints/c1/index.json"
	doc := `{"id": "c1", "status": "protecting", "owner_id": "` + strings.Repeat("o", 36) + `"}`
	require.NoError(t, p.PutObject(ctx, key, bank.Object{Data: []byte(doc)}))
	require.NoError(t, p.PutObject(ctx, "/checkpoints/c1/raw", bank.Object{Data: []byte("available")}))
	free := fstest.Fill(t, mnt)

	for _, tc := range []struct {
		name, key, data string
		want            string // what reading the object gives after the write
		err             bool
	}{
		{"shorter JSON is padded", key, `{"id": "c1", "status": "error"}`, `{"id": "c1", "status": "error"}` + strings.Repeat(" ", len(doc)-len(`{"id": "c1", "status": "error"}`)), false},
		{"longer JSON within the block", key, doc + "  ", doc + "  ", false},
		{"same-length raw value", "/checkpoints/c1/raw", "123456789", "123456789", false},
		{"shorter raw value cannot be padded", "/checkpoints/c1/raw", "error", "123456789", true},
		{"more than the blocks hold", key, `{"x": "` + strings.Repeat("x", 8192) + `"}`, doc + "  ", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.PutObject(ctx, tc.key, bank.Object{Data: []byte(tc.data)})
			if tc.err {
				require.ErrorIs(t, err, syscall.ENOSPC)
			} else {
				require.NoError(t, err)
			}
			got, err := p.GetObject(ctx, tc.key)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got.Data))
		})
	}
	t.Run("a new object leaves no folder", func(t *testing.T) {
		err := p.PutObject(ctx, "/checkpoints/c2/index.json", bank.Object{Data: []byte(`{"id": "c2"}`)})
		require.ErrorIs(t, err, syscall.ENOSPC)
		_, err = os.Lstat(filepath.Join(mnt, "bank", "karbor", "checkpoints", "c2"))
		assert.ErrorIs(t, err, os.ErrNotExist)
		err = p.PutObject(ctx, "/indices/by-plan/p/q/2026-12-05/1@c2", bank.Object{Data: []byte("c2")})
		require.ErrorIs(t, err, syscall.ENOSPC)
		_, err = os.Lstat(filepath.Join(mnt, "bank", "karbor", "indices"))
		assert.ErrorIs(t, err, os.ErrNotExist, "every level the write made is gone")
		tmp, err := os.ReadDir(filepath.Join(mnt, "bank", tmpDir, p.OwnerID()))
		require.NoError(t, err)
		assert.Empty(t, tmp, "no temporary file left")
	})
	t.Run("the lease is still renewed", func(t *testing.T) {
		require.NoError(t, p.RenewLease(ctx))
		assert.True(t, p.LeaseValid())
	})

	free()
	require.NoError(t, p.PutObject(ctx, key, bank.Object{Data: []byte(`{"id": "c1"}`)}))
	got, err := p.GetObject(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, `{"id": "c1"}`, string(got.Data), "an atomic write replaces the padded document")
}
