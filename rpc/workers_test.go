package rpc

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The pool starts no more workers than there are slots, however the jobs
// come, runs every job once, and stop returns only after all of them.
func TestWorkerPool(t *testing.T) {
	for _, limit := range []int{1, 3, 64} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			sem := make(chan struct{}, limit)
			var ran, running, most atomic.Int64
			p := newWorkerPool(limit, func(job) {
				defer func() { <-sem }()
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				ran.Add(1)
				running.Add(-1)
			})
			const jobs = 2000
			for range jobs {
				sem <- struct{}{} // as the session takes a slot per request
				p.run(job{req: &request{}})
			}
			p.stop()
			assert.EqualValues(t, jobs, ran.Load())
			assert.LessOrEqual(t, p.started, limit)
			assert.LessOrEqual(t, most.Load(), int64(limit))
		})
	}
}
