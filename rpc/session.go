package rpc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/sirupsen/logrus"
)

// closeTimeout bounds Connection.Close on a connection that may be wedged.
const closeTimeout = 5 * time.Second

// listenSession is one listener connection of a server: the three consumers
// and the notifications that end the session.
type listenSession struct {
	ch         *amqp.Channel
	connClosed chan *amqp.Error
	chClosed   chan *amqp.Error
	cancelled  chan string
	deliveries [3]<-chan amqp.Delivery // topic, server and fanout consumers
	tags       []string
	acks       ackTracker
}

// session runs one listener connection: dial, declare, consume, accept
// deliveries until the connection fails (returning why) or ctx is cancelled
// (graceful stop, returning nil). consumed reports whether it got as far as
// consuming, which resets the reconnection backoff.
func (s *Server) session(ctx context.Context, conn *connector, rt *runState) (consumed bool, err error) {
	s.sessions.Add(1)
	c, err := conn.dial(ctx, "listen")
	if err != nil {
		return false, err
	}
	defer func() { _ = c.CloseDeadline(time.Now().Add(closeTimeout)) }()
	ls, err := s.startConsuming(c)
	if err != nil {
		return false, err
	}
	s.setHealth(nil)
	s.readyOnce.Do(func() { close(s.ready) })
	rt.log.WithField("fanout_queue", s.fanoutQueue).Info("RPC server consuming")

	for {
		chosen, err := ls.next(ctx)
		if err != nil {
			return true, err
		}
		if chosen == nil { // ctx cancelled
			s.stopGracefully(ls, rt)
			return true, nil
		}
		if err := s.accept(ctx, ls, rt, chosen); err != nil {
			if ctx.Err() != nil {
				s.stopGracefully(ls, rt)
				return true, nil
			}
			return true, err
		}
	}
}

// startConsuming declares oslo's server topology on a fresh channel and
// consumes the topic, server and fanout queues with tags "1", "2", "3".
func (s *Server) startConsuming(c *amqp.Connection) (*listenSession, error) {
	ch, err := c.Channel()
	if err != nil {
		return nil, fmt.Errorf("rpc: open channel: %w", err)
	}
	ls := &listenSession{
		ch:         ch,
		connClosed: c.NotifyClose(make(chan *amqp.Error, 1)),
		chClosed:   ch.NotifyClose(make(chan *amqp.Error, 1)),
		cancelled:  ch.NotifyCancel(make(chan string, 3)),
	}
	if n := s.opts.RabbitQosPrefetchCount; n > 0 {
		if err := ch.Qos(n, 0, false); err != nil {
			return nil, fmt.Errorf("rpc: basic.qos: %w", err)
		}
	}
	queues := serverTopology(&s.opts, s.cfg.Exchange, s.cfg.Topic, s.cfg.Server, s.fanoutQueue)
	for _, q := range queues {
		if err := q.declare(ch); err != nil {
			return nil, fmt.Errorf("rpc: declare queue %q: %w", q.Name, err)
		}
	}
	for i, q := range queues {
		tag := strconv.Itoa(i + 1)
		d, err := ch.Consume(q.Name, tag, false, false, false, false, consumerArgs(&s.opts))
		if err != nil {
			return nil, fmt.Errorf("rpc: consume %q: %w", q.Name, err)
		}
		ls.tags = append(ls.tags, tag)
		ls.deliveries[i] = d
	}
	return ls, nil
}

// next waits for a delivery; nil without error means ctx was cancelled.
func (ls *listenSession) next(ctx context.Context) (*amqp.Delivery, error) {
	var (
		d   amqp.Delivery
		ok  bool
		tag string
	)
	select {
	case <-ctx.Done():
		return nil, nil
	case err := <-ls.connClosed:
		return nil, closeReasonErr(err)
	case err := <-ls.chClosed:
		return nil, closeReasonErr(err)
	case tag := <-ls.cancelled:
		return nil, fmt.Errorf("rpc: consumer %s cancelled by the broker", tag)
	case d, ok = <-ls.deliveries[0]:
		tag = ls.tags[0]
	case d, ok = <-ls.deliveries[1]:
		tag = ls.tags[1]
	case d, ok = <-ls.deliveries[2]:
		tag = ls.tags[2]
	}
	if !ok {
		return nil, fmt.Errorf("rpc: consumer %s stopped", tag)
	}
	return &d, nil
}

// accept is oslo's consumer callback, for d and for every further delivery
// the library already holds while a worker slot is free: reject what cannot
// be decoded, take a worker slot for the rest, ack them (together, when
// their tags allow), then drop duplicates and dispatch each in the
// background. A slot is taken before the ack, so that a message not yet
// acked is redelivered if the session dies meanwhile; the ack is written
// before the dispatch, so that a server dying mid-call loses the request
// rather than having it run twice (oslo's at-most-once).
func (s *Server) accept(ctx context.Context, ls *listenSession, rt *runState, d *amqp.Delivery) error {
	var batch []*request
	var tags []uint64
	for slotTaken := false; d != nil; d, slotTaken = ls.poll(rt.pool, len(batch)) {
		ls.acks.received(d.DeliveryTag)
		req, err := decodeRequest(d.ContentType, d.Headers, d.Body, s.opts.RabbitMaxDecompressedSize)
		if err != nil {
			log := rt.log.WithError(err).WithFields(logrus.Fields{
				"routing_key": d.RoutingKey, "size": len(d.Body), "content_type": d.ContentType,
			})
			if req == nil {
				if slotTaken {
					rt.pool.release(1)
				}
				log.Error("Failed to process message ... skipping it.")
				if err := d.Reject(false); err != nil {
					rt.pool.release(len(batch))
					return fmt.Errorf("rpc: reject: %w", err)
				}
				continue
			}
			// Its caller can be told: accepted like any call, answered
			// with the failure.
			requestLog(log, req).Error("Failed to process message ... replying with a failure.")
		}
		if !slotTaken {
			if err := rt.pool.take(ctx, ls.connClosed, ls.chClosed); err != nil {
				rt.pool.release(len(batch))
				return err
			}
		}
		batch = append(batch, req)
		tags = append(tags, d.DeliveryTag)
	}
	if err := ls.acks.ack(ls.ch, tags); err != nil {
		rt.pool.release(len(batch))
		for _, req := range batch {
			requestLog(rt.log, req).WithError(err).Warn("Discarding RPC request due to failed acknowledge")
		}
		return fmt.Errorf("rpc: ack: %w", err)
	}
	for _, req := range batch {
		if s.dedup.seen(req.dedupKey()) {
			rt.pool.release(1)
			requestLog(rt.log, req).Warn("ignoring duplicate message")
			continue
		}
		rt.pool.run(job{req: req})
	}
	return nil
}

// poll returns, with a worker slot taken for it, a delivery the library
// already holds; nil when there is none, no slot is free or the batch of
// n is full. A stopped consumer is left for next to report.
func (ls *listenSession) poll(pool *workerPool, n int) (*amqp.Delivery, bool) {
	if n >= maxAckBatch || !pool.tryTake() {
		return nil, false
	}
	var d amqp.Delivery
	ok := false
	select {
	case d, ok = <-ls.deliveries[0]:
	case d, ok = <-ls.deliveries[1]:
	case d, ok = <-ls.deliveries[2]:
	default:
	}
	if !ok {
		pool.release(1)
		return nil, false
	}
	return &d, true
}

func closeReasonErr(err *amqp.Error) error {
	if err != nil {
		return fmt.Errorf("rpc: AMQP connection closed: %w", err)
	}
	return errors.New("rpc: AMQP connection closed")
}

// stopGracefully: basic.cancel every consumer (deliveries not yet acked go
// back to their queue when the channel closes), finish the in-flight
// handlers and their replies, then delete the fanout queue as oslo does.
func (s *Server) stopGracefully(ls *listenSession, rt *runState) {
	for _, tag := range ls.tags {
		if err := ls.ch.Cancel(tag, false); err != nil {
			rt.log.WithError(err).Warn("basic.cancel failed")
			break
		}
	}
	s.drain(rt)
	if _, err := ls.ch.QueueDelete(s.fanoutQueue, false, false, false); err != nil {
		rt.log.WithError(err).Warn("could not delete the fanout queue")
	}
}

// requestLog is the entry for every line about one request.
func requestLog(base *logrus.Entry, req *request) *logrus.Entry {
	f := logrus.Fields{"method": req.MethodName()}
	if id := req.RequestID(); id != "" {
		f["request_id"] = id
	}
	if req.WantsReply() {
		f["msg_id"] = req.MsgIDText()
	}
	return base.WithFields(f)
}
