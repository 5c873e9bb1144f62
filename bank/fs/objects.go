package fs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/jsonscan"
)

// errNotAFile is what Python's plugin says of a missing object; it is
// bank.ErrNotFound.
type errNotAFile struct{}

func (errNotAFile) Error() string        { return "Object is not a file" }
func (errNotAFile) Is(target error) bool { return target == bank.ErrNotFound }

// notExist reports whether err says a path does not exist, including a
// path through a file ("/a/b/c" when "/a/b" is an object), which is no
// object either.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// checkKey refuses anything but a normalised bank key before it becomes a
// path, and (as the Python plugin) ".." anywhere in it.
func checkKey(key string, isPrefix bool) error {
	if err := bank.CheckPluginKey(key, isPrefix); err != nil {
		return err
	}
	if strings.Contains(key, "..") {
		return &bank.InvalidPathError{Path: key}
	}
	return nil
}

const osCreateExcl = os.O_WRONLY | os.O_CREATE | os.O_EXCL

// objectPath is the key's file, relative to the bank root.
func (p *Plugin) objectPath(key string) string { return p.container + key }

// PutObject writes the object atomically: a temporary file outside the
// container, fsync, rename over the key's file, fsync of its directory.
// Readers see the old object or the new one, never a part.
func (p *Plugin) PutObject(ctx context.Context, key string, obj bank.Object) error {
	if err := checkKey(key, false); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.writeAtomic(p.objectPath(key), obj.Data)
}

func (p *Plugin) writeAtomic(name string, data []byte) (err error) {
	dir := path.Dir(name)
	made := p.missingDirs(dir)
	defer func() {
		if err != nil {
			// A write that failed leaves no directory it made behind (a
			// failed create no empty checkpoint folder).
			p.removeEmptyDirs(made)
		}
	}()
	if err := p.root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := p.writeTemporary(data)
	if err != nil {
		return p.noSpaceFallback(name, data, err)
	}
	if p.beforeRename != nil {
		if err := p.beforeRename(tmp, name); err != nil {
			return err
		}
	}
	err = p.root.Rename(tmp, name)
	if errors.Is(err, fs.ErrNotExist) {
		// A concurrent delete removed the emptied directory between
		// MkdirAll and Rename; make it again once.
		if err = p.root.MkdirAll(dir, 0o755); err == nil {
			err = p.root.Rename(tmp, name)
		}
	}
	if err != nil {
		_ = p.root.Remove(tmp)
		return p.noSpaceFallback(name, data, err)
	}
	return p.syncDir(dir)
}

// noSpaceFallback is what a write does when the atomic path failed: on a
// full file system (ENOSPC, EDQUOT) an object that already exists is
// rewritten in place if that needs no new block (writeInPlace), so that
// status changes (index.json, the lease) still work on a full bank and a
// delete can free it. Any other failure, or one the in-place write cannot
// take, is returned as it was.
func (p *Plugin) noSpaceFallback(name string, data []byte, err error) error {
	if !isNoSpace(err) {
		return err
	}
	if ierr := p.writeInPlace(name, data); ierr != nil {
		p.log.WithError(ierr).WithField("object", name).Debug("The file system is full and the object cannot be rewritten in place")
		return err
	}
	p.log.WithField("object", name).Warn("The bank's file system is full; object rewritten in place")
	return nil
}

// errNoInPlace says an object cannot be rewritten in place.
var errNoInPlace = errors.New("cannot rewrite in place")

// writeInPlace replaces an existing regular file's content with data in
// one write at offset 0, only when that write needs no block the file does
// not already have (allocatedBytes), so it cannot run out of space half
// way. A shorter JSON document is padded with spaces to the old length
// (JSON allows trailing white space, Python's json.loads too), so the file
// never needs truncating: a crash of the service leaves the old document
// or the new one, never a mix. A shorter object that is not JSON cannot be
// padded and is refused.
func (p *Plugin) writeInPlace(name string, data []byte) error {
	f, err := p.root.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errNoInPlace
	}
	buf := data
	if pad := st.Size() - int64(len(data)); pad > 0 {
		if !jsonscan.Valid(data) {
			return errNoInPlace
		}
		buf = append(append(make([]byte, 0, st.Size()), data...), bytes.Repeat([]byte{' '}, int(pad))...)
	}
	if int64(len(buf)) > allocatedBytes(st) {
		return errNoInPlace
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		return err
	}
	return f.Sync()
}

// missingDirs are dir and those of its parents inside the container that
// do not exist yet, deepest first: what a write's MkdirAll will make.
func (p *Plugin) missingDirs(dir string) []string {
	var missing []string
	for d := dir; d != p.container && d != "." && d != "/"; d = path.Dir(d) {
		if _, err := p.root.Lstat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	return missing
}

// removeEmptyDirs removes the directories a failed write made, deepest
// first; one that is not empty (another writer's file arrived) stays.
func (p *Plugin) removeEmptyDirs(dirs []string) {
	for _, d := range dirs {
		if err := p.root.Remove(d); err != nil {
			return
		}
	}
}

func (p *Plugin) writeTemporary(data []byte) (string, error) {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	name := p.tmp + "/" + hex.EncodeToString(rnd[:])
	f, err := p.root.OpenFile(name, osCreateExcl, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		// Another instance swept the directory, having judged this owner
		// dead (its lease ran out while it hung); make it again.
		if err = p.root.MkdirAll(p.tmp, 0o755); err == nil {
			f, err = p.root.OpenFile(name, osCreateExcl, 0o644)
		}
	}
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = p.root.Remove(name)
		return "", err
	}
	return name, nil
}

func (p *Plugin) syncDir(dir string) error {
	d, err := p.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// GetObject reads the object; it must be a regular file. Like the Python
// plugin, it reports the content as serialized when it parses as JSON.
func (p *Plugin) GetObject(ctx context.Context, key string) (bank.Object, error) {
	if err := checkKey(key, false); err != nil {
		return bank.Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return bank.Object{}, err
	}
	data, err := p.readFile(p.objectPath(key))
	if err != nil {
		return bank.Object{}, err
	}
	return bank.Object{Data: data, Serialized: jsonscan.Valid(data)}, nil
}

func (p *Plugin) readFile(name string) ([]byte, error) {
	f, ok := p.openBeneath(name)
	if !ok {
		var err error
		f, err = p.root.Open(name)
		if notExist(err) {
			return nil, errNotAFile{}
		}
		if err != nil {
			return nil, err
		}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotAFile{}
	}
	return io.ReadAll(f)
}

// DeleteObject removes the object's file and then, as Python does, its
// directory if that became empty (one level, never the container).
func (p *Plugin) DeleteObject(ctx context.Context, key string) error {
	if err := checkKey(key, false); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	name := p.objectPath(key)
	st, err := p.root.Lstat(name)
	if notExist(err) {
		return errNotAFile{}
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory", key)
	}
	if err := p.root.Remove(name); err != nil {
		return err
	}
	if dir := path.Dir(name); dir != p.container {
		// Fails harmlessly when the directory is not empty.
		_ = p.root.Remove(dir)
	}
	return nil
}
