package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/sirupsen/logrus"
)

// ErrTimeout is wrapped by the error of a call that got no (final) reply in
// time: oslo's MessagingTimeout.
var ErrTimeout = errors.New("messaging timeout")

// ErrInvalidTarget is oslo's InvalidTarget (e.g. a fanout call).
var ErrInvalidTarget = errors.New("rpc: invalid target")

// ClientConfig configures a Client.
type ClientConfig struct {
	TransportURL string         // [DEFAULT] transport_url
	Rabbit       *RabbitOptions // nil: DefaultRabbitOptions()
	Exchange     string         // [DEFAULT] control_exchange; "": "openstack"
	// ResponseTimeout is [DEFAULT] rpc_response_timeout (0: 60 s): the call
	// timeout when neither the Target nor the context sets one.
	ResponseTimeout time.Duration
	Logger          *logrus.Entry // nil: logctx.From of Dial's context
}

// Target addresses a call or cast, as oslo's Target plus prepare() options.
type Target struct {
	Exchange  string // "": the client's control exchange
	Topic     string
	Server    string // non-empty: "<topic>.<server>", one server
	Fanout    bool   // casts only: every server of the topic
	Namespace string // "": none (the endpoints' null namespace)
	Version   string // "": absent (servers assume "1.0")
	// Timeout is prepare(timeout=): how long a call waits (0:
	// ResponseTimeout); an earlier context deadline wins. It is also the
	// request's expiration.
	Timeout time.Duration
	// CallMonitorTimeout is prepare(call_monitor_timeout=): the server then
	// sends heartbeats, and the call fails after this long without any.
	CallMonitorTimeout time.Duration
}

// Client is an oslo.messaging RPC client: one reply queue
// (reply_<uuid hex>) consumed on a listener connection, and a send
// connection in confirm mode.
type Client struct {
	cfg    ClientConfig
	opts   RabbitOptions
	log    *logrus.Entry
	conn   *connector
	pub    *publisher
	replyQ string

	mu      sync.Mutex
	waiters map[string]chan replyMsg

	stop     context.CancelFunc
	wg       sync.WaitGroup
	closing  chan struct{}
	closed   atomic.Bool
	ready    chan struct{}
	lastErr  atomic.Pointer[error]
	sessions atomic.Int64
}

// Dial connects a client and waits (within ctx) until its reply queue is
// consumed. The client reconnects on its own until Close.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	u, opts, err := loadTransport(cfg.TransportURL, cfg.Rabbit)
	if err != nil {
		return nil, err
	}
	if cfg.Exchange == "" {
		cfg.Exchange = DefaultControlExchange
	}
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = DefaultResponseTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = logctx.From(ctx)
	}
	conn, err := newConnector(u, opts, log)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg: cfg, opts: opts, log: log, conn: conn,
		replyQ:  "reply_" + newUniqueID(),
		waiters: map[string]chan replyMsg{},
		closing: make(chan struct{}),
		ready:   make(chan struct{}),
	}
	comp, _ := compressionFor(opts.KombuCompression)
	c.pub = newPublisher(conn.dial, log)
	c.pub.compression = comp
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.stop = stop
	c.wg.Go(func() { c.listen(lctx) })
	select {
	case <-c.ready:
		return c, nil
	case <-ctx.Done():
		err := ctx.Err()
		if last := c.lastErr.Load(); last != nil {
			err = fmt.Errorf("%w (last error: %w)", err, *last)
		}
		c.Close()
		return nil, fmt.Errorf("rpc: dial: %w", err)
	}
}

// ReplyQueue is the client's reply queue name.
func (c *Client) ReplyQueue() string { return c.replyQ }

// Close stops the client; calls in progress return ErrClosed.
func (c *Client) Close() {
	if c.closed.Swap(true) {
		return
	}
	close(c.closing)
	c.stop()
	c.wg.Wait()
	c.pub.close()
}

// Call invokes method on one server of the target and returns its result
// as raw JSON. A remote failure is a *RemoteError; no reply in time is an
// error wrapping ErrTimeout. args and reqCtx must encode as JSON objects
// (nil: {}); reqCtx's members travel as _context_<key>.
func (c *Client) Call(ctx context.Context, t Target, method string, args, reqCtx any) (json.RawMessage, error) {
	if t.Fanout {
		return nil, fmt.Errorf("%w: a call cannot be used with fanout", ErrInvalidTarget)
	}
	if t.Topic == "" {
		return nil, fmt.Errorf("%w: a target needs a topic", ErrInvalidTarget)
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = c.cfg.ResponseTimeout
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("rpc: call %s: %w", method, context.DeadlineExceeded)
	}
	msgID := newUniqueID()
	body, err := encodeRequest(method, args, t, reqCtx, &callFields{msgID: msgID, replyQ: c.replyQ, callMonitorTimeout: t.CallMonitorTimeout})
	if err != nil {
		return nil, err
	}
	replies := c.register(msgID)
	defer c.unregister(msgID)

	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	msg := requestPublishing(body)
	msg.Expiration = expirationMillis(timeout)
	pub := c.publishingFor(t, msg)
	var sent pending
	send := func() error {
		var err error
		sent, err = c.pub.publishDeferred(cctx, pub)
		return err
	}
	if err := c.retry(cctx, send); err != nil {
		return nil, c.waitError(ctx, cctx, msgID, err)
	}
	return c.await(ctx, cctx, t, msgID, replies, &sent, send)
}

// await collects the replies of one call (oslo's ReplyWaiter.wait): the
// last non-null value wins, heartbeats restart the call-monitor timer, a
// truthy ending finishes. Meanwhile it watches the request's confirm: a
// request lost with its connection is sent again (the server drops a
// duplicate by its _unique_id).
func (c *Client) await(ctx, cctx context.Context, t Target, msgID string, replies <-chan replyMsg, sent *pending, resend func() error) (json.RawMessage, error) {
	confirmed := sent.dc.Done()
	var monitor <-chan time.Time
	var timer *time.Timer
	if t.CallMonitorTimeout > 0 {
		timer = time.NewTimer(t.CallMonitorTimeout)
		defer timer.Stop()
		monitor = timer.C
	}
	var final json.RawMessage
	var finalErr error
	for {
		select {
		case r := <-replies:
			value, err := r.outcome()
			var re *RemoteError
			switch {
			case err != nil && !errors.As(err, &re):
				return nil, err // undecodable failure: Python raises at once
			case err != nil:
				final, finalErr = nil, err
			case value != nil:
				final, finalErr = value, nil
			case !r.Ending && timer != nil:
				timer.Reset(t.CallMonitorTimeout)
			}
			if r.Ending {
				if final == nil && finalErr == nil {
					final = json.RawMessage("null")
				}
				return final, finalErr
			}
		case <-confirmed:
			confirmed = nil
			if err := sent.result(); err != nil {
				c.log.WithError(err).Warnf("call %s: request lost; sending it again", msgID)
				if err := c.retry(cctx, resend); err != nil {
					return nil, c.waitError(ctx, cctx, msgID, err)
				}
				confirmed = sent.dc.Done()
			}
		case <-monitor:
			return nil, c.timeoutError(msgID)
		case <-cctx.Done():
			return nil, c.waitError(ctx, cctx, msgID, cctx.Err())
		case <-c.closing:
			return nil, ErrClosed
		}
	}
}

func (c *Client) timeoutError(msgID string) error {
	return fmt.Errorf("rpc: %w: timed out waiting for a reply to message ID %s", ErrTimeout, msgID)
}

// waitError tells the caller cancelling from a timeout (the call's own
// timeout or the context's deadline), which also wraps
// context.DeadlineExceeded.
func (c *Client) waitError(ctx, cctx context.Context, msgID string, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("rpc: call %s: %w", msgID, ctx.Err())
	case cctx.Err() != nil:
		return fmt.Errorf("%w: %w", c.timeoutError(msgID), context.DeadlineExceeded)
	}
	return err
}

// Cast sends method to the target without waiting for a result: to any
// server of the topic, to Target.Server only, or with Target.Fanout to
// every server. It returns once the broker confirmed the message.
func (c *Client) Cast(ctx context.Context, t Target, method string, args, reqCtx any) error {
	if t.Topic == "" {
		return fmt.Errorf("%w: a target needs a topic", ErrInvalidTarget)
	}
	body, err := encodeRequest(method, args, t, reqCtx, nil)
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.ResponseTimeout)
		defer cancel()
	}
	pub := c.publishingFor(t, requestPublishing(body))
	return c.retry(ctx, func() error { return c.pub.publish(ctx, pub) })
}

// publishingFor addresses a request to its target.
func (c *Client) publishingFor(t Target, msg amqp.Publishing) publishing {
	if t.Fanout {
		ex := fanoutExchange(t.Topic)
		return publishing{exchange: ex.Name, key: "", declare: &ex, msg: msg}
	}
	exchange := t.Exchange
	if exchange == "" {
		exchange = c.cfg.Exchange
	}
	ex := topicExchange(&c.opts, exchange)
	key := t.Topic
	if t.Server != "" {
		key += "." + t.Server
	}
	return publishing{exchange: exchange, key: key, declare: &ex, msg: msg}
}

// retry runs a publish until it succeeds, fails for good, or ctx ends,
// re-dialling after connection loss (oslo retries sends forever; here the
// context bounds it).
func (c *Client) retry(ctx context.Context, publish func() error) error {
	for attempt := 1; ; attempt++ {
		err := publish()
		if err == nil || !errors.Is(err, errPublishConn) || ctx.Err() != nil {
			return err
		}
		delay := backoff(&c.opts, attempt)
		c.log.WithError(err).Warnf("publish failed; retrying in %s", delay)
		if !sleepCtx(ctx, delay) {
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		}
	}
}

// requestPublishing is the AMQP message of a request (oslo's properties).
func requestPublishing(body []byte) amqp.Publishing {
	return amqp.Publishing{
		ContentType:     contentTypeJSON,
		ContentEncoding: contentEncodingUTF8,
		DeliveryMode:    amqp.Persistent,
		Headers:         noHeaders,
		Body:            body,
	}
}

func (c *Client) register(msgID string) <-chan replyMsg {
	ch := make(chan replyMsg, 4)
	c.mu.Lock()
	c.waiters[msgID] = ch
	c.mu.Unlock()
	return ch
}

func (c *Client) unregister(msgID string) {
	c.mu.Lock()
	delete(c.waiters, msgID)
	c.mu.Unlock()
}

// deliver routes a reply to its waiting call. Replies nobody waits for
// (late, duplicate, unknown) are dropped, as oslo does.
func (c *Client) deliver(r replyMsg) {
	c.mu.Lock()
	ch := c.waiters[r.MsgID]
	c.mu.Unlock()
	if ch == nil {
		c.log.Infof("No calling threads waiting for msg_id : %s", r.MsgID)
		return
	}
	select {
	case ch <- r:
	default:
		c.log.Warnf("too many unread replies for msg_id %s; dropping one", r.MsgID)
	}
}

// listen keeps the reply queue consumed, reconnecting with backoff.
func (c *Client) listen(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		consumed, err := c.replySession(ctx)
		if ctx.Err() != nil {
			return
		}
		c.lastErr.Store(&err)
		if consumed {
			failures = 0
			c.conn.advance()
		} else {
			failures++
		}
		delay := backoff(&c.opts, failures)
		c.log.WithError(err).Warnf("reply listener lost its AMQP session; reconnecting in %s", delay)
		sleepCtx(ctx, delay)
	}
}

func (c *Client) replySession(ctx context.Context) (consumed bool, err error) {
	c.sessions.Add(1)
	conn, err := c.conn.dial(ctx, "listen")
	if err != nil {
		return false, err
	}
	defer func() { _ = conn.CloseDeadline(time.Now().Add(closeTimeout)) }()
	ch, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("rpc: open channel: %w", err)
	}
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	chClosed := ch.NotifyClose(make(chan *amqp.Error, 1))
	cancelled := ch.NotifyCancel(make(chan string, 1))
	if err := replyQueue(&c.opts, c.replyQ).declare(ch); err != nil {
		return false, fmt.Errorf("rpc: declare reply queue: %w", err)
	}
	// Manual acks, as oslo's: a reply in flight when the connection dies
	// is delivered again after reconnection.
	deliveries, err := ch.Consume(c.replyQ, "1", false, false, false, false, consumerArgs(&c.opts))
	if err != nil {
		return false, fmt.Errorf("rpc: consume reply queue: %w", err)
	}
	select {
	case <-c.ready:
	default:
		close(c.ready)
	}
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case err := <-connClosed:
			return true, closeReasonErr(err)
		case err := <-chClosed:
			return true, closeReasonErr(err)
		case tag := <-cancelled:
			return true, fmt.Errorf("rpc: reply consumer %s cancelled by the broker", tag)
		case d, ok := <-deliveries:
			if !ok {
				return true, errors.New("rpc: reply consumer stopped")
			}
			c.takeReplies(ch, &d, deliveries)
		}
	}
}

// maxAckBatch bounds the replies one basic.ack settles.
const maxAckBatch = 64

// takeReplies hands d and every further reply the library already holds to
// their calls, then acks them together. A reply is acked after its call has
// it, off the call's path: if the ack is lost with the connection, the
// reply comes again and finds no caller, which oslo logs and drops too.
func (c *Client) takeReplies(ch *amqp.Channel, d *amqp.Delivery, deliveries <-chan amqp.Delivery) {
	var last uint64
	taken := 0
	for d != nil {
		if r, err := decodeReply(d.ContentType, d.Headers, d.Body, c.opts.RabbitMaxDecompressedSize); err != nil {
			c.log.WithError(err).Error("Failed to process reply ... skipping it.")
			_ = d.Reject(false)
		} else {
			c.deliver(r)
			last = d.DeliveryTag
			taken++
		}
		d = nil
		if taken < maxAckBatch {
			select {
			case next, ok := <-deliveries:
				if ok {
					d = &next
				}
			default:
			}
		}
	}
	// One consumer on its own channel: its tags arrive in order, so a
	// multiple ack settles exactly the replies taken (and none rejected,
	// those being settled already).
	if taken > 0 {
		_ = ch.Ack(last, taken > 1)
	}
}
