package python_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// packedGraph is a resource_graph string of n resources, the largest string
// the protect path writes (into index.json, once per update).
func packedGraph(n int) string {
	var b strings.Builder
	b.WriteString("[{")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"0x%x": ["OS::Cinder::Volume", "%08d-0000-4000-8000-000000000000", "r\u00e9source %d", null]`, i, i, i)
	}
	b.WriteString("}, []]")
	return b.String()
}

// baseline runs the same-run floor of a benchmark, outside its timer, and
// says how long it took.
func baseline(b *testing.B, floor func() (any, error)) time.Duration {
	b.StopTimer()
	defer b.StartTimer()
	start := time.Now()
	if _, err := floor(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkAppendJSONString measures json.dumps of a packed graph of 10,000
// resources against encoding/json quoting the same string in the same run
// (x-encoding-json).
func BenchmarkAppendJSONString(b *testing.B) {
	s := packedGraph(10000)
	var floor time.Duration
	var dst []byte
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		floor += baseline(b, func() (any, error) { return json.Marshal(s) })
		dst = python.AppendJSONString(dst[:0], s)
	}
	b.ReportMetric(float64(b.Elapsed())/float64(floor), "x-encoding-json")
}

// BenchmarkAppendJSON measures rewriting an index.json-shaped document that
// holds a packed graph of 10,000 resources, against encoding/json
// compacting the same text in the same run (x-json-compact).
func BenchmarkAppendJSON(b *testing.B) {
	graph, err := json.Marshal(packedGraph(10000))
	if err != nil {
		b.Fatal(err)
	}
	doc := []byte(`{"status":"available","provider_id":"cf56bd3e-97a7-4078-b6d5-f36246333fd9",` +
		`"protection_plan":{"id":"p","name":"plan","resources":[{"id":"1","type":"OS::Nova::Server","name":"vm"}]},` +
		`"resource_graph":` + string(graph) + `,"created_at":"2026-11-22","extra_info":{"created_by":"manual"}}`)
	var floor time.Duration
	var dst []byte
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		floor += baseline(b, func() (any, error) { return json.Marshal(json.RawMessage(doc)) })
		if dst, err = python.AppendJSON(dst[:0], doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed())/float64(floor), "x-json-compact")
}
