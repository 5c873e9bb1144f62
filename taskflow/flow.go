package taskflow

// Node is an item of a flow: a Task or a Flow.
type Node interface {
	Name() string
}

// Flow is a pattern that orders its items: Linear, Unordered or Graph.
// Flows nest to any depth. A flow is built by one goroutine, then compiled;
// changing it afterwards does not change what was compiled.
type Flow interface {
	Node
	items() []Node
}

// Linear runs its items one after the other: every task of an item finishes
// before any task of the next item starts.
type Linear struct {
	name  string
	nodes []Node
}

// NewLinear returns a linear flow holding items.
func NewLinear(name string, items ...Node) *Linear {
	return &Linear{name: name, nodes: items}
}

// Add appends items to the flow.
func (f *Linear) Add(items ...Node) { f.nodes = append(f.nodes, items...) }

// Name returns the flow's name.
func (f *Linear) Name() string { return f.name }

func (f *Linear) items() []Node { return f.nodes }

// Unordered runs its items independently of one another. An item may not
// need a value another item of the same unordered flow provides.
type Unordered struct {
	name  string
	nodes []Node
}

// NewUnordered returns an unordered flow holding items.
func NewUnordered(name string, items ...Node) *Unordered {
	return &Unordered{name: name, nodes: items}
}

// Add appends items to the flow.
func (f *Unordered) Add(items ...Node) { f.nodes = append(f.nodes, items...) }

// Name returns the flow's name.
func (f *Unordered) Name() string { return f.name }

func (f *Unordered) items() []Node { return f.nodes }

// Graph orders its items by explicit links and by data: an item that
// requires a name another item of the graph provides runs after it.
type Graph struct {
	name  string
	nodes []Node
	links []link
}

type link struct{ from, to Node }

// NewGraph returns a graph flow holding items.
func NewGraph(name string, items ...Node) *Graph {
	return &Graph{name: name, nodes: items}
}

// Add appends items to the flow.
func (f *Graph) Add(items ...Node) { f.nodes = append(f.nodes, items...) }

// Link makes to run after from. Both must be items of this graph (tasks or
// flows added to it, not tasks inside a nested flow); a linked flow stands
// for all its tasks: every task of from finishes before any task of to
// starts. Links are checked when the flow is compiled.
func (f *Graph) Link(from, to Node) { f.links = append(f.links, link{from, to}) }

// Name returns the flow's name.
func (f *Graph) Name() string { return f.name }

func (f *Graph) items() []Node { return f.nodes }
