package bank

import (
	"container/heap"
	"context"
	"strings"
)

// A listing is a tree of entry sources: leaves page through one index
// directory through the plugin's sorted, marker-and-limit listing; concat
// walks date directories in order; merge interleaves project directories.
// Everything is lazy, so a page of n entries reads about n names per
// directory it touches and stops.

// entrySource yields index entry names "<ts>@<id>" in listing order.
type entrySource interface {
	next(ctx context.Context) (name string, ok bool, err error)
}

// leaf pages through the entries of one index directory.
type leaf struct {
	bank   *Bank
	dir    string
	desc   bool
	page   int
	marker string // full key
	buf    []string
	done   bool
}

func (l *leaf) next(ctx context.Context) (string, bool, error) {
	for len(l.buf) == 0 {
		if l.done {
			return "", false, nil
		}
		keys, err := l.bank.ListObjects(ctx, ListOptions{Prefix: l.dir, Marker: l.marker, Limit: l.page, Desc: l.desc, Delimiter: true})
		if err != nil {
			return "", false, err
		}
		l.done = len(keys) < l.page
		if len(keys) > 0 {
			l.marker = keys[len(keys)-1]
		}
		for _, k := range keys {
			name := strings.TrimPrefix(k, l.dir)
			if _, ok := parseEntry(name); ok {
				l.buf = append(l.buf, name)
			}
		}
	}
	name := l.buf[0]
	l.buf = l.buf[1:]
	return name, true, nil
}

// concat yields the sources open(0), open(1), … one after the other,
// opening each only when the previous one is exhausted.
type concat struct {
	open func(ctx context.Context, i int) (entrySource, bool, error)
	cur  entrySource
	i    int
	done bool
}

func (c *concat) next(ctx context.Context) (string, bool, error) {
	for !c.done {
		if c.cur == nil {
			s, ok, err := c.open(ctx, c.i)
			if err != nil {
				return "", false, err
			}
			if !ok {
				c.done = true
				break
			}
			c.cur, c.i = s, c.i+1
		}
		name, ok, err := c.cur.next(ctx)
		if err != nil || ok {
			return name, ok, err
		}
		c.cur = nil
	}
	return "", false, nil
}

// merge interleaves sorted sources into one sorted stream.
type merge struct {
	desc  bool
	heads []head
}

type head struct {
	name string
	src  entrySource
}

func newMerge(ctx context.Context, desc bool, children []entrySource) (*merge, error) {
	m := &merge{desc: desc}
	for _, src := range children {
		name, ok, err := src.next(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			m.heads = append(m.heads, head{name, src})
		}
	}
	heap.Init(m)
	return m, nil
}

func (m *merge) next(ctx context.Context) (string, bool, error) {
	if len(m.heads) == 0 {
		return "", false, nil
	}
	top := m.heads[0]
	name, ok, err := top.src.next(ctx)
	if err != nil {
		return "", false, err
	}
	if ok {
		m.heads[0].name = name
		heap.Fix(m, 0)
	} else {
		heap.Pop(m)
	}
	return top.name, true, nil
}

func (m *merge) Len() int { return len(m.heads) }
func (m *merge) Less(i, j int) bool {
	if m.desc {
		return m.heads[i].name > m.heads[j].name
	}
	return m.heads[i].name < m.heads[j].name
}
func (m *merge) Swap(i, j int) { m.heads[i], m.heads[j] = m.heads[j], m.heads[i] }
func (m *merge) Push(x any)    { m.heads = append(m.heads, x.(head)) }
func (m *merge) Pop() any {
	last := m.heads[len(m.heads)-1]
	m.heads = m.heads[:len(m.heads)-1]
	return last
}
