package graph

import (
	"context"
	"errors"
	"fmt"
)

// Node is a resource of a graph with the resources that depend on it. A
// node reached from several parents is one Node shared by all of them.
type Node struct {
	Resource Resource
	Children []*Node
}

// Graph is a resource graph: its roots, the resources nobody depends on.
type Graph []*Node

// ErrLoop is a resource that is, through its dependents, its own dependent
// (Python's FoundLoopError, a RuntimeError, not a karbor exception).
//
//lint:ignore ST1005 Python's message, word for word
var ErrLoop = errors.New("A loop was found in the graph")

// ChildrenFunc returns the resources that depend on r.
type ChildrenFunc func(ctx context.Context, r Resource) ([]Resource, error)

// Build builds the graph of start (a plan's resources, in plan order) as
// karbor's build_graph does: depth first, asking children once per resource
// (by Key; a resource met again reuses the first node built for it, so its
// extra_info is that of the first one met), failing with ErrLoop on a loop.
// The roots are the start resources that no resource lists as a child, in
// start order; a start resource listed twice counts once.
func Build(ctx context.Context, start []Resource, children ChildrenFunc) (Graph, error) {
	b := &builder{
		children: children,
		finished: make(map[Key]*Node, len(start)),
		gray:     map[Key]bool{},
		sources:  make(map[Key]bool, len(start)),
	}
	starts := make([]Resource, 0, len(start))
	for _, r := range start {
		if k := r.Key(); !b.sources[k] {
			b.sources[k] = true
			starts = append(starts, r)
		}
	}
	built := make([]*Node, len(starts))
	for i, r := range starts {
		n, err := b.build(ctx, r)
		if err != nil {
			return nil, err
		}
		built[i] = n
	}
	var roots Graph
	for i, r := range starts {
		if b.sources[r.Key()] {
			roots = append(roots, built[i])
		}
	}
	return roots, nil
}

type builder struct {
	children ChildrenFunc
	finished map[Key]*Node
	gray     map[Key]bool // on the current path: meeting one again is a loop
	sources  map[Key]bool // start resources not yet seen as anyone's child
}

func (b *builder) build(ctx context.Context, r Resource) (*Node, error) {
	k := r.Key()
	if b.gray[k] {
		return nil, fmt.Errorf("%w: %s depends on itself", ErrLoop, r)
	}
	if n, ok := b.finished[k]; ok {
		return n, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.gray[k] = true
	kids, err := b.children(ctx, r)
	if err != nil {
		return nil, err
	}
	for _, c := range kids {
		delete(b.sources, c.Key())
	}
	n := &Node{Resource: r}
	if len(kids) > 0 {
		n.Children = make([]*Node, len(kids))
	}
	for i, c := range kids {
		if n.Children[i], err = b.build(ctx, c); err != nil {
			return nil, err
		}
	}
	delete(b.gray, k)
	b.finished[k] = n
	return n, nil
}

// Nodes returns every node of the graph once, in depth-first pre-order from
// the roots (the order in which karbor's flow builder first meets them).
func (g Graph) Nodes() []*Node {
	seen := map[*Node]bool{}
	var out []*Node
	var walk func(ns []*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			if seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, n)
			walk(n.Children)
		}
	}
	walk(g)
	return out
}
