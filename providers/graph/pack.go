package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
)

// Pack returns the graph's resource_graph string, byte for byte what the
// Python service's serialize_resource_graph writes: the JSON array
// [nodes, adjacency], nodes numbered in post-order of a depth-first walk of
// the roots ("0x0", "0x1", …, children before parents, each node once) as
// {"<sid>": [type, id, name, extra_info], …}, and adjacency holding
// [parent_sid, [child_sid, …]] for every node that has children, in the
// same order; formatted as Python's json.dumps (", " and ": " separators,
// everything outside printable ASCII escaped).
func (g Graph) Pack() (string, error) {
	p := packer{sid: map[*Node]int{}}
	p.nodes = append(p.nodes, '{')
	for _, n := range g {
		if err := p.visit(n); err != nil {
			return "", err
		}
	}
	p.nodes = append(p.nodes, '}')
	out := make([]byte, 0, len(p.nodes)+len(p.adjacency)+6)
	out = append(out, '[')
	out = append(out, p.nodes...)
	out = append(out, ", ["...)
	out = append(out, p.adjacency...)
	out = append(out, "]]"...)
	return string(out), nil
}

type packer struct {
	sid       map[*Node]int
	nodes     []byte // the nodes object being written, without its closing brace
	adjacency []byte // the adjacency entries, without the enclosing brackets
}

// visit numbers n's subtree in post-order, n last.
func (p *packer) visit(n *Node) error {
	if _, done := p.sid[n]; done {
		return nil
	}
	for _, c := range n.Children {
		if err := p.visit(c); err != nil {
			return err
		}
	}
	id := len(p.sid)
	p.sid[n] = id
	if id > 0 {
		p.nodes = append(p.nodes, ", "...)
	}
	p.nodes = appendSID(p.nodes, id)
	p.nodes = append(p.nodes, ": ["...)
	r := n.Resource
	for _, s := range [3]string{r.Type, r.ID, r.Name} {
		p.nodes = python.AppendJSONString(p.nodes, s)
		p.nodes = append(p.nodes, ", "...)
	}
	var err error
	if p.nodes, err = appendPyJSON(p.nodes, r.ExtraInfo); err != nil {
		return fmt.Errorf("graph: extra_info of %s: %w", r, err)
	}
	p.nodes = append(p.nodes, ']')
	if len(n.Children) == 0 {
		return nil
	}
	if len(p.adjacency) > 0 {
		p.adjacency = append(p.adjacency, ", "...)
	}
	p.adjacency = append(p.adjacency, '[')
	p.adjacency = appendSID(p.adjacency, id)
	p.adjacency = append(p.adjacency, ", ["...)
	for i, c := range n.Children {
		if i > 0 {
			p.adjacency = append(p.adjacency, ", "...)
		}
		p.adjacency = appendSID(p.adjacency, p.sid[c])
	}
	p.adjacency = append(p.adjacency, "]]"...)
	return nil
}

// appendSID appends Python's json.dumps(hex(id)).
func appendSID(dst []byte, id int) []byte {
	dst = append(dst, `"0x`...)
	dst = strconv.AppendInt(dst, int64(id), 16)
	return append(dst, '"')
}

// appendPyJSON appends a JSON value as Python's json.dumps writes it; no
// value is None.
func appendPyJSON(dst []byte, raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return append(dst, "null"...), nil
	}
	return python.AppendJSON(dst, raw)
}

// ErrMalformed is wrapped by every Unpack error but the topological one
// (which is karbor's InvalidInput, as in Python): a resource_graph that is
// not [nodes, adjacency] of the expected shapes or names an unknown node.
var ErrMalformed = errors.New("malformed packed resource graph")

// TopologicalOrderReason is the reason of the InvalidInput Unpack returns
// when a parent appears in the adjacency list after one of its ancestors.
const TopologicalOrderReason = "PackedGraph adjacency list must be topologically ordered"

// Unpack reads a resource_graph string back into a graph, as the Python
// service's deserialize_resource_graph does: each adjacency entry builds its
// parent from its children (children not built yet become leaves); an entry
// whose parent was already built is a *karbor.Error InvalidInput with
// TopologicalOrderReason; the roots are the nodes nobody lists as a child,
// in nodes order. Elements of the outer array after the second, and of a
// node array after the fourth, are ignored as Python ignores them.
func Unpack(s string) (Graph, error) {
	var outer []json.RawMessage
	if err := json.Unmarshal([]byte(s), &outer); err != nil {
		return nil, malformed("not a JSON array: %v", err)
	}
	if len(outer) < 2 {
		return nil, malformed("want [nodes, adjacency], got %d elements", len(outer))
	}
	nodes, err := decodeNodes(outer[0])
	if err != nil {
		return nil, err
	}
	var adjacency []json.RawMessage
	if err := json.Unmarshal(outer[1], &adjacency); err != nil {
		return nil, malformed("adjacency is not an array: %v", err)
	}
	built := make(map[string]*Node, len(nodes.order))
	for i, raw := range adjacency {
		if err := nodes.link(built, i, raw); err != nil {
			return nil, err
		}
	}
	var roots Graph
	for _, sid := range nodes.order {
		if nodes.removed[sid] {
			continue
		}
		n, ok := built[sid]
		if !ok {
			n = &Node{Resource: nodes.res[sid]}
		}
		roots = append(roots, n)
	}
	return roots, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("graph: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// packedNodes is the nodes object: sid → resource, in document order (a
// repeated sid keeps its first place and its last value, as Python's dict).
type packedNodes struct {
	order   []string
	res     map[string]Resource
	removed map[string]bool // listed as someone's child: not a root
}

func decodeNodes(raw json.RawMessage) (*packedNodes, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, malformed("nodes is not an object")
	}
	p := &packedNodes{res: map[string]Resource{}, removed: map[string]bool{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed("nodes: %v", err)
		}
		sid := tok.(string) // object keys are strings
		var fields []json.RawMessage
		if err := dec.Decode(&fields); err != nil {
			return nil, malformed("node %q is not an array: %v", sid, err)
		}
		r, err := decodeNode(sid, fields)
		if err != nil {
			return nil, err
		}
		if _, dup := p.res[sid]; !dup {
			p.order = append(p.order, sid)
		}
		p.res[sid] = r
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed("nodes: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("nodes: trailing data")
	}
	return p, nil
}

func decodeNode(sid string, fields []json.RawMessage) (Resource, error) {
	if len(fields) < 4 {
		return Resource{}, malformed("node %q has %d fields, want [type, id, name, extra_info]", sid, len(fields))
	}
	var r Resource
	for i, dst := range []*string{&r.Type, &r.ID, &r.Name} {
		if err := json.Unmarshal(fields[i], dst); err != nil {
			return Resource{}, malformed("node %q: field %d is not a string", sid, i)
		}
	}
	if extra := bytes.TrimSpace(fields[3]); string(extra) != "null" {
		r.ExtraInfo = json.RawMessage(extra)
	}
	return r, nil
}

// link builds the parent of adjacency entry i from its children.
func (p *packedNodes) link(built map[string]*Node, i int, raw json.RawMessage) error {
	var entry []json.RawMessage
	if err := json.Unmarshal(raw, &entry); err != nil || len(entry) != 2 {
		return malformed("adjacency entry %d is not [parent, [children]]", i)
	}
	var parent string
	var children []string
	if json.Unmarshal(entry[0], &parent) != nil || json.Unmarshal(entry[1], &children) != nil {
		return malformed("adjacency entry %d is not [parent, [children]] of node ids", i)
	}
	if _, ok := built[parent]; ok {
		return karbor.InvalidInput(TopologicalOrderReason)
	}
	n := &Node{Children: make([]*Node, len(children))}
	for j, c := range children {
		child, ok := built[c]
		if !ok {
			r, known := p.res[c]
			if !known {
				return malformed("adjacency entry %d: unknown node %q", i, c)
			}
			child = &Node{Resource: r}
			built[c] = child
		}
		n.Children[j] = child
		p.removed[c] = true
	}
	r, known := p.res[parent]
	if !known || p.removed[parent] {
		return malformed("adjacency entry %d: unknown node %q", i, parent)
	}
	n.Resource = r
	built[parent] = n
	return nil
}
