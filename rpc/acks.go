package rpc

import amqp "github.com/rabbitmq/amqp091-go"

// maxAckBatch bounds the deliveries one basic.ack settles.
const maxAckBatch = 64

// ackTracker settles the deliveries of one channel with as few basic.ack
// frames as their tags allow: every ack costs a socket write here and a
// frame in the broker, and under load deliveries come in bursts.
//
// The broker numbers the deliveries of a channel 1, 2, 3, ... across all of
// its consumers, but each consumer's deliveries reach us through a Go
// channel of their own, so they are not received in tag order. An ack with
// multiple=true settles every outstanding tag up to its own, including one
// still on its way to us (which must not be acked before it is accepted,
// and which the broker would refuse to reject afterwards). So it is used
// only up to the tag below which every delivery has been received.
type ackTracker struct {
	contiguous uint64              // every tag up to this one was received
	ahead      map[uint64]struct{} // received tags above contiguous+1
}

// received records a delivery handed to us, before it is acked or rejected.
func (t *ackTracker) received(tag uint64) {
	if tag != t.contiguous+1 {
		if t.ahead == nil {
			t.ahead = map[uint64]struct{}{}
		}
		t.ahead[tag] = struct{}{}
		return
	}
	t.contiguous = tag
	for {
		if _, ok := t.ahead[t.contiguous+1]; !ok {
			return
		}
		delete(t.ahead, t.contiguous+1)
		t.contiguous++
	}
}

// ack acknowledges tags, all received and none acked or rejected yet, and
// all others received earlier already settled: one basic.ack with
// multiple=true for those every earlier tag of which was received, one
// each for the rest. A single tag is acked alone, as an unbatched consumer
// would.
func (t *ackTracker) ack(ch amqp.Acknowledger, tags []uint64) error {
	var upTo uint64
	covered := 0
	for _, tag := range tags {
		if tag <= t.contiguous {
			upTo = max(upTo, tag)
			covered++
		}
	}
	if covered > 0 {
		if err := ch.Ack(upTo, covered > 1); err != nil {
			return err
		}
	}
	for _, tag := range tags {
		if tag > t.contiguous {
			if err := ch.Ack(tag, false); err != nil {
				return err
			}
		}
	}
	return nil
}
