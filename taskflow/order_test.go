package taskflow

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bitset is a set of task numbers, for transitive closures of small graphs.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

// genFlow builds a random nested flow and, independently of the compiler,
// what it must order: before[a] holds every task that must finish before
// task a starts, directly. An empty flow is a point of its own (numbered
// from emptyBase), so that what is ordered across it stays ordered.
type genFlow struct {
	rng    *rand.Rand
	rec    *runRecorder
	names  []string
	before map[int][]int
	empty  int
}

const emptyBase = 1 << 20

type genItem struct {
	node  Node
	tasks []int
	task  int // >= 0 when the item is a task
}

func (g *genFlow) task() genItem {
	i := len(g.names)
	name := fmt.Sprintf("t%d", i)
	g.names = append(g.names, name)
	t := NewTask(name, g.rec.execute(i))
	return genItem{node: t, tasks: []int{i}, task: i}
}

func (g *genFlow) order(from, to genItem) {
	for _, b := range to.tasks {
		g.before[b] = append(g.before[b], from.tasks...)
	}
}

func (g *genFlow) flow(depth int) genItem {
	n := g.rng.IntN(5)
	if depth > 0 && g.rng.IntN(20) == 0 {
		n = 30 + g.rng.IntN(15) // wide enough for barriers to replace entry lists
	}
	if depth == 0 {
		n = 1 + g.rng.IntN(3)
	}
	kind := g.rng.IntN(3)
	items := make([]genItem, 0, n)
	for i := 0; i < n; i++ {
		if depth < 4 && g.rng.IntN(3) == 0 {
			items = append(items, g.flow(depth+1))
			continue
		}
		items = append(items, g.task())
	}
	nodes := make([]Node, len(items))
	var all []int
	for i, it := range items {
		nodes[i] = it.node
		all = append(all, it.tasks...)
	}
	if len(all) == 0 {
		all = []int{emptyBase + g.empty}
		g.empty++
	}
	name := fmt.Sprintf("f%d.%d", depth, len(g.names))
	var f Flow
	switch kind {
	case 0:
		f = NewLinear(name, nodes...)
		for i := 1; i < len(items); i++ {
			g.order(items[i-1], items[i])
		}
	case 1:
		f = NewUnordered(name, nodes...)
	default:
		gf := NewGraph(name, nodes...)
		for u := range items {
			for v := u + 1; v < len(items); v++ {
				if g.rng.IntN(4) == 0 {
					gf.Link(items[u].node, items[v].node)
					g.order(items[u], items[v])
				}
			}
		}
		f = gf
	}
	return genItem{node: f, tasks: all, task: -1}
}

// closure returns, for each of the n tasks, every task ordered before it.
func closure(n int, before map[int][]int) []bitset {
	memo := map[int]bitset{}
	var visit func(int) bitset
	visit = func(i int) bitset {
		if b, ok := memo[i]; ok {
			return b
		}
		b := newBitset(n)
		for _, p := range before[i] {
			if p < emptyBase {
				b.set(p)
			}
			b.or(visit(p))
		}
		memo[i] = b
		return b
	}
	out := make([]bitset, n)
	for i := range out {
		out[i] = visit(i)
	}
	return out
}

// reachability returns, for each task, every task the compiled graph orders
// before it (through barriers too).
func reachability(c *Compiled) []bitset {
	n := int(c.nodes())
	memo := make([]bitset, n)
	var visit func(int32) bitset
	visit = func(i int32) bitset {
		if memo[i] != nil {
			return memo[i]
		}
		b := newBitset(len(c.tasks))
		for _, p := range c.pred[c.predOff[i]:c.predOff[i+1]] {
			if int(p) < len(c.tasks) {
				b.set(int(p))
			}
			b.or(visit(p))
		}
		memo[i] = b
		return b
	}
	out := make([]bitset, len(c.tasks))
	for i := range out {
		out[i] = visit(int32(i))
	}
	return out
}

// runRecorder stamps when each task starts and ends, and the most tasks
// running at once.
type runRecorder struct {
	clock, running, peak atomic.Int64
	start, end           []atomic.Int64
}

func newRunRecorder(n int) *runRecorder {
	return &runRecorder{start: make([]atomic.Int64, n), end: make([]atomic.Int64, n)}
}

func (r *runRecorder) execute(i int) ExecuteFunc {
	return func(ctx context.Context) (any, error) {
		r.start[i].Store(r.clock.Add(1))
		now := r.running.Add(1)
		for p := r.peak.Load(); now > p && !r.peak.CompareAndSwap(p, now); p = r.peak.Load() {
		}
		r.running.Add(-1)
		r.end[i].Store(r.clock.Add(1))
		return i, nil
	}
}

func TestRandomNestedFlowsOrdering(t *testing.T) {
	var tasks, barriers, flows int
	t.Cleanup(func() { t.Logf("%d tasks, %d flows, %d barriers", tasks, flows, barriers) })
	for seed := uint64(1); seed <= 300; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			g := &genFlow{rng: rand.New(rand.NewPCG(seed, 7)), rec: newRunRecorder(4096), before: map[int][]int{}}
			root := g.flow(0)
			c, err := Compile(root.node.(Flow))
			require.NoError(t, err)
			require.Equal(t, len(g.names), c.Len())
			tasks, barriers, flows = tasks+c.Len(), barriers+len(c.barriers), flows+len(c.flows)

			want, got := closure(len(g.names), g.before), reachability(c)
			for i := range want {
				if slices.Equal(want[i], got[i]) {
					continue
				}
				for j := range g.names {
					assert.Equal(t, want[i].has(j), got[i].has(j),
						"is %s ordered before %s", g.names[j], g.names[i])
				}
			}

			const workers = 3
			_, err = c.Run(context.Background(), Workers(workers))
			require.NoError(t, err)
			for b, before := range want {
				for a := range g.names {
					if !before.has(a) {
						continue
					}
					assert.Less(t, g.rec.end[a].Load(), g.rec.start[b].Load(),
						"%s must end before %s starts", g.names[a], g.names[b])
				}
			}
			assert.LessOrEqual(t, g.rec.peak.Load(), int64(workers))
		})
	}
}

func TestRandomDAGOrdering(t *testing.T) {
	const n, workers = 200, 8
	for seed := uint64(1); seed <= 50; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			rec := newRunRecorder(n)
			g := NewGraph("dag")
			tasks := make([]Task, n)
			for i := range tasks {
				tasks[i] = NewTask(fmt.Sprintf("t%03d", i), rec.execute(i))
				g.Add(tasks[i])
			}
			var edges [][2]int
			for v := range tasks {
				for range rng.IntN(4) {
					if u := rng.IntN(n); u < v {
						g.Link(tasks[u], tasks[v])
						edges = append(edges, [2]int{u, v})
					}
				}
			}
			c, err := Compile(g)
			require.NoError(t, err)
			_, err = c.Run(context.Background(), Workers(workers))
			require.NoError(t, err)
			require.NotEmpty(t, edges)
			for _, e := range edges {
				assert.Less(t, rec.end[e[0]].Load(), rec.start[e[1]].Load(), "t%03d -> t%03d", e[0], e[1])
			}
			assert.LessOrEqual(t, rec.peak.Load(), int64(workers))
		})
	}
}
