package fs

import (
	"io/fs"
	"syscall"
	"time"
)

// stampOf is a directory's state as its status tells it.
func stampOf(st fs.FileInfo) (dirStamp, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return dirStamp{}, false
	}
	return dirStamp{
		dev: uint64(sys.Dev), ino: uint64(sys.Ino), nlink: uint64(sys.Nlink), size: sys.Size,
		mtime: time.Unix(sys.Mtim.Unix()), ctime: time.Unix(sys.Ctim.Unix()),
	}, true
}
