//go:build unix

package fs

import (
	"os"
	"syscall"
)

// readDirEntries lists an open directory. A directory opened through an
// os.Root lstat's every entry in ReadDir (Go cannot trust a lazy lstat by
// path there); listings only need the type getdents already reports, so
// read the entries through a duplicate descriptor that is not tied to the
// Root. Types the file system does not report are still looked up, with
// fstatat relative to the directory's descriptor.
func readDirEntries(d *os.File) ([]os.DirEntry, error) {
	fd, err := syscall.Dup(int(d.Fd()))
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), d.Name())
	defer f.Close()
	return f.ReadDir(-1)
}
