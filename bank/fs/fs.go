// Package fs is karbor's file-system bank, "karbor-fs-bank-plugin": object
// key K lives in the file <file_system_bank_path>/<bank_object_container>K,
// exactly as the Python plugin lays it out, so either service reads the
// other's bank.
//
// Beyond Python: writes are atomic (temporary file, fsync, rename, fsync of
// the directory); every path is resolved through an os.Root, so no key and
// no symlink planted in the bank can reach outside it; listings are sorted,
// honour marker, direction and limit, and stop early, and a large
// directory's sorted listing is kept while the directory is unchanged
// (dircache.go); and each instance holds a lease, the file
// <file_system_bank_path>/leases/<owner_id>, where the Python service never
// looks. Temporary files live in
// <file_system_bank_path>/.karbor-tmp/<owner_id>/, also outside the
// container, so a crash never leaves a stray object behind.
package fs

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
)

// PluginName is the entry-point name provider files use.
const PluginName = "karbor-fs-bank-plugin"

// ConfigSection is the provider-file section of the plugin's options.
const ConfigSection = "file_system_bank_plugin"

// Directories beside the container, which the Python service never reads.
const (
	leasesDir = "leases"
	tmpDir    = ".karbor-tmp"
)

// DefaultContainer is bank_object_container's default.
const DefaultContainer = "karbor"

func init() {
	bank.RegisterConfigured(PluginName, OptionsFromConfig, func(ctx context.Context, opts Options, holder bank.Holder, log *logrus.Entry) (*Plugin, error) {
		opts.Holder, opts.Log = holder, log
		return New(ctx, opts)
	})
}

// Options configure a Plugin.
type Options struct {
	// Path is file_system_bank_path (required).
	Path string
	// Container is bank_object_container; "" means "karbor".
	Container string
	// OwnerID is this instance's owner id; "" means a new random UUID.
	OwnerID string
	// Holder is recorded in the lease (the service's host and process
	// incarnation).
	Holder bank.Holder
	// Lease windows (lease_expire_window, lease_renew_window,
	// lease_validity_window); zero means the default.
	LeaseExpireWindow, LeaseRenewWindow, LeaseValidityWindow time.Duration
	// Clock tells the time for leases; nil means time.Now.
	Clock func() time.Time
	// Log receives renewal failures; nil means the standard logger.
	Log *logrus.Entry
}

// OptionsFromConfig reads [file_system_bank_plugin] of a provider file.
func OptionsFromConfig(conf bank.Config) (Options, error) {
	var opts Options
	path, ok := conf.Get(ConfigSection, "file_system_bank_path")
	if !ok || path == "" {
		return opts, &bank.ConfigError{Plugin: PluginName, Section: ConfigSection, Key: "file_system_bank_path", Reason: "required option is not set"}
	}
	opts.Path = path
	if c, ok := conf.Get(ConfigSection, "bank_object_container"); ok {
		opts.Container = c
	}
	for _, w := range []struct {
		key string
		dst *time.Duration
	}{
		{"lease_expire_window", &opts.LeaseExpireWindow},
		{"lease_renew_window", &opts.LeaseRenewWindow},
		{"lease_validity_window", &opts.LeaseValidityWindow},
	} {
		v, ok := conf.Get(ConfigSection, w.key)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return opts, &bank.ConfigError{Plugin: PluginName, Section: ConfigSection, Key: w.key, Reason: fmt.Sprintf("%q is not a positive number of seconds", v)}
		}
		*w.dst = time.Duration(n) * time.Second
	}
	return opts, nil
}

func (o *Options) setDefaults() error {
	if o.Path == "" {
		return &bank.ConfigError{Plugin: PluginName, Section: ConfigSection, Key: "file_system_bank_path", Reason: "required option is not set"}
	}
	if o.Container == "" {
		o.Container = DefaultContainer
	}
	if err := checkContainer(o.Container); err != nil {
		return err
	}
	if o.OwnerID == "" {
		o.OwnerID = uuid.NewString()
	}
	if !bank.ValidOwnerID(o.OwnerID) {
		return fmt.Errorf("fs bank: invalid owner id %q", o.OwnerID)
	}
	if err := bank.SetLeaseWindows(PluginName, ConfigSection, &o.LeaseExpireWindow, &o.LeaseRenewWindow, &o.LeaseValidityWindow); err != nil {
		return err
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	return nil
}

// checkContainer accepts a relative directory made of key characters, not
// one of the directories kept beside it.
func checkContainer(c string) error {
	bad := func(reason string) error {
		return &bank.ConfigError{Plugin: PluginName, Section: ConfigSection, Key: "bank_object_container", Reason: fmt.Sprintf("%q %s", c, reason)}
	}
	if !bank.ValidKeyChars(c) {
		return bad("may only hold letters, digits and _ . - @ /")
	}
	for part := range strings.SplitSeq(c, "/") {
		if part == "" || part == "." || part == ".." {
			return bad("must be a relative path without empty, . or .. parts")
		}
	}
	if first, _, _ := strings.Cut(c, "/"); first == leasesDir || first == tmpDir {
		return bad("is reserved for the bank's leases and temporary files")
	}
	return nil
}

// Plugin is the file-system bank. It implements bank.Plugin and bank.Locker.
type Plugin struct {
	root      *os.Root // file_system_bank_path
	rootDir   *os.File // the same folder, opened through root (openBeneath)
	container string
	tmp       string // this owner's temporary directory, relative to root
	opts      Options
	log       *logrus.Entry

	expiry  bank.LeaseExpiry
	renewal bank.LeaseLoop

	dirs dirCache // listings of large directories

	// readClock, when set by a test, tells the time a listing is read at,
	// against which the cache judges whether a directory has settled; nil
	// means time.Now.
	readClock func() time.Time

	closeOnce sync.Once
	closeErr  error

	// beforeRename, when set by a test, runs between writing a temporary
	// file and renaming it into place; an error aborts the write there, as
	// a crash would.
	beforeRename func(tmp, final string) error
}

var (
	_ bank.Plugin = (*Plugin)(nil)
	_ bank.Locker = (*Plugin)(nil)
)

// New opens (creating as Python does) the bank directories, takes the lease
// and starts renewing it until Close.
func New(ctx context.Context, opts Options) (*Plugin, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Path, 0o755); err != nil {
		return nil, fmt.Errorf("fs bank: create file_system_bank_path: %w", err)
	}
	root, err := os.OpenRoot(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("fs bank: open file_system_bank_path: %w", err)
	}
	rootDir, err := root.Open(".")
	if err != nil {
		_ = root.Close()
		return nil, fmt.Errorf("fs bank: open file_system_bank_path: %w", err)
	}
	p := &Plugin{
		root:      root,
		rootDir:   rootDir,
		container: opts.Container,
		tmp:       tmpDir + "/" + opts.OwnerID,
		opts:      opts,
		log:       opts.Log.WithFields(logrus.Fields{"bank": PluginName, "owner_id": opts.OwnerID}),
	}
	for _, dir := range []string{p.container, leasesDir, p.tmp} {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			_ = rootDir.Close()
			_ = root.Close()
			return nil, fmt.Errorf("fs bank: create %s: %w", dir, err)
		}
	}
	if err := p.AcquireLease(ctx); err != nil {
		_ = rootDir.Close()
		_ = root.Close()
		return nil, err
	}
	p.sweepTemporaries(ctx)
	p.renewal.Start(ctx, p.renewLoop)
	return p, nil
}

// OwnerID implements bank.Plugin.
func (p *Plugin) OwnerID() string { return p.opts.OwnerID }

// Ping implements bank.Plugin: file_system_bank_path still names the
// folder opened at start (not removed, moved away or replaced: the plugin
// keeps working in the folder it opened, so a new one at the same path is
// not the bank the service writes to, and a restart is needed), and the
// container is still a folder in it.
func (p *Plugin) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	named, err := os.Stat(p.opts.Path)
	if err != nil {
		return fmt.Errorf("fs bank: file_system_bank_path: %w", err)
	}
	opened, err := p.root.Stat(".")
	if err != nil {
		return fmt.Errorf("fs bank: file_system_bank_path: %w", err)
	}
	if !os.SameFile(named, opened) {
		return fmt.Errorf("fs bank: file_system_bank_path %s is no longer the folder opened at start (moved or replaced): restart the service", p.opts.Path)
	}
	c, err := p.root.Stat(p.container)
	if err != nil {
		return fmt.Errorf("fs bank: container: %w", err)
	}
	if !c.IsDir() {
		return fmt.Errorf("fs bank: container %s is not a folder", p.container)
	}
	return nil
}

// Close stops renewing, releases the lease and closes the bank. The lease
// is released by storing it expired, not removed: its unfinished
// checkpoints (if any) are recognised as orphaned at once, and its holder
// stays known as one of ours until recovery has dealt with them and
// removes the lease.
func (p *Plugin) Close() error {
	p.closeOnce.Do(func() {
		p.renewal.Stop()
		if err := p.writeLease(p.opts.Clock()); err != nil {
			p.closeErr = fmt.Errorf("fs bank: release lease: %w", err)
		}
		p.expiry.Set(time.Time{})
		_ = p.root.RemoveAll(p.tmp)
		_ = p.rootDir.Close()
		if err := p.root.Close(); err != nil && p.closeErr == nil {
			p.closeErr = err
		}
	})
	return p.closeErr
}
