//go:build unix

package fs

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"syscall"
	"time"
)

// Lock implements bank.Locker with flock(2) on the directory holding key
// (for index.json, the checkpoint's directory, whose inode atomic renames
// never replace). flock locks belong to the open file, so they exclude
// other processes and other Plugins in this one alike. A key whose
// directory does not exist needs no lock: there is nothing to modify.
//
// flock works on local file systems and on NFSv4 (as a POSIX lock); on
// file systems without locking, concurrent updates across hosts are not
// serialised.
func (p *Plugin) Lock(ctx context.Context, key string) (func(), error) {
	if err := checkKey(key, false); err != nil {
		return nil, err
	}
	d, err := p.root.Open(path.Dir(p.objectPath(key)))
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	fd := int(d.Fd())
	wait := time.Millisecond
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(fd, syscall.LOCK_UN)
				_ = d.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = d.Close()
			return nil, err
		}
		// Another holder; poll with a capped backoff (flock has no
		// timeout, and a blocked syscall could not see ctx).
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			_ = d.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
