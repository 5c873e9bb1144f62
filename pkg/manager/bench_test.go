package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/protectables"
	"github.com/gokarbor/karbor-protection/rpc"
)

// BenchmarkReads measures, in process, what the service does for the reads
// of a dashboard refresh between decoding a request and encoding its
// reply: the request context, the arguments, the method and the result's
// encoding, with their allocations. The bank holds 10,000 checkpoints of
// the caller's project; list_checkpoints asks for the newest 50.
func BenchmarkReads(b *testing.B) {
	const total, page = 10000, 50
	dir := b.TempDir()
	bankDir := filepath.Join(dir, "bank")
	ids := writeBenchCheckpoints(b, bankDir, projectA, total)
	waitListingCacheable(b, filepath.Join(bankDir, "karbor", "indices", "by-provider", noopID, projectA))
	provDir := filepath.Join(dir, "providers.d")
	require.NoError(b, os.MkdirAll(provDir, 0o755))
	require.NoError(b, os.WriteFile(filepath.Join(provDir, "noop.conf"),
		[]byte(providerFile(noopID, "No-Op Provider", "karbor-noop-protection-plugin", bankDir, "")), 0o644))
	ctx := quietContext()
	reg, err := providers.Load(ctx, providers.Options{Dir: provDir})
	require.NoError(b, err)
	b.Cleanup(func() { _ = reg.Close() })
	m, err := New(Config{Providers: reg, Protectables: protectables.Load(ctx, nil),
		Builder: providers.NewBuilder(protectables.Load(ctx, nil), nil), Log: logctx.From(ctx)})
	require.NoError(b, err)

	reqCtx := memberOf(projectA)
	for _, c := range []struct {
		method string
		args   map[string]any
	}{
		{"show_provider", map[string]any{"provider_id": noopID}},
		{"list_providers", map[string]any{"marker": nil, "limit": nil, "sort_keys": nil, "sort_dirs": nil, "filters": nil}},
		{"show_checkpoint", map[string]any{"provider_id": noopID, "checkpoint_id": ids[total/2]}},
		{"list_checkpoints", map[string]any{"provider_id": noopID, "marker": nil, "limit": page, "sort_keys": nil,
			"sort_dirs": []string{"desc"}, "filters": map[string]any{}, "all_tenants": false}},
	} {
		b.Run(c.method, func(b *testing.B) {
			h, call := benchCall(b, m, c.method, reqCtx, c.args)
			b.ReportAllocs()
			for b.Loop() {
				res, err := h(ctx, call)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rpc.EncodeJSON(res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchCall is a method's handler and its call as the RPC layer hands it
// over.
func benchCall(b *testing.B, m *Manager, method string, reqCtx, args map[string]any) (rpc.HandlerFunc, *rpc.Call) {
	var h rpc.HandlerFunc
	for _, mt := range m.methods {
		if mt.name == method {
			h = mt.handler
		}
	}
	require.NotNil(b, h, method)
	call := &rpc.Call{Method: method, Class: Class}
	for k, v := range reqCtx {
		raw, err := json.Marshal(v)
		require.NoError(b, err)
		call.Context = append(call.Context, rpc.ContextMember{Key: k, Value: raw})
	}
	raw, err := json.Marshal(args)
	require.NoError(b, err)
	call.Args = raw
	if _, err := h(context.Background(), call); err != nil {
		b.Fatal(err)
	}
	return h, call
}

// writeBenchCheckpoints writes n available checkpoints of project into a
// file-system bank at path, in the Python layout (index.json and the three
// indices), a second apart, and returns their ids.
func writeBenchCheckpoints(b *testing.B, path, project string, n int) []string {
	const base = 1588291200 // 2020-05-01T00:00:00Z
	root := filepath.Join(path, "karbor")
	planID := "55555555-2222-4333-8444-555555555555"
	write := func(path, content string) {
		require.NoError(b, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(b, os.WriteFile(path, []byte(content), 0o644))
	}
	ids := make([]string, n)
	for i := range ids {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i*7919%n, i)
		ids[i] = id
		ts := int64(base + i)
		date := time.Unix(ts, 0).UTC().Format(time.DateOnly)
		write(filepath.Join(root, "checkpoints", id, "index.json"), fmt.Sprintf(`{"version": "0.9", "id": "%s", "status": "available", `+
			`"owner_id": "9c4014a6-0890-420c-9748-3c928b5f9123", "provider_id": "%s", "project_id": "%s", `+
			`"protection_plan": {"id": "%s", "name": "plan", "provider_id": "%s", "resources": []}, `+
			`"extra_info": null, "created_at": "%s", "timestamp": %d, "resource_graph": "[{}, []]"}`,
			id, noopID, project, planID, noopID, date, ts))
		entry := fmt.Sprintf("%d@%s", ts, id)
		for _, dir := range []string{
			filepath.Join(root, "indices", "by-provider", noopID, project),
			filepath.Join(root, "indices", "by-date", date, project),
			filepath.Join(root, "indices", "by-plan", planID, project, date),
		} {
			write(filepath.Join(dir, entry), id)
		}
	}
	return ids
}

// waitListingCacheable waits until dir has not changed for the 2 s after
// which the file-system bank keeps its listing (a change within a
// file-system timestamp tick of a read must not hide behind a cached
// listing), so that list_checkpoints is measured in its steady state.
func waitListingCacheable(b *testing.B, dir string) {
	b.Helper()
	st, err := os.Stat(dir)
	require.NoError(b, err)
	// A margin for the coarse clock of file-system timestamps.
	settled := time.NewTimer(time.Until(st.ModTime().Add(2*time.Second + 50*time.Millisecond)))
	defer settled.Stop()
	<-settled.C
}
