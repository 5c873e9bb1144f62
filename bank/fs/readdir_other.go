//go:build !unix

package fs

import "os"

// readDirEntries lists an open directory.
func readDirEntries(d *os.File) ([]os.DirEntry, error) { return d.ReadDir(-1) }
