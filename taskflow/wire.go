package taskflow

import (
	"fmt"
	"slices"
	"strings"
)

// maxEnds bounds the entry and exit lists a flow hands to its parent, so
// that deep nesting of wide flows stays linear; beyond it a barrier stands
// for the whole list.
const maxEnds = 32

// ends are the nodes where a flow begins (no predecessor inside it) and
// where it ends (no successor inside it). They are shared: never append to
// them.
type ends struct{ in, out []int32 }

// wire adds the edges that order the items of flow fi, recursively, and
// returns the flow's ends. Sequencing a group of nodes A before a group B
// costs |A|*|B| edges, or |A|+|B| through a barrier: a node that runs
// nothing, in the engine's own goroutine. So compile and scheduling stay
// linear in tasks plus links.
func (c *compiler) wire(fi int32) ends {
	f := &c.flows[fi]
	parts := make([]ends, len(f.items))
	for i, it := range f.items {
		if it.flow < 0 {
			one := c.self[it.task : it.task+1 : it.task+1]
			parts[i] = ends{one, one}
		} else {
			parts[i] = c.wire(it.flow)
		}
	}
	var e ends
	switch f.kind {
	case kindLinear:
		for i := 1; i < len(parts); i++ {
			c.connect(fi, parts[i-1].out, parts[i].in)
		}
		if len(parts) > 0 {
			e = ends{parts[0].in, parts[len(parts)-1].out}
		}
	case kindUnordered:
		for _, p := range parts {
			e.in = append(e.in, p.in...)
			e.out = append(e.out, p.out...)
		}
	case kindGraph:
		e = c.wireGraph(fi, parts)
	}
	if len(e.in) == 0 {
		// A flow without tasks still orders what is linked across it.
		b := c.barrier(fi)
		return ends{[]int32{b}, []int32{b}}
	}
	if fi == 0 {
		return e // nothing links to the root
	}
	return c.collapse(fi, e)
}

func (c *compiler) barrier(fi int32) int32 {
	c.barriers = append(c.barriers, fi)
	return int32(len(c.tasks) + len(c.barriers) - 1)
}

func (c *compiler) edge(from, to int32) { c.edges = append(c.edges, [2]int32{from, to}) }

// connect orders every node of from before every node of to.
func (c *compiler) connect(fi int32, from, to []int32) {
	if len(from)*len(to) <= len(from)+len(to) {
		for _, x := range from {
			for _, y := range to {
				c.edge(x, y)
			}
		}
		return
	}
	b := c.barrier(fi)
	for _, x := range from {
		c.edge(x, b)
	}
	for _, y := range to {
		c.edge(b, y)
	}
}

func (c *compiler) collapse(fi int32, e ends) ends {
	if len(e.in) > maxEnds {
		b := c.barrier(fi)
		for _, x := range e.in {
			c.edge(b, x)
		}
		e.in = []int32{b}
	}
	if len(e.out) > maxEnds {
		b := c.barrier(fi)
		for _, x := range e.out {
			c.edge(x, b)
		}
		e.out = []int32{b}
	}
	return e
}

// wireGraph orders the items of graph flow fi by its links, after checking
// that this item graph has no cycle.
func (c *compiler) wireGraph(fi int32, parts []ends) ends {
	f := &c.flows[fi]
	var edges [][2]int32
	for _, l := range f.links {
		from, okFrom := c.linkEnd(fi, l, l.from)
		to, okTo := c.linkEnd(fi, l, l.to)
		if okFrom && okTo {
			edges = append(edges, [2]int32{from, to})
		}
	}
	off, adj := itemGraph(len(f.items), edges)
	if cycle := findCycle(off, adj); cycle != nil {
		names := make([]string, len(cycle))
		for i, v := range cycle {
			names[i] = c.itemName(f.items[v])
		}
		c.problem("%w in graph flow %q: %s", ErrCycle, f.name, strings.Join(names, " -> "))
		return ends{}
	}
	var e ends
	hasPred := make([]bool, len(f.items))
	for u := range f.items {
		for _, v := range adj[off[u]:off[u+1]] {
			c.connect(fi, parts[u].out, parts[v].in)
			hasPred[v] = true
		}
		if off[u] == off[u+1] {
			e.out = append(e.out, parts[u].out...)
		}
	}
	for v, p := range hasPred {
		if !p {
			e.in = append(e.in, parts[v].in...)
		}
	}
	return e
}

// linkEnd returns the position in graph flow fi of one end of a link.
func (c *compiler) linkEnd(fi int32, l link, n Node) (int32, bool) {
	f := &c.flows[fi]
	bad := func(format string, args ...any) (int32, bool) {
		c.problem("%w: graph flow %q: link %s -> %s: %s", ErrBadLink, f.name,
			nodeName(l.from), nodeName(l.to), fmt.Sprintf(format, args...))
		return 0, false
	}
	switch n := n.(type) {
	case nil:
		return bad("nil end")
	case *Linear, *Unordered, *Graph:
		if _, _, ok := patternOf(n.(Flow)); !ok {
			return bad("nil end")
		}
		sub, ok := c.flowIdx[n.(Flow)]
		if !ok {
			return bad("flow %q is not in the compiled flow", n.Name())
		}
		if p := c.flows[sub].parent; p != fi {
			return bad("flow %q is not an item of this graph (it is in flow %q); link the item that holds it",
				n.Name(), c.flows[p].name)
		}
		return c.flows[sub].pos, true
	case Task:
		t, ok := c.byName[n.Name()]
		if !ok {
			return bad("task %q is not in the compiled flow", n.Name())
		}
		if p := c.tasks[t].flow; p != fi {
			return bad("task %q is not an item of this graph (it is in flow %q); link the item that holds it",
				n.Name(), c.flows[p].name)
		}
		return c.tasks[t].pos, true
	default:
		return bad("%T is neither a Task nor a Flow", n)
	}
}

func nodeName(n Node) string {
	switch f := n.(type) {
	case nil:
		return "<nil>"
	case *Linear, *Unordered, *Graph:
		if _, _, ok := patternOf(f.(Flow)); !ok {
			return "<nil>"
		}
	}
	return fmt.Sprintf("%q", n.Name())
}

// itemGraph returns the successor lists of k items, duplicates removed, in
// O(k + edges).
func itemGraph(k int, edges [][2]int32) (off, adj []int32) {
	off, adj = adjacency(k, edges, 0)
	seen := make([]int32, k)
	for i := range seen {
		seen[i] = -1
	}
	w := int32(0)
	for u := int32(0); u < int32(k); u++ {
		from, to := off[u], off[u+1]
		off[u] = w
		for _, v := range adj[from:to] {
			if seen[v] != u {
				seen[v] = u
				adj[w] = v
				w++
			}
		}
	}
	off[k] = w
	return off, adj[:w]
}

// findCycle returns the items of one cycle (its first item repeated at the end),
// or nil when the graph is acyclic (Kahn's algorithm).
func findCycle(off, adj []int32) []int32 {
	k := len(off) - 1
	indeg := make([]int32, k)
	for _, v := range adj {
		indeg[v]++
	}
	queue := make([]int32, 0, k)
	for v := range indeg {
		if indeg[v] == 0 {
			queue = append(queue, int32(v))
		}
	}
	for i := 0; i < len(queue); i++ {
		for _, v := range adj[off[queue[i]]:off[queue[i]+1]] {
			if indeg[v]--; indeg[v] == 0 {
				queue = append(queue, v)
			}
		}
	}
	if len(queue) == k {
		return nil
	}
	// Every item left has a predecessor left: walk predecessors until one
	// repeats, and read the loop forwards.
	pred := make([]int32, k)
	for i := range pred {
		pred[i] = -1
	}
	start := int32(-1)
	for u := int32(0); u < int32(k); u++ {
		for _, v := range adj[off[u]:off[u+1]] {
			if indeg[u] > 0 && indeg[v] > 0 {
				pred[v] = u
				start = v
			}
		}
	}
	at := map[int32]int{}
	var walk []int32
	for v := start; ; v = pred[v] {
		if i, seen := at[v]; seen {
			walk = walk[i:]
			break
		}
		at[v] = len(walk)
		walk = append(walk, v)
	}
	slices.Reverse(walk)
	// Start at the first item of the flow, for a stable message.
	first := slices.Index(walk, slices.Min(walk))
	return slices.Concat(walk[first:], walk[:first], walk[first:first+1])
}
