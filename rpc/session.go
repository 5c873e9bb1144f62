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
// the workers take deliveries from, and the notifications that end the
// session.
type listenSession struct {
	ch         *amqp.Channel
	connClosed chan *amqp.Error
	chClosed   chan *amqp.Error
	cancelled  chan string
	deliveries [3]<-chan amqp.Delivery // topic, server and fanout consumers
	tags       []string
	failed     chan error    // a worker's reason to end the session (first one kept)
	done       chan struct{} // closed once the workers stop taking deliveries
	detached   bool          // guarded by the pool's mutex
}

// session runs one listener connection: dial, declare, consume, let the
// workers take deliveries until the connection fails (returning why) or
// ctx is cancelled (graceful stop, returning nil). consumed reports whether
// it got as far as consuming, which resets the reconnection backoff.
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
	rt.pool.attach(ls)
	defer rt.pool.detach(ls)
	s.setHealth(nil)
	s.readyOnce.Do(func() { close(s.ready) })
	rt.log.WithField("fanout_queue", s.fanoutQueue).Info("RPC server consuming")

	select {
	case <-ctx.Done():
		s.stopGracefully(ls, rt)
		return true, nil
	case err := <-ls.connClosed:
		return true, closeReasonErr(err)
	case err := <-ls.chClosed:
		return true, closeReasonErr(err)
	case tag := <-ls.cancelled:
		return true, fmt.Errorf("rpc: consumer %s cancelled by the broker", tag)
	case err := <-ls.failed:
		return true, err
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
		failed:     make(chan error, 1),
		done:       make(chan struct{}),
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

// receive waits for a delivery; false once the session is detached. A
// consumer the library stopped ends the session. With topicFirst it takes a
// delivery the topic queue's consumer holds ready without the select over
// every queue (fast reports that it did): under load nearly every call
// comes that way, and the select locks all four channels twice a call.
func (ls *listenSession) receive(topicFirst bool) (d *amqp.Delivery, fast, ok bool) {
	if topicFirst {
		select {
		case td, ok := <-ls.deliveries[0]:
			if ok {
				return &td, true, true
			}
			// Closed: the select below finds it and ends the session.
		default:
		}
	}
	var (
		rd    amqp.Delivery
		which int
	)
	select {
	case <-ls.done:
		return nil, false, false
	case rd, ok = <-ls.deliveries[0]:
	case rd, ok = <-ls.deliveries[1]:
		which = 1
	case rd, ok = <-ls.deliveries[2]:
		which = 2
	}
	if !ok {
		ls.fail(fmt.Errorf("rpc: consumer %s stopped", ls.tags[which]))
		<-ls.done
		return nil, false, false
	}
	return &rd, false, true
}

// fail ends the session for err, unless it is ending already.
func (ls *listenSession) fail(err error) {
	select {
	case ls.failed <- err:
	default:
	}
}

// accept is oslo's consumer callback and executor for one delivery, run by
// the worker that took it: reject what cannot be decoded, ack the rest,
// drop duplicates, handle. The worker's slot is taken before the ack, so
// that a message not yet acked is redelivered if the session dies
// meanwhile; the ack is written before the dispatch, so that a server
// dying mid-call loses the request rather than having it run twice
// (oslo's at-most-once).
func (s *Server) accept(rt *runState, ls *listenSession, d *amqp.Delivery) {
	req, err := decodeRequest(d.ContentType, d.Headers, d.Body, s.opts.RabbitMaxDecompressedSize)
	if err != nil {
		log := rt.log.WithError(err).WithFields(logrus.Fields{
			"routing_key": d.RoutingKey, "size": len(d.Body), "content_type": d.ContentType,
		})
		if req == nil {
			log.Error("Failed to process message ... skipping it.")
			if err := ls.ch.Reject(d.DeliveryTag, false); err != nil {
				ls.fail(fmt.Errorf("rpc: reject: %w", err))
			}
			return
		}
		// Its caller can be told: accepted like any call, answered with
		// the failure.
		requestLog(log, req).Error("Failed to process message ... replying with a failure.")
	}
	if err := ls.ch.Ack(d.DeliveryTag, false); err != nil {
		requestLog(rt.log, req).WithError(err).Warn("Discarding RPC request due to failed acknowledge")
		ls.fail(fmt.Errorf("rpc: ack: %w", err))
		return
	}
	if s.dedup.seen(req.dedupKey()) {
		requestLog(rt.log, req).Warn("ignoring duplicate message")
		return
	}
	s.handle(rt, req)
}

func closeReasonErr(err *amqp.Error) error {
	if err != nil {
		return fmt.Errorf("rpc: AMQP connection closed: %w", err)
	}
	return errors.New("rpc: AMQP connection closed")
}

// stopGracefully: stop taking deliveries, basic.cancel every consumer (deliveries not yet acked go
// back to their queue when the channel closes), finish the in-flight
// handlers and their replies, then delete the fanout queue as oslo does.
func (s *Server) stopGracefully(ls *listenSession, rt *runState) {
	rt.pool.detach(ls)
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
