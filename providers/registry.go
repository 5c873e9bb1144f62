package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
)

// defaultSearchRoots are where karbor looks for a provider_config_dir that
// is not found as given (karbor/utils.py find_config), in order.
var defaultSearchRoots = []string{"/var/lib/karbor/etc/karbor", "/var/lib/karbor/etc", "/var/lib/karbor", "/etc/karbor"}

// Options say where the providers are and how to load them.
type Options struct {
	// Dir is provider_config_dir as configured ("providers.d" by default).
	Dir string
	// SearchRoots replace defaultSearchRoots (for tests).
	SearchRoots []string
	// Environ, in the form of os.Environ(), gives each provider file the
	// OS_<GROUP>__<OPTION> overrides oslo.config applies to it; nil
	// consults no environment.
	Environ []string
	// Checkpoints are options for every provider's checkpoint collection
	// (a clock, an id generator, the evidence about owners without a
	// lease).
	Checkpoints []bank.Option
	// Holder is this process as every bank lease records it (the
	// service's host and incarnation).
	Holder bank.Holder
	// Service is karbor.conf, from which plugins configure their OpenStack
	// clients; nil reads as every default.
	Service *config.Config
	// BankObserver, if set, is told about every bank's requests and lease
	// (for metrics).
	BankObserver bank.Observer
}

// Registry holds the providers loaded from a directory, by id. It is
// immutable and safe for concurrent use; Close releases the banks.
type Registry struct {
	dir       string
	providers map[string]*Provider
	sorted    []*Provider // by id
}

// findConfigDir resolves provider_config_dir as karbor's find_config does:
// the value as given (relative to the working directory), then under each
// search root (nil: defaultSearchRoots). Nothing found is ConfigNotFound with
// the absolute form of the value.
func findConfigDir(dir string, roots []string) (string, error) {
	if roots == nil {
		roots = defaultSearchRoots
	}
	candidates := []string{dir}
	for i, root := range roots {
		switch {
		case i == len(roots)-1:
			// "/etc/karbor/%s" % path: string formatting, not a join.
			candidates = append(candidates, root+"/"+dir)
		case filepath.IsAbs(dir):
			// os.path.join drops the root before an absolute path.
			candidates = append(candidates, dir)
		default:
			candidates = append(candidates, filepath.Join(root, dir))
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return filepath.Abs(c)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return "", karbor.ConfigNotFound(abs)
}

// Load reads every *.conf file of the provider directory, in name order,
// and loads the enabled providers. A file that cannot be loaded (unreadable,
// bad syntax or values, empty or unknown bank or plugin, a bank that cannot
// open) is skipped with its reason logged, and so is a file whose provider
// id an earlier file already took. Only an unusable directory is an error:
// ConfigNotFound when it cannot be found, as the Python service fails to
// start.
func Load(ctx context.Context, opts Options) (*Registry, error) {
	dir, paths, err := providerFiles(opts)
	if err != nil {
		return nil, err
	}
	r := &Registry{dir: dir, providers: map[string]*Provider{}}
	log := logctx.From(ctx).WithField("provider_config_dir", dir)
	for _, path := range paths {
		fctx := logctx.With(ctx, log.WithField("provider_file", path))
		p, err := r.loadFile(fctx, path, opts)
		if err != nil {
			logctx.From(fctx).WithError(err).Error("Load provider failed; the provider is skipped")
			continue
		}
		if p == nil {
			continue // disabled
		}
		r.providers[p.id] = p
		r.sorted = append(r.sorted, p)
		logctx.From(fctx).WithFields(logrus.Fields{"provider_id": p.id, "provider": p.name}).Info("Loaded provider successfully")
	}
	sort.Slice(r.sorted, func(i, j int) bool { return r.sorted[i].id < r.sorted[j].id })
	return r, nil
}

// providerFiles finds the provider directory of opts and its *.conf files,
// in name order.
func providerFiles(opts Options) (string, []string, error) {
	if opts.Dir == "" {
		opts.Dir = "providers.d"
	}
	dir, err := findConfigDir(opts.Dir, opts.SearchRoots)
	if err != nil {
		return "", nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, fmt.Errorf("providers: read provider_config_dir: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".conf") {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	return dir, paths, nil
}

// loadFile loads one provider file; nil and no error for a disabled one.
func (r *Registry) loadFile(ctx context.Context, path string, opts Options) (*Provider, error) {
	if info, err := os.Stat(path); err != nil {
		return nil, err
	} else if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	conf, err := config.Load(config.ProviderRegistry(), config.LoadOptions{
		Sources: []config.Source{{Path: path}}, Environ: opts.Environ})
	if err != nil {
		return nil, err
	}
	pc, err := config.NewProvider(conf)
	if err != nil {
		return nil, err
	}
	if !pc.Enabled {
		logctx.From(ctx).WithField("provider", pc.Name).Info("Provider is not enabled")
		return nil, nil
	}
	if dup, ok := r.providers[pc.ID]; ok {
		return nil, fmt.Errorf("provider %q (%s) has the id %q of provider %q loaded from %s; ids must be unique",
			pc.Name, path, pc.ID, dup.name, dup.file)
	}
	return newProvider(logctx.WithFields(ctx, logrus.Fields{"provider_id": pc.ID}), path, pc, conf, opts)
}

// The Python service's reasons for refusing a provider, word for word.
var (
	//lint:ignore ST1005 Python's text
	errEmptyBank = errors.New("Empty bank")
	//lint:ignore ST1005 Python's text
	errEmptyPlugin = errors.New("Empty protection plugin")
)

// newProvider builds a provider: its plugins, then its bank.
func newProvider(ctx context.Context, path string, pc *config.Provider, conf *config.Config, opts Options) (*Provider, error) {
	if pc.Bank == "" {
		return nil, errEmptyBank
	}
	p, err := newPluginsOnly(ctx, path, pc, conf, opts.Service)
	if err != nil {
		return nil, err
	}
	bp, err := bank.Open(ctx, entryPoint(pc.Bank), conf, opts.Holder)
	if err != nil {
		return nil, err
	}
	if opts.BankObserver != nil {
		bp = bank.Observed(bp, entryPoint(pc.Bank), opts.BankObserver)
	}
	p.checkpoints = bank.NewCheckpoints(bank.New(bp), append([]bank.Option{bank.WithHolder(opts.Holder)}, opts.Checkpoints...)...)
	return p, nil
}

// newPluginsOnly builds a provider with its protection plugins and no bank.
func newPluginsOnly(ctx context.Context, path string, pc *config.Provider, conf, service *config.Config) (*Provider, error) {
	p := &Provider{id: pc.ID, name: pc.Name, description: pc.Description, file: path, plugins: map[string]ProtectionPlugin{}}
	for _, name := range pc.Plugins {
		if name == "" {
			return nil, errEmptyPlugin
		}
		pl, err := openPlugin(ctx, name, conf, service)
		if err != nil {
			return nil, err
		}
		if err := p.addPlugin(name, pl); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// addPlugin registers a plugin for each of its types; a later plugin for a
// type replaces an earlier one, schemas included.
func (p *Provider) addPlugin(name string, pl ProtectionPlugin) error {
	for _, t := range pl.ResourceTypes() {
		s := pl.Schemas(t)
		for _, raw := range []json.RawMessage{s.Options, s.Restore, s.SavedInfo} {
			if len(raw) > 0 && !json.Valid(raw) {
				return fmt.Errorf("protection plugin %q: a schema of %s is not valid JSON", name, t)
			}
		}
		p.plugins[t] = pl
		p.schema.Options.set(t, s.Options)
		p.schema.Restore.set(t, s.Restore)
		p.schema.SavedInfo.set(t, s.SavedInfo)
	}
	return nil
}

// Dir is the provider directory the registry was loaded from.
func (r *Registry) Dir() string { return r.dir }

// Providers returns the providers, sorted by id.
func (r *Registry) Providers() []*Provider { return append([]*Provider(nil), r.sorted...) }

// Show returns the provider of an id; an unknown id is ProviderNotFound.
func (r *Registry) Show(id string) (*Provider, error) {
	p, ok := r.providers[id]
	if !ok {
		return nil, karbor.ProviderNotFound(id)
	}
	return p, nil
}

// ListQuery is a list_providers request.
type ListQuery struct {
	// Marker, when it is a provider's id, starts the listing after it; an
	// unknown marker is ignored.
	Marker *string
	// Limit caps the number of providers; 0 or less means no limit (as in
	// Python, where only a positive limit is ever reached).
	Limit int
	// Filters: a key among id, name, description and extended_info_schema
	// keeps only providers whose value equals the filter's (JSON values
	// compared as Python compares them); other keys are ignored.
	Filters map[string]any
}

// List returns the providers' dicts sorted by id, after the marker,
// filtered, at most Limit (list_providers; sort keys and directions are
// ignored, as in Python).
func (r *Registry) List(q ListQuery) ([]Dict, error) {
	start := 0
	if q.Marker != nil {
		for i, p := range r.sorted {
			if p.id == *q.Marker {
				start = i + 1
			}
		}
	}
	out := []Dict{}
	for _, p := range r.sorted[start:] {
		ok, err := matches(p.Dict(), q.Filters)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		out = append(out, p.Dict())
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// matches applies list_providers' filters to one provider.
func matches(d Dict, filters map[string]any) (bool, error) {
	for key, want := range filters {
		var have any
		switch key {
		case "id":
			have = d.ID
		case "name":
			have = d.Name
		case "description":
			have = d.Description
		case "extended_info_schema":
			have = d.ExtendedInfoSchema
		default:
			continue
		}
		equal, err := jsonEqual(have, want)
		if err != nil {
			return false, fmt.Errorf("providers: filter %q: %w", key, err)
		}
		if !equal {
			return false, nil
		}
	}
	return true, nil
}

// jsonEqual compares two values by their JSON meaning: objects regardless of
// key order, numbers by value.
func jsonEqual(a, b any) (bool, error) {
	norm := func(v any) (any, error) {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var out any
		err = json.Unmarshal(raw, &out)
		return out, err
	}
	na, err := norm(a)
	if err != nil {
		return false, err
	}
	nb, err := norm(b)
	if err != nil {
		return false, err
	}
	return reflect.DeepEqual(na, nb), nil
}

// Close closes every provider's bank (stopping lease renewal and releasing
// the lease, so what this instance left unfinished is seen as orphaned at
// once).
func (r *Registry) Close() error {
	var errs []error
	for _, p := range r.sorted {
		if err := p.checkpoints.Bank().Close(); err != nil {
			errs = append(errs, fmt.Errorf("providers: close bank of provider %s: %w", p.id, err))
		}
	}
	return errors.Join(errs...)
}
