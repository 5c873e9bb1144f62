package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// The *.golden files under testdata/golden were written by the Python
// service's own graph.py (karbor/services/protection/graph.py at the commit
// before the retirement, run with /usr/bin/python3) from the matching
// *.input.json; fixture-protect.golden is the resource_graph the real
// service stored in the recorded session (pkg/karbortest).

type graphInput struct {
	Start    []resourceJSON `json:"start"`
	Children []struct {
		Parent   resourceJSON   `json:"parent"`
		Children []resourceJSON `json:"children"`
	} `json:"children"`
}

type resourceJSON struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	ExtraInfo json.RawMessage `json:"extra_info"`
}

func (r resourceJSON) resource() graph.Resource {
	res := graph.Resource{Type: r.Type, ID: r.ID, Name: r.Name}
	if string(r.ExtraInfo) != "null" {
		res.ExtraInfo = r.ExtraInfo
	}
	return res
}

func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".golden"))
	require.NoError(t, err)
	return string(b)
}

// childrenOf answers from a fixed map and counts the questions.
func childrenOf(m map[graph.Key][]graph.Resource, asked map[graph.Key]int) graph.ChildrenFunc {
	return func(_ context.Context, r graph.Resource) ([]graph.Resource, error) {
		if asked != nil {
			asked[r.Key()]++
		}
		return m[r.Key()], nil
	}
}

func TestPackMatchesPython(t *testing.T) {
	for _, name := range []string{"spec-example", "multi-level", "escaping", "empty"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "golden", name+".input.json"))
			require.NoError(t, err)
			var in graphInput
			require.NoError(t, json.Unmarshal(raw, &in))
			start := make([]graph.Resource, len(in.Start))
			for i, r := range in.Start {
				start[i] = r.resource()
			}
			kids := map[graph.Key][]graph.Resource{}
			for _, c := range in.Children {
				for _, r := range c.Children {
					kids[c.Parent.resource().Key()] = append(kids[c.Parent.resource().Key()], r.resource())
				}
			}
			asked := map[graph.Key]int{}
			g, err := graph.Build(context.Background(), start, childrenOf(kids, asked))
			require.NoError(t, err)
			for k, n := range asked {
				assert.Equal(t, 1, n, "children of %v asked more than once", k)
			}
			packed, err := g.Pack()
			require.NoError(t, err)
			assert.Equal(t, readGolden(t, name), packed)
		})
	}
}

func TestPackFixtureProtect(t *testing.T) {
	// The recorded protect: a plan of one volume and one server whose
	// dependents could not be listed (no OpenStack), in plan order.
	plan := []karbor.PlanResource{
		{ID: "f16d36d0-3266-41c0-a75c-672c7d48595a", Type: karbor.VolumeResourceType, Name: "vol-0"},
		{ID: "6918fc8a-7ee8-4164-b48b-ad47bd058dc3", Type: karbor.ServerResourceType, Name: "srv-0"},
	}
	g, err := graph.Build(context.Background(), graph.FromPlan(plan), childrenOf(nil, nil))
	require.NoError(t, err)
	packed, err := g.Pack()
	require.NoError(t, err)
	assert.Equal(t, readGolden(t, "fixture-protect"), packed)
}

func TestUnpackRoundTrip(t *testing.T) {
	for _, name := range []string{"spec-example", "multi-level", "escaping", "empty", "fixture-protect"} {
		t.Run(name, func(t *testing.T) {
			s := readGolden(t, name)
			g, err := graph.Unpack(s)
			require.NoError(t, err)
			again, err := g.Pack()
			require.NoError(t, err)
			assert.Equal(t, s, again)
		})
	}
}

func TestUnpackStructure(t *testing.T) {
	g, err := graph.Unpack(readGolden(t, "spec-example"))
	require.NoError(t, err)
	require.Len(t, g, 2)
	srv, vol2 := g[0], g[1]
	assert.Equal(t, graph.Resource{Type: karbor.ServerResourceType, ID: "s1", Name: "srv"}, srv.Resource)
	require.Len(t, srv.Children, 2)
	assert.Equal(t, "v1", srv.Children[0].Resource.ID)
	assert.JSONEq(t, `{"availability_zone": "nova"}`, string(srv.Children[0].Resource.ExtraInfo))
	assert.Equal(t, "i1", srv.Children[1].Resource.ID)
	assert.Equal(t, `"{\"a\": 1}"`, string(vol2.Resource.ExtraInfo))
	assert.Empty(t, vol2.Children)
}

func TestUnpackSharedChild(t *testing.T) {
	// Two parents of one volume: the volume is one node.
	g, err := graph.Unpack(`[{"0x0": ["V", "v", "v", null], "0x1": ["S", "a", "a", null], "0x2": ["S", "b", "b", null]}, [["0x1", ["0x0"]], ["0x2", ["0x0"]]]]`)
	require.NoError(t, err)
	require.Len(t, g, 2)
	assert.Same(t, g[0].Children[0], g[1].Children[0])
	assert.Len(t, g.Nodes(), 3)
}

func TestUnpackErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		topological bool
	}{
		{"parent after its parent", `[{"0x0": ["V", "v", "v", null], "0x1": ["S", "s", "s", null], "0x2": ["P", "p", "p", null]}, [["0x2", ["0x1"]], ["0x1", ["0x0"]]]]`, true},
		{"parent twice", `[{"0x0": ["V", "v", "v", null], "0x1": ["S", "s", "s", null]}, [["0x1", ["0x0"]], ["0x1", ["0x0"]]]]`, true},
		{"not JSON", `[{"0x0"`, false},
		{"not an array", `{"a": 1}`, false},
		{"one element", `[{}]`, false},
		{"nodes not an object", `[[], []]`, false},
		{"node too short", `[{"0x0": ["V", "v", "v"]}, []]`, false},
		{"node not an array", `[{"0x0": "V"}, []]`, false},
		{"id not a string", `[{"0x0": ["V", 1, "v", null]}, []]`, false},
		{"adjacency not an array", `[{}, {}]`, false},
		{"entry of three", `[{"0x0": ["V", "v", "v", null]}, [["0x0", [], 1]]]`, false},
		{"children not a list", `[{"0x0": ["V", "v", "v", null]}, [["0x0", "0x0"]]]`, false},
		{"unknown child", `[{"0x0": ["V", "v", "v", null]}, [["0x0", ["0x9"]]]]`, false},
		{"unknown parent", `[{"0x0": ["V", "v", "v", null]}, [["0x9", ["0x0"]]]]`, false},
		{"own child", `[{"0x0": ["V", "v", "v", null]}, [["0x0", ["0x0"]]]]`, false},
		{"trailing data", `[{"0x0": ["V", "v", "v", null]} 1, []]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := graph.Unpack(tc.in)
			require.Error(t, err)
			if tc.topological {
				var ke *karbor.Error
				require.ErrorAs(t, err, &ke)
				assert.Equal(t, "InvalidInput", ke.PythonClass())
				assert.Equal(t, "Invalid input received: PackedGraph adjacency list must be topologically ordered", ke.Error())
				return
			}
			assert.ErrorIs(t, err, graph.ErrMalformed)
		})
	}
}

func TestUnpackTolerance(t *testing.T) {
	// What Python ignores: elements after the second, node fields after the
	// fourth; a repeated node id keeps its place and takes the last value.
	g, err := graph.Unpack(`[{"0x0": ["V", "v", "v", null, "extra"], "0x1": ["A", "a", "a", null], "0x0": ["V", "w", "w", {"k": 1}]}, [], "ignored"]`)
	require.NoError(t, err)
	require.Len(t, g, 2)
	assert.Equal(t, "w", g[0].Resource.ID)
	assert.Equal(t, "a", g[1].Resource.ID)
}

func TestBuild(t *testing.T) {
	res := func(typ, id string) graph.Resource { return graph.Resource{Type: typ, ID: id, Name: id} }
	prj, srv, vol, img := res("P", "p"), res("S", "s"), res("V", "v"), res("I", "i")
	vol2 := vol
	vol2.ExtraInfo = json.RawMessage(`{"from": "plan"}`)
	for _, tc := range []struct {
		name     string
		start    []graph.Resource
		children map[graph.Key][]graph.Resource
		roots    []string
		err      error
	}{
		{"plan order kept", []graph.Resource{vol, srv}, nil, []string{"v", "s"}, nil},
		{"child in plan is not a root", []graph.Resource{vol, srv}, map[graph.Key][]graph.Resource{srv.Key(): {vol}}, []string{"s"}, nil},
		{"child before its parent", []graph.Resource{srv, prj}, map[graph.Key][]graph.Resource{prj.Key(): {srv}, srv.Key(): {vol, img}}, []string{"p"}, nil},
		{"duplicate start counts once", []graph.Resource{vol, vol2, srv}, nil, []string{"v", "s"}, nil},
		{"loop", []graph.Resource{srv}, map[graph.Key][]graph.Resource{srv.Key(): {vol}, vol.Key(): {srv}}, nil, graph.ErrLoop},
		{"self loop", []graph.Resource{srv}, map[graph.Key][]graph.Resource{srv.Key(): {srv}}, nil, graph.ErrLoop},
		{"empty", nil, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := graph.Build(context.Background(), tc.start, childrenOf(tc.children, nil))
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			var roots []string
			for _, n := range g {
				roots = append(roots, n.Resource.ID)
			}
			assert.Equal(t, tc.roots, roots)
		})
	}
}

func TestBuildFirstExtraInfoWins(t *testing.T) {
	srv := graph.Resource{Type: "S", ID: "s", Name: "s"}
	planVol := graph.Resource{Type: "V", ID: "v", Name: "v", ExtraInfo: json.RawMessage(`"plan"`)}
	depVol := graph.Resource{Type: "V", ID: "v", Name: "v", ExtraInfo: json.RawMessage(`{"availability_zone": "nova"}`)}
	g, err := graph.Build(context.Background(), []graph.Resource{planVol, srv},
		childrenOf(map[graph.Key][]graph.Resource{srv.Key(): {depVol}}, nil))
	require.NoError(t, err)
	require.Len(t, g, 1)
	assert.Equal(t, `"plan"`, string(g[0].Children[0].Resource.ExtraInfo))
}

func TestBuildErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := graph.Build(context.Background(), []graph.Resource{{Type: "S", ID: "s"}},
		func(context.Context, graph.Resource) ([]graph.Resource, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = graph.Build(ctx, []graph.Resource{{Type: "S", ID: "s"}}, childrenOf(nil, nil))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPackBadExtraInfo(t *testing.T) {
	g := graph.Graph{{Resource: graph.Resource{Type: "V", ID: "v", Name: "v", ExtraInfo: json.RawMessage(`{bad`)}}}
	_, err := g.Pack()
	assert.Error(t, err)
}

func TestResourceJSON(t *testing.T) {
	r := graph.Resource{Type: "OS::Cinder::Volume", ID: "v", Name: "vol", ExtraInfo: json.RawMessage(`{"availability_zone":"nova"}`)}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Equal(t, `{"type":"OS::Cinder::Volume","id":"v","name":"vol","extra_info":{"availability_zone":"nova"}}`, string(b))
	b, err = json.Marshal(graph.Instance(graph.Resource{Type: "T", ID: "p", Name: "demo"}))
	require.NoError(t, err)
	assert.Equal(t, `{"id":"p","name":"demo","extra_info":null}`, string(b))
}

func TestFromPlan(t *testing.T) {
	extra := `{"k": "é"}`
	got := graph.FromPlan([]karbor.PlanResource{{ID: "a", Type: "T", Name: "n", ExtraInfo: &extra}, {ID: "b", Type: "T", Name: "m"}})
	require.Len(t, got, 2)
	var s string
	require.NoError(t, json.Unmarshal(got[0].ExtraInfo, &s))
	assert.Equal(t, extra, s)
	assert.Nil(t, got[1].ExtraInfo)
	packed, err := graph.Graph{{Resource: got[0]}}.Pack()
	require.NoError(t, err)
	assert.True(t, strings.Contains(packed, `"{\"k\": \"\u00e9\"}"`), packed)
}
