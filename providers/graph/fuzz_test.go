package graph_test

import (
	"errors"
	"testing"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// FuzzUnpack feeds arbitrary resource_graph strings to Unpack: it must
// never panic nor loop, fail only with its two kinds of error, and whatever
// it accepts must pack and unpack again to the same graph (unpacked graphs
// have no loops).
func FuzzUnpack(f *testing.F) {
	for _, s := range []string{
		`[{}, []]`,
		`[{"0x0": ["V", "v", "v", null], "0x1": ["S", "s", "s", {"a": [1, "é"]}]}, [["0x1", ["0x0"]]]]`,
		`[{"0x0": ["V", "v", "v", null], "0x1": ["S", "a", "a", null], "0x2": ["S", "b", "b", null]}, [["0x1", ["0x0"]], ["0x2", ["0x0"]]]]`,
		`[{"0x0": ["V", "v", "v", null], "0x1": ["S", "s", "s", null], "0x2": ["P", "p", "p", null]}, [["0x2", ["0x1"]], ["0x1", ["0x0"]]]]`,
		`[{"0x0": ["V", "v", "v", null]}, [["0x0", ["0x0"]]]]`,
		`[{"0x0": ["V", "v", "v", "{\"a\": 1}", 5]}, [], 7]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := graph.Unpack(s)
		if err != nil {
			var ke *karbor.Error
			if !errors.Is(err, graph.ErrMalformed) && !errors.As(err, &ke) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		packed, err := g.Pack()
		if err != nil {
			t.Fatalf("an unpacked graph does not pack: %v", err)
		}
		g2, err := graph.Unpack(packed)
		if err != nil {
			t.Fatalf("a packed graph does not unpack: %v\n%s", err, packed)
		}
		again, err := g2.Pack()
		if err != nil || again != packed {
			t.Fatalf("pack is not stable:\n%s\n%s (%v)", packed, again, err)
		}
	})
}
