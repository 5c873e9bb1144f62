// Package banktest holds helpers shared by the bank packages' tests: the
// Python sample bank, and a plugin wrapper that counts and fails calls.
package banktest

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
)

// Sample describes the Python-written bank in testdata
// (python-fs-bank-sample.json).
type Sample struct {
	Checkpoints []SampleCheckpoint `json:"checkpoints"`
	// Files are the bank's objects as paths under bank/, i.e.
	// "<container>/<key without leading slash>".
	Files []string `json:"files"`
}

// SampleCheckpoint is one checkpoint of the sample.
type SampleCheckpoint struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	ProjectID string `json:"project_id"`
	PlanID    string `json:"plan_id"`
	CreatedAt string `json:"created_at"`
	Timestamp int64  `json:"timestamp"`
}

// SampleProviderID is the provider the sample's checkpoints belong to.
const SampleProviderID = "b766f37c-d011-4026-8228-28730d734a3f"

// LoadSample extracts testdata/python-fs-bank-sample.tar.gz into a
// temporary directory and returns the file_system_bank_path (the
// container is "karbor") and the sample's description.
func LoadSample(t testing.TB, testdata string) (string, Sample) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testdata, "python-fs-bank-sample.json"))
	require.NoError(t, err)
	var s Sample
	require.NoError(t, json.Unmarshal(raw, &s))
	dir := t.TempDir()
	extract(t, filepath.Join(testdata, "python-fs-bank-sample.tar.gz"), dir)
	return filepath.Join(dir, "bank"), s
}

func extract(t testing.TB, archive, dst string) {
	t.Helper()
	f, err := os.Open(archive)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		name := filepath.Clean(h.Name)
		require.False(t, filepath.IsAbs(name) || strings.HasPrefix(name, ".."), "archive entry %q escapes", h.Name)
		target := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(target, 0o755))
		case tar.TypeReg:
			require.NoError(t, os.MkdirAll(filepath.Dir(target), 0o755))
			data, err := io.ReadAll(tr)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(target, data, 0o644))
		default:
			t.Fatalf("unexpected archive entry %q type %c", h.Name, h.Typeflag)
		}
	}
}

// Plugin wraps a bank.Plugin, counting object reads and listings, and can
// fail writes after a number of them or fail deletes (a crash between
// writes). It hides the wrapped plugin's Locker.
type Plugin struct {
	bank.Plugin
	Gets, Lists, Puts atomic.Int64
	// FailPutsAfter, when > 0, makes every write after that many fail.
	FailPutsAfter atomic.Int64
	// FailDeletes makes every delete fail.
	FailDeletes atomic.Bool
	// FailWith, when set before the plugin is used, is the error injected
	// writes fail with instead of ErrCrash (e.g. syscall.ENOSPC).
	FailWith error
}

// ErrCrash is the failure injected by FailPutsAfter.
var ErrCrash = errors.New("simulated crash")

// GetObject counts and delegates.
func (p *Plugin) GetObject(ctx context.Context, key string) (bank.Object, error) {
	p.Gets.Add(1)
	return p.Plugin.GetObject(ctx, key)
}

// ListObjects counts and delegates.
func (p *Plugin) ListObjects(ctx context.Context, opts bank.ListOptions) ([]string, error) {
	p.Lists.Add(1)
	return p.Plugin.ListObjects(ctx, opts)
}

// PutObject counts, fails when told to, and delegates.
func (p *Plugin) PutObject(ctx context.Context, key string, obj bank.Object) error {
	n := p.Puts.Add(1)
	if after := p.FailPutsAfter.Load(); after > 0 && n > after {
		if p.FailWith != nil {
			return p.FailWith
		}
		return ErrCrash
	}
	return p.Plugin.PutObject(ctx, key, obj)
}

// DeleteObject fails when told to, and delegates.
func (p *Plugin) DeleteObject(ctx context.Context, key string) error {
	if p.FailDeletes.Load() {
		return ErrCrash
	}
	return p.Plugin.DeleteObject(ctx, key)
}

// ResetCounts zeroes the counters.
func (p *Plugin) ResetCounts() {
	p.Gets.Store(0)
	p.Lists.Store(0)
	p.Puts.Store(0)
}
