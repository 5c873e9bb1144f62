package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/sirupsen/logrus"
)

// Publishing errors. ErrUnroutable and ErrBlocked are final for one attempt;
// errPublishConn means the attempt may be retried on a new connection.
var (
	// ErrUnroutable: the broker returned a mandatory message (312 NO_ROUTE),
	// i.e. the reply queue does not exist.
	ErrUnroutable = errors.New("rpc: message unroutable (no such queue)")
	// ErrBlocked: the broker has blocked the connection (memory or disk
	// alarm) for longer than the caller's deadline.
	ErrBlocked = errors.New("rpc: connection blocked by the broker")
	// ErrClosed: the client or server is closed.
	ErrClosed      = errors.New("rpc: closed")
	errPublishConn = errors.New("rpc: publish connection lost")
)

// maxInflightMandatory bounds unconfirmed mandatory publishes per channel.
// The returns buffer has the same size, so the library's reader goroutine
// never waits on it.
const maxInflightMandatory = 256

// publisher owns a send connection with one channel in publisher-confirm
// mode, as oslo's pooled send connections are; it re-dials lazily after a
// failure. Publishing on a connection of its own keeps a blocked or slow
// publish from stalling consumption (amqp091-go's advice).
type publisher struct {
	connect func(ctx context.Context, purpose string) (*amqp.Connection, error)
	log     *logrus.Entry
	// compression is kombu_compression's content type ("": none).
	compression string

	mu     sync.Mutex
	cur    *pubChannel
	closed bool
	wg     sync.WaitGroup // watchers of every pubChannel
}

// pubChannel is one send connection and its channel in confirm mode.
type pubChannel struct {
	conn *amqp.Connection
	ch   *amqp.Channel
	done chan struct{} // closed once the connection or channel is unusable

	returns  chan amqp.Return
	slots    chan struct{}
	retMu    sync.Mutex
	returned map[string]int // bodies of returned messages not yet claimed

	blockMu   sync.Mutex
	unblocked chan struct{} // non-nil while the broker blocks us

	declMu   sync.Mutex
	declared map[string]bool // exchanges declared on this channel
}

func newPublisher(connect func(context.Context, string) (*amqp.Connection, error), log *logrus.Entry) *publisher {
	return &publisher{connect: connect, log: log}
}

// close closes the current connection and waits for its watcher.
func (p *publisher) close() {
	p.mu.Lock()
	p.closed = true
	cur := p.cur
	p.cur = nil
	p.mu.Unlock()
	if cur != nil {
		_ = cur.conn.Close()
	}
	p.wg.Wait()
}

func (p *publisher) channel(ctx context.Context) (*pubChannel, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if p.cur != nil {
		select {
		case <-p.cur.done:
		default:
			return p.cur, nil
		}
	}
	conn, err := p.connect(ctx, "send")
	if err != nil {
		return nil, err
	}
	pc, err := openPubChannel(conn)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	p.cur = pc
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		pc.watch(p.log)
	}()
	return pc, nil
}

func openPubChannel(conn *amqp.Connection) (*pubChannel, error) {
	pc := &pubChannel{
		conn:     conn,
		done:     make(chan struct{}),
		returns:  make(chan amqp.Return, maxInflightMandatory),
		slots:    make(chan struct{}, maxInflightMandatory),
		returned: map[string]int{},
		declared: map[string]bool{},
	}
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("rpc: open send channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		return nil, fmt.Errorf("rpc: confirm mode: %w", err)
	}
	pc.ch = ch
	ch.NotifyReturn(pc.returns)
	return pc, nil
}

// watch follows the connection's life until every notification channel is
// closed, as amqp091-go requires of its listeners.
func (pc *pubChannel) watch(log *logrus.Entry) {
	connClosed := pc.conn.NotifyClose(make(chan *amqp.Error, 1))
	chClosed := pc.ch.NotifyClose(make(chan *amqp.Error, 1))
	blocked := pc.conn.NotifyBlocked(make(chan amqp.Blocking, 1))
	var closers sync.WaitGroup
	defer closers.Wait()
	markDone := sync.OnceFunc(func() {
		close(pc.done)
		pc.setBlocked(false)
		// Closing from here could deadlock with the reader goroutine
		// delivering to us; close from a helper.
		closers.Go(func() { _ = pc.conn.Close() })
	})
	for connClosed != nil || chClosed != nil || blocked != nil {
		select {
		case err, ok := <-connClosed:
			if !ok {
				connClosed = nil
			} else if err != nil {
				log.WithError(err).Warn("AMQP send connection closed")
			}
			markDone()
		case err, ok := <-chClosed:
			if !ok {
				chClosed = nil
			} else if err != nil {
				log.WithError(err).Warn("AMQP send channel closed")
			}
			markDone()
		case b, ok := <-blocked:
			if !ok {
				blocked = nil
				continue
			}
			if b.Active {
				log.WithField("reason", b.Reason).Error("The broker has blocked the connection")
			} else {
				log.Info("The broker has unblocked the connection")
			}
			pc.setBlocked(b.Active)
		}
	}
}

func (pc *pubChannel) setBlocked(active bool) {
	pc.blockMu.Lock()
	defer pc.blockMu.Unlock()
	switch {
	case active && pc.unblocked == nil:
		pc.unblocked = make(chan struct{})
	case !active && pc.unblocked != nil:
		close(pc.unblocked)
		pc.unblocked = nil
	}
}

// waitUnblocked returns once the broker no longer blocks the connection; a
// publish would otherwise sit in a socket write that no deadline interrupts.
func (pc *pubChannel) waitUnblocked(ctx context.Context) error {
	pc.blockMu.Lock()
	wait := pc.unblocked
	pc.blockMu.Unlock()
	if wait == nil {
		return nil
	}
	select {
	case <-wait:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBlocked, ctx.Err())
	}
}

// declareOnce declares ex the first time this channel publishes to it, as
// kombu's Producer does.
func (pc *pubChannel) declareOnce(ex exchangeDecl) error {
	pc.declMu.Lock()
	defer pc.declMu.Unlock()
	if pc.declared[ex.Name] {
		return nil
	}
	if err := ex.declare(pc.ch); err != nil {
		return err
	}
	pc.declared[ex.Name] = true
	return nil
}

// publishing describes one publish.
type publishing struct {
	exchange  string
	key       string
	mandatory bool
	declare   *exchangeDecl // declared once per channel before publishing
	msg       amqp.Publishing
}

// publish sends one message and waits for the broker's confirm. A
// declaration the broker refuses (e.g. 406 inequivalent arg) is returned as
// is; connection loss as errPublishConn (retryable).
func (p *publisher) publish(ctx context.Context, pub publishing) error {
	if err := p.compress(&pub); err != nil {
		return err
	}
	pc, err := p.ready(ctx, pub)
	if err != nil {
		return err
	}
	return pc.publishConfirmed(ctx, pub, nil)
}

// publishWithin is publish bounded by d. On a ready channel (connected,
// not blocked, nothing to declare) the bound is a bare timer: a timeout
// context per reply, registered with and removed from the server's
// context, costs several allocations and locks on every call. Running out
// of time is context.DeadlineExceeded either way.
func (p *publisher) publishWithin(ctx context.Context, pub publishing, d time.Duration) error {
	pc := p.readyChannel()
	if pc == nil || pub.declare != nil {
		tctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return p.publish(tctx, pub)
	}
	if err := p.compress(&pub); err != nil {
		return err
	}
	t := boundTimers.Get().(*time.Timer)
	t.Reset(d)
	defer func() {
		t.Stop()
		boundTimers.Put(t)
	}()
	return pc.publishConfirmed(ctx, pub, t.C)
}

// boundTimers are stopped timers for publishWithin: a new timer was three
// of a reply's allocations. Since Go 1.23 a stopped timer's channel holds
// no stale tick, so a timer taken from here fires only for its new Reset.
var boundTimers = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// readyChannel is the current channel when it is open and not blocked.
func (p *publisher) readyChannel() *pubChannel {
	p.mu.Lock()
	pc := p.cur
	if p.closed || pc == nil || pc.isDone() {
		pc = nil
	}
	p.mu.Unlock()
	if pc == nil {
		return nil
	}
	pc.blockMu.Lock()
	blocked := pc.unblocked != nil
	pc.blockMu.Unlock()
	if blocked {
		return nil
	}
	return pc
}

// pending is a published message whose confirm is still to come.
type pending struct {
	dc *amqp.DeferredConfirmation
	pc *pubChannel
}

// result, once dc.Done() is closed: nil if the broker took the message,
// errPublishConn if it was lost (nack or connection gone) and must be sent
// again.
func (p pending) result() error {
	if p.dc.Acked() {
		return nil
	}
	if p.pc.isDone() {
		return errPublishConn
	}
	return fmt.Errorf("%w: broker nacked the message", errPublishConn)
}

// publishDeferred publishes a (non-mandatory) message without waiting for
// its confirm: a call waits for the confirm and the reply at once.
func (p *publisher) publishDeferred(ctx context.Context, pub publishing) (pending, error) {
	if err := p.compress(&pub); err != nil {
		return pending{}, err
	}
	pc, err := p.ready(ctx, pub)
	if err != nil {
		return pending{}, err
	}
	dc, err := pc.ch.PublishWithDeferredConfirmWithContext(ctx, pub.exchange, pub.key, false, false, pub.msg)
	if err != nil {
		return pending{}, publishErr(ctx, err)
	}
	return pending{dc: dc, pc: pc}, nil
}

// compress applies kombu_compression to the body.
func (p *publisher) compress(pub *publishing) error {
	if p.compression == "" || pub.msg.Headers[compressionHeader] != nil {
		return nil
	}
	body, err := compress(pub.msg.Body)
	if err != nil {
		return fmt.Errorf("rpc: compress: %w", err)
	}
	headers := amqp.Table{compressionHeader: p.compression}
	for k, v := range pub.msg.Headers {
		headers[k] = v
	}
	pub.msg.Headers, pub.msg.Body = headers, body
	return nil
}

// ready returns a channel that can take the publish: connected, not
// blocked by the broker, the target exchange declared.
func (p *publisher) ready(ctx context.Context, pub publishing) (*pubChannel, error) {
	pc, err := p.channel(ctx)
	if err != nil {
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", errPublishConn, err)
	}
	if err := pc.waitUnblocked(ctx); err != nil {
		return nil, err
	}
	if pub.declare == nil {
		return pc, nil
	}
	if err := pc.declareOnce(*pub.declare); err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && (ae.Code == amqp.PreconditionFailed || ae.Code == amqp.NotFound || ae.Code == amqp.AccessRefused) {
			return nil, fmt.Errorf("rpc: declare exchange %q: %w", pub.declare.Name, err) // no retry helps
		}
		return nil, fmt.Errorf("%w: declare exchange %q: %w", errPublishConn, pub.declare.Name, err)
	}
	return pc, nil
}

func publishErr(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("%w: %w", errPublishConn, err)
}

// publishConfirmed publishes on the confirm channel and waits for the ack;
// a mandatory message the broker returned is ErrUnroutable. expire, when
// not nil, bounds the waits as a deadline would.
func (pc *pubChannel) publishConfirmed(ctx context.Context, pub publishing, expire <-chan time.Time) error {
	if pub.mandatory {
		if err := pc.takeSlot(ctx, expire); err != nil {
			return err
		}
		defer func() { <-pc.slots }()
	}
	dc, err := pc.ch.PublishWithDeferredConfirmWithContext(ctx, pub.exchange, pub.key, pub.mandatory, false, pub.msg)
	if err != nil {
		return publishErr(ctx, err)
	}
	select {
	case <-dc.Done():
	case <-ctx.Done():
		return ctx.Err()
	case <-expire:
		return context.DeadlineExceeded
	}
	if err := (pending{dc: dc, pc: pc}).result(); err != nil {
		return err
	}
	if pub.mandatory && pc.claimReturn(pub.msg.Body) {
		return ErrUnroutable
	}
	return nil
}

// takeSlot takes one of the slots of unconfirmed mandatory publishes:
// at once when one is free, as it nearly always is (a select over four
// channels locks all four), else waiting for one.
func (pc *pubChannel) takeSlot(ctx context.Context, expire <-chan time.Time) error {
	select {
	case pc.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case pc.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-expire:
		return context.DeadlineExceeded
	case <-pc.done:
		return errPublishConn
	}
}

func (pc *pubChannel) isDone() bool {
	select {
	case <-pc.done:
		return true
	default:
		return false
	}
}

// claimReturn reports whether the broker returned the message with this
// body. The broker sends basic.return before the basic.ack of the same
// message, and the library hands both over in order on one goroutine, so
// once our ack is seen a return for us is already in the buffer.
func (pc *pubChannel) claimReturn(body []byte) bool {
	pc.retMu.Lock()
	defer pc.retMu.Unlock()
	for drained := false; !drained; {
		select {
		case r, ok := <-pc.returns:
			if ok {
				pc.returned[string(r.Body)]++
			} else {
				drained = true // closed with the channel
			}
		default:
			drained = true
		}
	}
	n := pc.returned[string(body)]
	switch {
	case n == 0:
		return false
	case n == 1:
		delete(pc.returned, string(body))
	default:
		pc.returned[string(body)] = n - 1
	}
	return true
}
