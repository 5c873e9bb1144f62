package taskflow_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokarbor/karbor-protection/taskflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestWriteDOT(t *testing.T) {
	tests := []struct {
		golden string
		flow   func() taskflow.Flow
	}{
		{"protect.dot", func() taskflow.Flow {
			f, _ := protectFlow(resourceForest(3), noop)
			return f
		}},
		{"nested.dot", func() taskflow.Flow {
			a, b, hi := task("a"), task("b"), task(`say "hi"`+"\n")
			g := taskflow.NewGraph("g", a, b, hi)
			g.Link(a, b)
			g.Link(hi, b)
			return taskflow.NewLinear("root",
				taskflow.NewUnordered("first", task("u1"), task("u2"), task("u3")),
				taskflow.NewUnordered("second", task("w1"), task("w2"), task("w3")),
				g, taskflow.NewLinear("empty"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			c := mustCompile(t, tc.flow())
			var got bytes.Buffer
			require.NoError(t, c.WriteDOT(&got))
			path := filepath.Join("testdata", tc.golden)
			if *update {
				require.NoError(t, os.WriteFile(path, got.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), got.String())

			var again bytes.Buffer
			require.NoError(t, mustCompile(t, tc.flow()).WriteDOT(&again))
			assert.Equal(t, got.String(), again.String(), "the output is deterministic")
		})
	}
}
