//go:build linux

package fs

import (
	"errors"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noOpenat2 is set once the kernel has said it has no openat2.
var noOpenat2 atomic.Bool

// openBeneath opens name (relative to the bank's folder) for reading with
// one openat2 call, RESOLVE_BENEATH keeping the resolution inside the
// folder as the os.Root does. The os.Root resolves a path one component at
// a time, a system call or two each: close to half of what reading a
// checkpoint's index.json cost. ok is false whenever the call did not open
// the file (any error, or a kernel without openat2): the caller then opens
// it through the os.Root, which decides and reports as before.
func (p *Plugin) openBeneath(name string) (f *os.File, ok bool) {
	if noOpenat2.Load() {
		return nil, false
	}
	rc, err := p.rootDir.SyscallConn()
	if err != nil {
		return nil, false
	}
	fd, oerr := -1, error(nil)
	cerr := rc.Control(func(dirfd uintptr) {
		fd, oerr = unix.Openat2(int(dirfd), name, &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
		})
	})
	if cerr != nil || oerr != nil {
		if errors.Is(oerr, unix.ENOSYS) {
			noOpenat2.Store(true)
		}
		return nil, false
	}
	return os.NewFile(uintptr(fd), name), true
}
