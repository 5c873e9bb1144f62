package manager

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/protectables"
	"github.com/gokarbor/karbor-protection/rpc"
)

// Endpoint identity, as the Python class declares it.
const (
	// Class is the endpoint's Python class, named in TypeError texts.
	Class = "ProtectionManager"
	// Version is the endpoint's RPC_API_VERSION.
	Version = "1.0"
	// Topic is the RPC topic: the binary name, whatever protection_topic
	// says (a quirk of the Python service that the API relies on).
	Topic = "karbor-protection"
	// LoggerName is the Python logger name of the manager's lines.
	LoggerName = "karbor.services.protection.manager"
)

// defaultGracePeriod is how long Run lets running operations finish after
// its context ends (oslo.service's graceful_shutdown_timeout).
const defaultGracePeriod = 60 * time.Second

// Config is what a Manager needs.
type Config struct {
	Providers    *providers.Registry
	Protectables *protectables.Registry
	Builder      *providers.Builder
	// MaxConcurrentOperations is max_concurrent_operations: how many
	// operations run at once; 0 means no limit.
	MaxConcurrentOperations int
	// GracePeriod is how long Run waits for running operations once its
	// context ends before cancelling them (0: defaultGracePeriod, 60 s).
	GracePeriod time.Duration
	// RecoveryInterval is how often Run repeats Recover (karbor's
	// periodic_interval); 0 recovers only when the program calls Recover.
	RecoveryInterval time.Duration
	// RecoveryDelay bounds the random delay before the first periodic
	// recovery (periodic_fuzzy_delay).
	RecoveryDelay time.Duration
	// Log is the base entry of the manager's lines (nil: the standard
	// logger).
	Log *logrus.Entry
}

// Manager is the protection manager.
type Manager struct {
	providers    *providers.Registry
	protectables *protectables.Registry
	builder      *providers.Builder
	pool         *pool
	grace        time.Duration
	recoverEvery time.Duration
	recoverDelay time.Duration
	log          *logrus.Entry
	methods      []method
	views        providerViews
}

// method is one RPC method of the endpoint.
type method struct {
	name    string
	handler rpc.HandlerFunc
}

// New checks cfg and returns a manager; its operation pool runs once Run is
// called.
func New(cfg Config) (*Manager, error) {
	var missing []string
	if cfg.Providers == nil {
		missing = append(missing, "Providers")
	}
	if cfg.Protectables == nil {
		missing = append(missing, "Protectables")
	}
	if cfg.Builder == nil {
		missing = append(missing, "Builder")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("manager: missing required %s", strings.Join(missing, ", "))
	}
	if cfg.MaxConcurrentOperations < 0 || cfg.GracePeriod < 0 || cfg.RecoveryInterval < 0 || cfg.RecoveryDelay < 0 {
		return nil, errors.New("manager: MaxConcurrentOperations, GracePeriod, RecoveryInterval and RecoveryDelay must not be negative")
	}
	log := cfg.Log
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	log = log.WithField("logger", LoggerName)
	views, err := encodeProviderViews(cfg.Providers)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		providers:    cfg.Providers,
		protectables: cfg.Protectables,
		builder:      cfg.Builder,
		pool:         newPool(log, cfg.MaxConcurrentOperations),
		grace:        cfg.GracePeriod,
		recoverEvery: cfg.RecoveryInterval,
		recoverDelay: cfg.RecoveryDelay,
		log:          log,
		views:        views,
	}
	if m.grace == 0 {
		m.grace = defaultGracePeriod
	}
	m.methods = m.table()
	return m, nil
}

// Endpoint returns the RPC endpoint serving every method.
func (m *Manager) Endpoint() *rpc.Endpoint {
	ep := rpc.NewEndpoint(Class, Version)
	for _, h := range m.methods {
		ep.Handle(h.name, h.handler)
	}
	return ep
}

// Recover fails what dead service instances left in progress in every
// provider's bank (providers.Builder.Recover) and returns what it changed.
func (m *Manager) Recover(ctx context.Context) ([]providers.Recovered, error) {
	return m.builder.Recover(logctx.With(ctx, m.log), m.providers)
}

// Run runs the operation pool and the periodic recovery until ctx ends,
// then stops the pool: no new operation starts, running ones get the grace
// period, then are cancelled; Run returns once every one has returned.
func (m *Manager) Run(ctx context.Context) error {
	defer m.pool.drain(m.grace)
	if m.recoverEvery <= 0 {
		<-ctx.Done()
		return nil
	}
	wait := time.Duration(0)
	if m.recoverDelay > 0 {
		wait = rand.N(m.recoverDelay + 1)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := m.Recover(ctx); err != nil && ctx.Err() == nil {
			m.log.WithError(err).Error("Periodic recovery failed")
		}
		t.Reset(m.recoverEvery)
	}
}

// requestContext rebuilds the caller's context from the call's context
// members, as karbor's RequestContext.from_dict.
func requestContext(call *rpc.Call) (karbor.RequestContext, error) {
	var v karbor.ContextValues
	for _, m := range call.Context {
		v.Add(m.Key, m.Value)
	}
	return karbor.FromValues(&v)
}

// handle adapts a method to the RPC layer as oslo's dispatcher calls a
// Python method: the request context is rebuilt first (its errors come
// before argument errors), then the keyword arguments are bound into T
// with Python's TypeError texts; the result's error goes through the error
// table. The method logs on the manager's logger with the request's
// request_id, global_request_id and user identity, which the oslo.log line
// shows.
func handle[T any](m *Manager, fn func(ctx context.Context, rc *karbor.RequestContext, args T) (any, error)) rpc.HandlerFunc {
	return func(ctx context.Context, call *rpc.Call) (any, error) {
		rc, err := requestContext(call)
		if err != nil {
			return nil, err
		}
		// Most reads log nothing: the request's entry is built on first use.
		ctx = logctx.WithLazy(ctx, func() *logrus.Entry {
			return m.log.WithFields(requestFields(call, &rc))
		})
		var args T
		res, err := any(nil), call.Bind(&args)
		if err == nil {
			res, err = fn(ctx, &rc, args)
		}
		if err != nil {
			if callerText(err) != err.Error() {
				// The reply leaves out the server's paths; the log keeps them.
				logctx.From(ctx).WithError(err).Warn("Failure answered without its file-system details")
			}
			return nil, remote(err)
		}
		return res, nil
	}
}

// requestFields are the method and the fields oslo.log shows for a
// request: [global_request_id request_id user_identity].
func requestFields(call *rpc.Call, rc *karbor.RequestContext) logrus.Fields {
	global := call.ContextString("global_request_id")
	if global == "" {
		global = "None"
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return logrus.Fields{
		"method":            call.Method,
		"logger":            LoggerName,
		"request_id":        rc.RequestID,
		"global_request_id": global,
		"user_identity": strings.Join([]string{dash(rc.UserID), dash(rc.ProjectID), dash(rc.Domain),
			dash(call.ContextString("system_scope")), dash(rc.UserDomain), dash(rc.ProjectDomain)}, " "),
	}
}
