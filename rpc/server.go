package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/grace"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/sirupsen/logrus"
)

// Defaults of the [DEFAULT] options the RPC layer uses.
const (
	DefaultControlExchange = "openstack"      // control_exchange
	DefaultWorkers         = 64               // executor_thread_pool_size
	DefaultResponseTimeout = 60 * time.Second // rpc_response_timeout
	DefaultGracefulTimeout = 60 * time.Second
)

// ServerConfig configures an RPC server: oslo's get_rpc_server with
// Target(topic=Topic, server=Server) on the control exchange.
type ServerConfig struct {
	TransportURL string         // [DEFAULT] transport_url
	Rabbit       *RabbitOptions // [oslo_messaging_rabbit]; nil: DefaultRabbitOptions()
	Exchange     string         // [DEFAULT] control_exchange; "": "openstack"
	Topic        string         // e.g. "karbor-protection"
	Server       string         // [DEFAULT] host
	// Workers bounds concurrent handlers ([DEFAULT] executor_thread_pool_size;
	// 0: 64).
	Workers int
	// GracefulTimeout is how long Run waits for in-flight handlers after its
	// context is cancelled before cancelling their context (0: 60 s).
	GracefulTimeout time.Duration
	// Logger is the base entry for the server's lines; nil: logctx.From of
	// Run's context.
	Logger *logrus.Entry
	// Observer is told about every call and every reply not delivered, for
	// metrics; nil tells nothing and costs nothing.
	Observer Observer
}

// Observer is told what a server does, for metrics. Its methods are called
// from the server's goroutines, concurrently, on the path of every call:
// they must be cheap and must not block.
type Observer interface {
	// CallDone: a request was handled (its reply, if one is due, is
	// about to be sent). method is the endpoint method called, "" when
	// the request named none of the endpoints' (the name on the wire is
	// anyone's to choose); outcome is "ok" or the class of the Python
	// exception the caller gets; took is the handler's time.
	CallDone(method, outcome string, took time.Duration)
	// ReplyUnroutable: a reply found no reply queue at its first attempt;
	// it is retried for kombu_missing_consumer_retry_timeout.
	ReplyUnroutable()
	// ReplyDropped: a reply due was never delivered, for one of the
	// Drop* reasons.
	ReplyDropped(reason string)
}

// Why a reply due was never delivered (Observer.ReplyDropped).
const (
	DropNoReplyQueue = "no_reply_queue" // the call named no usable _reply_q
	DropQueueMissing = "queue_missing"  // its reply queue never came (back)
	DropBacklogFull  = "backlog_full"   // too many replies already wait for their queue
	DropTimeout      = "timeout"        // the broker did not take it in time
	DropStopping     = "stopping"       // the server stopped first
)

// Server is an oslo.messaging RPC server on RabbitMQ.
type Server struct {
	cfg         ServerConfig
	opts        RabbitOptions
	url         TransportURL
	disp        dispatcher
	fanoutQueue string
	dedup       msgIDCache
	obsolete    *obsoleteReplyQueues

	running   atomic.Bool
	ready     chan struct{}
	readyOnce sync.Once
	health    atomic.Pointer[error]
	sessions  atomic.Int64
	pool      atomic.Pointer[workerPool] // Run's; nil before
}

// ErrNotConsuming is the health of a server that is not consuming (not yet
// started, reconnecting or stopped).
var ErrNotConsuming = errors.New("rpc: server is not consuming")

// NewServer checks cfg and returns a server for the endpoints, which are
// searched in order as oslo's dispatcher does.
func NewServer(cfg ServerConfig, endpoints ...*Endpoint) (*Server, error) {
	u, opts, err := loadTransport(cfg.TransportURL, cfg.Rabbit)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Topic == "":
		return nil, errors.New("rpc: ServerConfig.Topic is required")
	case cfg.Server == "":
		return nil, errors.New("rpc: ServerConfig.Server (the host) is required")
	case len(endpoints) == 0:
		return nil, errors.New("rpc: a server needs at least one endpoint")
	case cfg.Workers < 0 || cfg.GracefulTimeout < 0:
		return nil, errors.New("rpc: Workers and GracefulTimeout must not be negative")
	}
	if cfg.Exchange == "" {
		cfg.Exchange = DefaultControlExchange
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.GracefulTimeout == 0 {
		cfg.GracefulTimeout = DefaultGracefulTimeout
	}
	s := &Server{
		cfg:         cfg,
		opts:        opts,
		url:         u,
		disp:        dispatcher{endpoints: endpoints},
		fanoutQueue: cfg.Topic + "_fanout_" + newUniqueID(),
		obsolete:    newObsoleteReplyQueues(),
		ready:       make(chan struct{}),
	}
	s.setHealth(ErrNotConsuming)
	return s, nil
}

// Ready is closed once the server consumes for the first time.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Health is nil while the server consumes its queues, else why it does not.
func (s *Server) Health() error { return *s.health.Load() }

// FanoutQueue is this server's "<topic>_fanout_<uuid hex>" queue.
func (s *Server) FanoutQueue() string { return s.fanoutQueue }

// Sessions counts the AMQP sessions started (1 + reconnections).
func (s *Server) Sessions() int64 { return s.sessions.Load() }

// HandlerSlots reports how many handler slots ([DEFAULT]
// executor_thread_pool_size) calls hold now, and how many there are. A call
// holds its slot from before its ack until its reply is handed over.
func (s *Server) HandlerSlots() (busy, total int) {
	if p := s.pool.Load(); p != nil {
		return int(p.busy.Load()), p.limit
	}
	return 0, s.cfg.Workers
}

func (s *Server) setHealth(err error) { s.health.Store(&err) }

// runState is what outlives one AMQP session within Run.
type runState struct {
	log     *logrus.Entry
	pub     *publisher
	pool    *workerPool
	hctx    context.Context // handlers' context: cancelled after the graceful timeout
	hcancel context.CancelFunc
	rctx    context.Context // replies' context: cancelled a graceful timeout later
	rcancel context.CancelFunc
	drained bool
	// stopStarted is when the graceful stop began (drain).
	stopStarted time.Time

	undelivered *undeliveredReplies // replies waiting for a missing queue
	retryCancel context.CancelFunc  // stops retryUndelivered
	retryDone   sync.WaitGroup
}

// Run serves until ctx is cancelled, reconnecting with backoff whenever the
// broker connection fails. On cancellation it stops consuming, lets the
// in-flight handlers finish (up to GracefulTimeout, then cancels their
// context) and send their replies, deletes the fanout queue and closes its
// connections. Run may be called once.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("rpc: Server.Run called twice")
	}
	log := s.cfg.Logger
	if log == nil {
		log = logctx.From(ctx)
	}
	log = log.WithFields(logrus.Fields{"topic": s.cfg.Topic, "server": s.cfg.Server})
	conn, err := newConnector(s.url, s.opts, log)
	if err != nil {
		return err
	}
	rt := &runState{log: log}
	rt.pool = newWorkerPool(s.cfg.Workers, func(ls *listenSession, d *amqp.Delivery) { s.accept(rt, ls, d) })
	s.pool.Store(rt.pool)
	rt.hctx, rt.hcancel = context.WithCancel(context.WithoutCancel(ctx))
	defer rt.hcancel()
	rt.rctx, rt.rcancel = context.WithCancel(context.WithoutCancel(ctx))
	defer rt.rcancel()
	rt.pub = newPublisher(conn.dial, log)
	rt.pub.compression, _ = compressionFor(s.opts.KombuCompression)
	defer rt.pub.close()
	rt.undelivered = newUndeliveredReplies(maxUndeliveredReplies, maxUndeliveredReplyBytes)
	var retryCtx context.Context
	retryCtx, rt.retryCancel = context.WithCancel(context.WithoutCancel(ctx))
	rt.retryDone.Go(func() { s.retryUndelivered(retryCtx, rt) })

	failures := 0
	for ctx.Err() == nil {
		consumed, err := s.session(ctx, conn, rt)
		s.setHealth(fmt.Errorf("%w: %w", ErrNotConsuming, err))
		if ctx.Err() != nil {
			break
		}
		if consumed {
			failures = 0
			conn.advance()
		} else {
			failures++
		}
		delay := backoff(&s.opts, failures)
		log.WithError(err).Errorf("AMQP session ended; reconnecting in %s", delay)
		sleepCtx(ctx, delay)
	}
	s.setHealth(fmt.Errorf("%w: stopped", ErrNotConsuming))
	s.drain(rt)
	rt.pool.stop()
	s.stopRetries(rt)
	log.Info("RPC server stopped")
	return nil
}

// drain waits for in-flight handlers and their replies: GracefulTimeout,
// then as long again with the handlers' context cancelled (their replies,
// failures by then, still go out), then with replies abandoned until the
// handlers return. Replies waiting for a missing queue are not waited for
// here (stopRetries).
func (s *Server) drain(rt *runState) {
	if rt.drained {
		return
	}
	rt.drained = true
	rt.stopStarted = time.Now()
	grace.Wait(&rt.pool.inflight, s.cfg.GracefulTimeout, func() {
		rt.log.Warnf("in-flight RPC handlers still running after %s; cancelling them", s.cfg.GracefulTimeout)
		rt.hcancel()
	}, func() {
		rt.log.Errorf("in-flight RPC handlers or their replies still pending after %s more; abandoning the replies", s.cfg.GracefulTimeout)
		rt.rcancel()
	})
}
