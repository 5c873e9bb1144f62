//go:build unix

package fs

import (
	"errors"
	"io/fs"
	"syscall"
)

// isNoSpace reports a full file system or an exhausted quota.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// allocatedBytes is the space the file's blocks already hold (st_blocks is
// in 512-byte units), which a write may fill without allocating.
func allocatedBytes(st fs.FileInfo) int64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return int64(sys.Blocks) * 512
	}
	return 0
}
