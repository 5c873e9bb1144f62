package rpc

import (
	"sync"
	"time"
)

// dedupWindow is oslo's _MsgIdCache.DUP_MSG_CHECK_SIZE.
const dedupWindow = 16

// msgIDCache remembers the last dedupWindow _unique_ids a server accepted.
// It lives as long as the server, across reconnections, as oslo's listener
// does.
type msgIDCache struct {
	mu   sync.Mutex
	ids  [dedupWindow]string
	next int
}

// seen reports whether id is a duplicate; if not, it records id. An empty
// id never is.
func (c *msgIDCache) seen(id string) bool {
	if id == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, old := range c.ids {
		if old == id {
			return true
		}
	}
	c.ids[c.next] = id
	c.next = (c.next + 1) % dedupWindow
	return false
}

// obsoleteReplyQueues is oslo's ObsoleteReplyQueuesCache: reply queues found
// missing after the full retry window, so that further replies to them are
// dropped at once instead of holding a worker for another minute.
type obsoleteReplyQueues struct {
	mu      sync.Mutex
	size    int
	ttl     time.Duration
	entries map[string]time.Time // queue -> expiry
	order   []string
	now     func() time.Time
}

func newObsoleteReplyQueues() *obsoleteReplyQueues {
	return &obsoleteReplyQueues{size: 200, ttl: 60 * time.Second, entries: map[string]time.Time{}, now: time.Now}
}

func (c *obsoleteReplyQueues) contains(q string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.entries[q]
	if ok && c.now().After(exp) {
		delete(c.entries, q)
		return false
	}
	return ok
}

func (c *obsoleteReplyQueues) add(q string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[q]; !ok {
		c.order = append(c.order, q)
	}
	c.entries[q] = c.now().Add(c.ttl)
	for len(c.entries) > c.size && len(c.order) > 0 {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
	if len(c.order) > 4*c.size { // forget names already expired
		kept := c.order[:0]
		for _, name := range c.order {
			if _, ok := c.entries[name]; ok {
				kept = append(kept, name)
			}
		}
		c.order = kept
	}
}
