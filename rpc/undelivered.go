package rpc

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Bounds of the area where replies to a missing reply queue wait. Each
// reply there is retried for kombu_missing_consumer_retry_timeout (60 s by
// default); a caller that lost its queue gets its reply when the queue is
// back. A flood of calls naming queues that never existed fills the area,
// not the handler slots: with the area full, a further undeliverable reply
// is dropped at once (the newest, so that the replies already waiting keep
// their chance), with an ERROR line.
const (
	maxUndeliveredReplies     = 1024
	maxUndeliveredReplyBytes  = 64 << 20
	undeliveredAttemptTimeout = 5 * time.Second
)

// errUndeliveredFull: the area holds its maximum of replies or bytes.
var errUndeliveredFull = errors.New("rpc: too many undelivered replies waiting")

// undeliveredReply is a reply whose queue did not exist, waiting for it.
type undeliveredReply struct {
	queue  string
	msgID  string
	pub    publishing
	giveUp time.Time
	log    *logrus.Entry
}

// undeliveredReplies is the bounded area of replies waiting for their reply
// queue. The server's handlers put replies in; one goroutine of Run retries
// them (retryUndelivered).
type undeliveredReplies struct {
	maxCount int
	maxBytes int

	mu      sync.Mutex
	entries []*undeliveredReply // oldest first
	bytes   int
	empty   chan struct{} // closed while entries is empty
	wake    chan struct{} // signalled when entries stops being empty
}

func newUndeliveredReplies(maxCount, maxBytes int) *undeliveredReplies {
	u := &undeliveredReplies{maxCount: maxCount, maxBytes: maxBytes, empty: make(chan struct{}), wake: make(chan struct{}, 1)}
	close(u.empty)
	return u
}

// add keeps r, unless the area is full.
func (u *undeliveredReplies) add(r *undeliveredReply) error {
	size := len(r.pub.msg.Body)
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.entries) >= u.maxCount || u.bytes+size > u.maxBytes {
		return errUndeliveredFull
	}
	if len(u.entries) == 0 {
		u.empty = make(chan struct{})
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
	u.entries = append(u.entries, r)
	u.bytes += size
	return nil
}

// snapshot is the replies waiting now, oldest first.
func (u *undeliveredReplies) snapshot() []*undeliveredReply {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*undeliveredReply(nil), u.entries...)
}

// remove forgets the replies in done (delivered or abandoned).
func (u *undeliveredReplies) remove(done map[*undeliveredReply]bool) {
	if len(done) == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	kept := u.entries[:0]
	for _, r := range u.entries {
		if done[r] {
			u.bytes -= len(r.pub.msg.Body)
		} else {
			kept = append(kept, r)
		}
	}
	clear(u.entries[len(kept):])
	u.entries = kept
	u.markEmpty()
}

// takeAll empties the area and returns what it held.
func (u *undeliveredReplies) takeAll() []*undeliveredReply {
	u.mu.Lock()
	defer u.mu.Unlock()
	all := u.entries
	u.entries, u.bytes = nil, 0
	u.markEmpty()
	return all
}

func (u *undeliveredReplies) markEmpty() {
	if len(u.entries) > 0 {
		return
	}
	select {
	case <-u.empty:
	default:
		close(u.empty)
	}
}

// emptied is closed once no reply waits (at the time of the call).
func (u *undeliveredReplies) emptied() <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.empty
}

// len is the number of replies waiting.
func (u *undeliveredReplies) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.entries)
}

// deferReply puts a reply whose queue is missing in the area; the handler
// that computed it is free from then on.
func (s *Server) deferReply(rt *runState, r *undeliveredReply) {
	if err := rt.undelivered.add(r); err != nil {
		r.log.WithError(err).Errorf("The reply %s cannot be sent due to a missing queue (%s) and %d replies already wait for theirs. Dropping it.",
			r.msgID, r.queue, rt.undelivered.maxCount)
		s.dropped(DropBacklogFull)
		return
	}
	r.log.Debugf("The reply %s could not be sent due to a missing queue (%s). Retrying...", r.msgID, r.queue)
}

// retryUndelivered retries the waiting replies every 0.25 s, as oslo's
// reply loop does, until ctx is cancelled.
func (s *Server) retryUndelivered(ctx context.Context, rt *runState) {
	t := time.NewTimer(unroutableRetryEvery)
	defer t.Stop()
	for {
		if rt.undelivered.len() == 0 {
			select {
			case <-ctx.Done():
				return
			case <-rt.undelivered.wake:
			}
		}
		t.Reset(unroutableRetryEvery)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.retryRound(ctx, rt)
	}
}

// retryRound tries each waiting reply once. One failed attempt per reply
// queue and round is enough: the others to the same queue wait for the next
// round (or are abandoned when their window is over).
func (s *Server) retryRound(ctx context.Context, rt *runState) {
	window := s.opts.KombuMissingConsumerRetryTimeout
	failed := map[string]error{}
	done := map[*undeliveredReply]bool{}
	for _, r := range rt.undelivered.snapshot() {
		if ctx.Err() != nil {
			break
		}
		if s.obsolete.contains(r.queue) {
			r.log.Warnf("%s doesn't exist, drop reply to %s", r.queue, r.msgID)
			s.dropped(DropQueueMissing)
			done[r] = true
			continue
		}
		err, tried := failed[r.queue]
		if !tried {
			actx, cancel := context.WithTimeout(ctx, undeliveredAttemptTimeout)
			err = rt.pub.publish(actx, r.pub)
			cancel()
			if err == nil {
				r.log.Debugf("The reply %s was sent to %s after a retry", r.msgID, r.queue)
				done[r] = true
				continue
			}
			if ctx.Err() != nil {
				break
			}
			failed[r.queue] = err
		}
		if time.Now().Before(r.giveUp) {
			continue
		}
		done[r] = true
		if errors.Is(err, ErrUnroutable) {
			s.obsolete.add(r.queue)
			r.log.Errorf("The reply %s failed to send after %d seconds due to a missing queue (%s). Abandoning...",
				r.msgID, int(window.Seconds()), r.queue)
			s.dropped(DropQueueMissing)
		} else {
			r.log.WithError(err).Errorf("The reply %s to %s was not sent within %d seconds. Abandoning...",
				r.msgID, r.queue, int(window.Seconds()))
			s.dropped(DropTimeout)
		}
	}
	rt.undelivered.remove(done)
}

// stopRetries lets the waiting replies be retried until the graceful budget
// of the stop (counted from its start) is spent, then stops the retry loop
// and drops what still waits.
func (s *Server) stopRetries(rt *runState) {
	if left := time.Until(rt.stopStarted.Add(s.cfg.GracefulTimeout)); left > 0 {
		t := time.NewTimer(left)
		select {
		case <-rt.undelivered.emptied():
		case <-t.C:
		}
		t.Stop()
	}
	rt.retryCancel()
	rt.retryDone.Wait()
	if left := rt.undelivered.takeAll(); len(left) > 0 {
		rt.log.Errorf("Dropping %d replies still waiting for their reply queue: the server is stopping", len(left))
		for range left {
			s.dropped(DropStopping)
		}
	}
}
