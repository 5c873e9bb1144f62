package taskflow

import (
	"errors"
	"fmt"
	"strings"
)

// Problems Compile reports wrap one of these; test with errors.Is.
var (
	ErrInvalidFlow   = errors.New("invalid flow")
	ErrDuplicateName = errors.New("duplicate task name")
	ErrBadLink       = errors.New("bad link")
	ErrCycle         = errors.New("cycle")
)

// CompileError lists every problem Compile found in a flow.
type CompileError struct {
	Flow     string
	Problems []error
}

// maxShownProblems keeps the message of a flow with thousands of bad tasks
// readable; Problems still holds them all.
const maxShownProblems = 20

func (e *CompileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "taskflow: flow %q does not compile: ", e.Flow)
	for i, p := range e.Problems {
		if i == maxShownProblems {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, so errors.Is finds their kinds.
func (e *CompileError) Unwrap() []error { return e.Problems }

// Compiled is a flow turned into a graph of tasks, checked and ready to run.
// It is immutable: it may be run any number of times, concurrently.
type Compiled struct {
	name     string
	tasks    []taskNode
	flows    []flowNode
	barriers []int32 // owning flow of node len(tasks)+i
	byName   map[string]int32
	// Successors and predecessors of node i (tasks first, then barriers):
	// succ[succOff[i]:succOff[i+1]], pred[predOff[i]:predOff[i+1]].
	succOff, succ []int32
	predOff, pred []int32
}

// Name returns the name of the compiled (root) flow.
func (c *Compiled) Name() string { return c.name }

// Len returns the number of tasks.
func (c *Compiled) Len() int { return len(c.tasks) }

func (c *Compiled) nodes() int32 { return int32(len(c.tasks) + len(c.barriers)) }

type taskNode struct {
	name     string
	task     Task
	reverter Reverter
	flow     int32 // enclosing flow
	pos      int32 // position among the flow's items
}

type flowKind uint8

const (
	kindLinear flowKind = iota
	kindUnordered
	kindGraph
)

func (k flowKind) String() string {
	return [...]string{"linear", "unordered", "graph"}[k]
}

type flowNode struct {
	name   string
	kind   flowKind
	parent int32
	pos    int32
	lo, hi int32 // the flow's tasks, nested ones included, are [lo, hi)
	items  []item
	links  []link
}

// item is a task (flow < 0) or a nested flow.
type item struct{ flow, task int32 }

// Compile checks f and turns it into a graph of tasks. Every problem found
// is reported, in one *CompileError.
func Compile(f Flow) (*Compiled, error) {
	if f == nil {
		return nil, fmt.Errorf("taskflow: %w: nil flow", ErrInvalidFlow)
	}
	n := countTasks(f, map[Flow]bool{})
	c := &compiler{
		tasks:   make([]taskNode, 0, n),
		flowIdx: map[Flow]int32{},
		byName:  make(map[string]int32, n),
	}
	c.collect(f, -1, 0)
	if len(c.problems) == 0 {
		c.self = make([]int32, len(c.tasks))
		for i := range c.self {
			c.self[i] = int32(i)
		}
		c.wire(0)
	}
	if len(c.problems) > 0 {
		return nil, &CompileError{Flow: f.Name(), Problems: c.problems}
	}
	return c.finish(), nil
}

type compiler struct {
	tasks    []taskNode
	flows    []flowNode
	flowIdx  map[Flow]int32
	byName   map[string]int32
	self     []int32 // self[i] == i: one-task entry lists without allocating
	barriers []int32
	edges    [][2]int32
	problems []error
}

func (c *compiler) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Errorf(format, args...))
}

// countTasks sizes the compiler's tables, so that a flow of 40,000 tasks
// is not copied while they grow. A flow met twice is counted once; collect
// reports it.
func countTasks(f Flow, seen map[Flow]bool) int {
	if _, _, ok := patternOf(f); !ok || seen[f] {
		return 0
	}
	seen[f] = true
	n := 0
	for _, item := range f.items() {
		switch item := item.(type) {
		case Flow:
			n += countTasks(item, seen)
		case Task:
			n++
		}
	}
	return n
}

// collect numbers the tasks depth first, so that the tasks of every flow
// are one range, and records the flow tree.
func (c *compiler) collect(f Flow, parent, pos int32) int32 {
	kind, links, ok := patternOf(f)
	if !ok {
		c.problem("%w: a %T is not a flow Compile knows (nil, or not made by NewLinear, NewUnordered or NewGraph)",
			ErrInvalidFlow, f)
		return -1
	}
	if fi, seen := c.flowIdx[f]; seen {
		if c.flows[fi].hi < 0 {
			c.problem("%w: flow %q contains itself", ErrInvalidFlow, f.Name())
		} else {
			c.problem("%w: flow %q is added twice", ErrInvalidFlow, f.Name())
		}
		return -1
	}
	fi := int32(len(c.flows))
	c.flowIdx[f] = fi
	c.flows = append(c.flows, flowNode{
		name: f.Name(), kind: kind, parent: parent, pos: pos,
		lo: int32(len(c.tasks)), hi: -1, links: links,
	})
	nodes := f.items()
	items := make([]item, 0, len(nodes))
	for i, n := range nodes {
		at := int32(len(items))
		switch n := n.(type) {
		case nil:
			c.problem("%w: item %d of flow %q is nil", ErrInvalidFlow, i, f.Name())
		case Flow:
			if sub := c.collect(n, fi, at); sub >= 0 {
				items = append(items, item{flow: sub, task: -1})
			}
		case Task:
			if t := c.addTask(n, fi, at); t >= 0 {
				items = append(items, item{flow: -1, task: t})
			}
		default:
			c.problem("%w: item %d of flow %q (%T) is neither a Task nor a Flow", ErrInvalidFlow, i, f.Name(), n)
		}
	}
	c.flows[fi].items = items
	c.flows[fi].hi = int32(len(c.tasks))
	return fi
}

// patternOf tells the kind of one of this package's flows; anything else
// (a nil one, or a type embedding one) is not a flow Compile knows.
func patternOf(f Flow) (flowKind, []link, bool) {
	switch g := f.(type) {
	case *Linear:
		return kindLinear, nil, g != nil
	case *Unordered:
		return kindUnordered, nil, g != nil
	case *Graph:
		if g != nil {
			return kindGraph, g.links, true
		}
	}
	return 0, nil, false
}

func (c *compiler) addTask(t Task, fi, pos int32) int32 {
	name := t.Name()
	if name == "" {
		c.problem("%w: a task in flow %q has no name", ErrInvalidFlow, c.flows[fi].name)
		return -1
	}
	if prev, dup := c.byName[name]; dup {
		c.problem("%w: %q is in flow %q and in flow %q", ErrDuplicateName,
			name, c.flows[c.tasks[prev].flow].name, c.flows[fi].name)
		return -1
	}
	ti := int32(len(c.tasks))
	c.byName[name] = ti
	n := taskNode{name: name, task: t, flow: fi, pos: pos}
	if r, ok := t.(Reverter); ok {
		n.reverter = r
	}
	c.tasks = append(c.tasks, n)
	return ti
}

func (c *compiler) itemName(it item) string {
	if it.flow < 0 {
		return fmt.Sprintf("%q", c.tasks[it.task].name)
	}
	return fmt.Sprintf("flow %q", c.flows[it.flow].name)
}

// finish lays the edges out as successor and predecessor arrays.
func (c *compiler) finish() *Compiled {
	n := len(c.tasks) + len(c.barriers)
	out := &Compiled{
		name: c.flows[0].name, tasks: c.tasks, flows: c.flows, barriers: c.barriers,
		byName: c.byName,
	}
	for i := range out.flows {
		out.flows[i].links = nil // only compiling needs them
	}
	out.succOff, out.succ = adjacency(n, c.edges, 0)
	out.predOff, out.pred = adjacency(n, c.edges, 1)
	return out
}

// adjacency groups edges by their end side (0: from, 1: to), keeping their
// order, in O(nodes + edges).
func adjacency(n int, edges [][2]int32, side int) (off, adj []int32) {
	off = make([]int32, n+1)
	for _, e := range edges {
		off[e[side]+1]++
	}
	for i := 0; i < n; i++ {
		off[i+1] += off[i]
	}
	next := make([]int32, n)
	copy(next, off[:n])
	adj = make([]int32, len(edges))
	for _, e := range edges {
		adj[next[e[side]]] = e[1-side]
		next[e[side]]++
	}
	return off, adj
}
