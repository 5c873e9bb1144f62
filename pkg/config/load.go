package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Source is one --config-file or --config-dir argument. A directory stands
// for its *.conf files (hidden ones excluded), sorted by name.
type Source struct {
	Path string
	Dir  bool
}

// LoadOptions says what to read.
type LoadOptions struct {
	// Sources in command-line order: oslo.config applies --config-file and
	// --config-dir arguments in the order given, so a later one overrides.
	Sources []Source
	// Search, when set, supplies oslo.config's default files (when Sources
	// has no file) and directories (when it has no directory); they apply
	// before Sources, files first.
	Search *Search
	// Home expands a leading "~" in paths; empty means os.UserHomeDir.
	Home string
	// Environ is os.Environ() or nil; see New.
	Environ []string
	// Overrides are command-line option values.
	Overrides []Override
}

// Load reads and parses the files opts name, in order, and returns the
// Config that reads them through reg. A missing file or directory, or a file
// that does not parse, is an error naming it.
func Load(reg *Registry, opts LoadOptions) (*Config, error) {
	paths, err := opts.paths()
	if err != nil {
		return nil, err
	}
	files := make([]*File, 0, len(paths))
	for _, p := range paths {
		f, err := ReadFile(p)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return New(reg, files, opts.Environ, opts.Overrides...), nil
}

// ReadFile reads and parses one configuration file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return ParseFile(path, data)
}

// paths lists the files to read, in the order they apply.
func (o LoadOptions) paths() ([]string, error) {
	var out []string
	if o.Search != nil {
		hasFile := slices.ContainsFunc(o.Sources, func(s Source) bool { return !s.Dir })
		hasDir := slices.ContainsFunc(o.Sources, func(s Source) bool { return s.Dir })
		if !hasFile {
			out = append(out, o.Search.Files()...)
		}
		if !hasDir {
			for _, d := range o.Search.Dirs() {
				files, err := confFiles(d)
				if err != nil {
					return nil, err
				}
				out = append(out, files...)
			}
		}
	}
	for _, s := range o.Sources {
		p, err := o.expand(s.Path)
		if err != nil {
			return nil, err
		}
		if !s.Dir {
			out = append(out, p)
			continue
		}
		files, err := confFiles(p)
		if err != nil {
			return nil, err
		}
		out = append(out, files...)
	}
	return out, nil
}

func (o LoadOptions) expand(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home := o.Home
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("config: expanding %s: %w", p, err)
		}
		home = h
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// confFiles lists the *.conf files of a --config-dir, sorted, as
// oslo.config's glob does (which skips hidden files).
func confFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("config dir: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".conf") && !strings.HasPrefix(name, ".") {
			out = append(out, filepath.Join(dir, name))
		}
	}
	slices.Sort(out)
	return out, nil
}

// Search is oslo.config's default search, used when the command line names
// no --config-file (or no --config-dir): for the project and then the
// program name, the first of ~/.<project>/, ~/, /etc/<project>/, /etc/ (and
// the snap directories) that holds <name>.conf (or <name>.conf.d).
//
// For karbor-protection that is Project "karbor", Prog "karbor-protection":
// karbor.conf and karbor-protection.conf, karbor.conf.d and
// karbor-protection.conf.d.
type Search struct {
	Project string
	Prog    string
	Home    string // the user's home; empty skips the ~ directories
	// Etc replaces /etc (for tests); empty means /etc.
	Etc string
	// Snap and SnapCommon are $SNAP and $SNAP_COMMON, usually empty.
	Snap, SnapCommon string
}

func (s Search) dirs() []string {
	etc := s.Etc
	if etc == "" {
		etc = "/etc"
	}
	var out []string
	if s.Home != "" && s.Project != "" {
		out = append(out, filepath.Join(s.Home, "."+s.Project))
	}
	if s.Home != "" {
		out = append(out, s.Home)
	}
	if s.Project != "" {
		out = append(out, filepath.Join(etc, s.Project))
	}
	out = append(out, etc)
	if s.SnapCommon != "" && s.Project != "" {
		out = append(out, filepath.Join(s.SnapCommon, "etc", s.Project))
	}
	if s.Snap != "" && s.Project != "" {
		out = append(out, filepath.Join(s.Snap, "etc", s.Project))
	}
	return out
}

func (s Search) find(ext string) []string {
	var out []string
	for _, name := range []string{s.Project, s.Prog} {
		if name == "" {
			continue
		}
		for _, d := range s.dirs() {
			p := filepath.Join(d, name+ext)
			if _, err := os.Stat(p); err == nil {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Files returns the default configuration files that exist.
func (s Search) Files() []string { return s.find(".conf") }

// Dirs returns the default configuration directories that exist.
func (s Search) Dirs() []string { return s.find(".conf.d") }

// DefaultSearch is the search oslo.config runs for a program: the user's
// home from os.UserHomeDir (skipped if unknown) and the snap directories
// from $SNAP and $SNAP_COMMON.
func DefaultSearch(project, prog string) *Search {
	home, _ := os.UserHomeDir()
	return &Search{Project: project, Prog: prog, Home: home, Snap: os.Getenv("SNAP"), SnapCommon: os.Getenv("SNAP_COMMON")}
}
