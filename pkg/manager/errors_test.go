package manager

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/rpc"
)

// TestRepliesCarryNoServerPaths: a failure's reply says what failed in the
// caller's terms (the bank key, the system error), never a path of the
// server.
func TestRepliesCarryNoServerPaths(t *testing.T) {
	tmpWrite := &fs.PathError{Op: "openat", Path: ".karbor-tmp/0f6c/8a1e", Err: syscall.ENOSPC}
	rename := &os.LinkError{Op: "renameat", Old: ".karbor-tmp/0f6c/8a1e", New: "karbor/checkpoints/c1/index.json", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		name        string
		err         error
		class, text string
	}{
		{"temporary file of an update", &bank.ObjectError{Op: bank.OpUpdate, Key: "/checkpoints/c1/index.json", Err: tmpWrite},
			"BankUpdateObjectFailed", "Update Object /checkpoints/c1/index.json in Bank Failed: no space left on device"},
		{"rename of an update", fmt.Errorf("bank: set status: %w", &bank.ObjectError{Op: bank.OpUpdate, Key: "/checkpoints/c1/index.json", Err: rename}),
			"BankUpdateObjectFailed", "Update Object /checkpoints/c1/index.json in Bank Failed: no space left on device"},
		{"listing", &bank.ObjectError{Op: bank.OpList, Key: "/indices/", Err: &fs.PathError{Op: "open", Path: "/var/lib/karbor/bank/karbor/indices", Err: syscall.EACCES}},
			"BankListObjectsFailed", "Get Object in Bank Failed: permission denied"},
		{"lease", &bank.LeaseError{OwnerID: "o", Err: &fs.PathError{Op: "openat", Path: "leases/o", Err: syscall.EROFS}},
			"AcquireLeaseFailed", "Acquire Lease in Failed: read-only file system"},
		{"bank storage unreachable, inside an object failure", &bank.ObjectError{Op: bank.OpGet, Key: "/checkpoints/c1/index.json",
			Err: &bank.ContainerError{Container: "karbor", Err: errors.New("keystone at http://k/v3: HTTP 503")}},
			"CreateContainerFailed", "Create Container in Bank Failed: keystone at http://k/v3: HTTP 503"},
		{"no Python face, no path", errors.Join(errors.New("bank: lock checkpoint c1"), &os.SyscallError{Syscall: "flock", Err: syscall.ENOLCK}),
			"", "bank: lock checkpoint c1\nflock: no locks available"},
		{"no Python face, with a path", fmt.Errorf("bank: lock checkpoint c1: %w", &fs.PathError{Op: "flock", Path: "/srv/bank/karbor/checkpoints/c1", Err: syscall.ENOLCK}),
			"RuntimeError", "bank: lock checkpoint c1: no locks available"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := remote(tc.err)
			re, ok := got.(rpc.RemoteException)
			if tc.class == "" { // sent as it is, a RuntimeError
				require.False(t, ok)
				assert.Equal(t, tc.text, got.Error())
				return
			}
			require.True(t, ok, "%T has no Python face", got)
			assert.Equal(t, tc.class, re.PythonClass())
			assert.Equal(t, tc.text, re.Error())
			assert.NotContains(t, re.Error(), "karbor-tmp")
		})
	}
}
