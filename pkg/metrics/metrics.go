// Package metrics is the service's Prometheus metrics: RPC calls and
// replies, the AMQP connection, operations and their tasks, bank requests
// and leases, the database's write queue and recovery, on a registry of its
// own (nothing registered by a library in the default one leaks in), served
// in the text exposition format by Handler.
//
// The layers below do not import this package: each declares a small
// observer interface (rpc.Observer, providers.Observer, bank.Observer,
// db.Observer) that is nil, and costs nothing, unless the program gives
// them a *Metrics, which implements them all. What a component already
// counts or can tell at any time (handler slots, the connection's state,
// reconnections, queued writes, leases) is read when Prometheus scrapes,
// not pushed on every change.
//
// Labels are bounded sets: method names the endpoints define, exception
// classes the service raises, operation types, statuses, plugin names,
// reasons. No id (checkpoint, provider, project, request) is ever a label.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric of the service.
const namespace = "karbor_protection"

// unknownMethod is the method label of a request that named no method of
// the endpoints: the name on the wire is anyone's to choose, so it is not
// a label.
const unknownMethod = "unknown"

// Outcomes of tasks and reverts (the outcome label).
const (
	outcomeSuccess = "success"
	outcomeFailure = "failure"
)

var (
	// rpcBuckets span karbor's calls: a few ms for a listing, seconds for
	// a protect that builds a large graph, up to rpc_response_timeout.
	rpcBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	// operationBuckets span operations from a noop protect (a fraction of
	// a second) to backups of large volumes (hours).
	operationBuckets = []float64{.1, .5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600}
	// bankBuckets span a local file write to a slow object store.
	bankBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
)

// Metrics holds every metric of the service. It implements rpc.Observer,
// providers.Observer, bank.Observer and db.Observer; its methods are safe
// for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	rpcRequests     *prometheus.CounterVec
	rpcDuration     *prometheus.HistogramVec
	rpcUnroutable   prometheus.Counter
	rpcDropped      *prometheus.CounterVec
	opsInFlight     *prometheus.GaugeVec
	opsEnded        *prometheus.CounterVec
	opsAbandoned    *prometheus.CounterVec
	opsDuration     *prometheus.HistogramVec
	tasksOK         prometheus.Counter
	tasksFailed     prometheus.Counter
	revertsOK       prometheus.Counter
	revertsFailed   prometheus.Counter
	recovered       *prometheus.CounterVec
	bankDuration    *prometheus.HistogramVec
	bankErrors      *prometheus.CounterVec
	leases          *leaseCollector
	dbRetries       prometheus.Counter
	dbDropped       *prometheus.CounterVec
	watchedRPC      bool
	watchedDatabase bool
}

// New returns the metrics, registered with a registry of their own along
// with the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		rpcRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "rpc", Name: "requests_total",
			Help: "RPC requests handled, by endpoint method and outcome (ok, or the class of the exception the caller got).",
		}, []string{"method", "outcome"}),
		rpcDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "rpc", Name: "request_duration_seconds",
			Help:    "Time handlers took to answer RPC requests, by endpoint method.",
			Buckets: rpcBuckets,
		}, []string{"method"}),
		rpcUnroutable: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "rpc", Name: "replies_unroutable_total",
			Help: "RPC replies whose reply queue did not exist at the first attempt (then retried).",
		}),
		rpcDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "rpc", Name: "replies_dropped_total",
			Help: "RPC replies due that were never delivered, by reason.",
		}, []string{"reason"}),
		opsInFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "operations", Name: "in_flight",
			Help: "Operation flows running now, by operation type.",
		}, []string{"operation"}),
		opsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "operations_total",
			Help: "Operation flows ended (run or abandoned), by operation type and final status.",
		}, []string{"operation", "status"}),
		opsAbandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "operations", Name: "abandoned_total",
			Help: "Operation flows given their failure status without running (the service was stopping), by operation type.",
		}, []string{"operation"}),
		opsDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "operation", Name: "duration_seconds",
			Help:    "Time operation flows ran, by operation type and final status.",
			Buckets: operationBuckets,
		}, []string{"operation", "status"}),
		recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "checkpoints", Name: "recovered_total",
			Help: "Checkpoints a dead service instance left in progress that recovery failed, by the status found and the status set.",
		}, []string{"from", "to"}),
		bankDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "bank", Name: "request_duration_seconds",
			Help:    "Time bank plugin requests took, by plugin and operation.",
			Buckets: bankBuckets,
		}, []string{"plugin", "operation"}),
		bankErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "bank", Name: "request_errors_total",
			Help: "Bank plugin requests that failed (an object not found is an answer, not a failure), by plugin and operation.",
		}, []string{"plugin", "operation"}),
		leases: newLeaseCollector(prometheus.NewDesc(prometheus.BuildFQName(namespace, "bank", "leases"),
			"Banks in use, by plugin and whether their lease is valid.", []string{"plugin", "state"}, nil)),
		dbRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "database", Name: "write_retries_total",
			Help: "Database writes tried again after failing for want of a database.",
		}),
		dbDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "database", Name: "writes_dropped_total",
			Help: "Database writes given up, by reason.",
		}, []string{"reason"}),
	}
	tasks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "tasks", Name: "run_total",
		Help: "Flow tasks executed, by outcome (counted when their flow ends).",
	}, []string{"outcome"})
	reverts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "tasks", Name: "reverted_total",
		Help: "Flow tasks reverted, by outcome of the revert (counted when their flow ends).",
	}, []string{"outcome"})
	// Resolved once, for every flow that ends.
	m.tasksOK, m.tasksFailed = tasks.WithLabelValues(outcomeSuccess), tasks.WithLabelValues(outcomeFailure)
	m.revertsOK, m.revertsFailed = reverts.WithLabelValues(outcomeSuccess), reverts.WithLabelValues(outcomeFailure)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.rpcRequests, m.rpcDuration, m.rpcUnroutable, m.rpcDropped,
		m.opsInFlight, m.opsEnded, m.opsAbandoned, m.opsDuration, tasks, reverts, m.recovered,
		m.bankDuration, m.bankErrors, m.leases,
		m.dbRetries, m.dbDropped,
	)
	return m
}

// Handler serves the metrics in Prometheus' exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// RPCServer is what the metrics read from the RPC server (rpc.Server) when
// they are scraped.
type RPCServer interface {
	// HandlerSlots: how many handler slots calls hold, of how many.
	HandlerSlots() (busy, total int)
	// Health is nil while the server consumes its queues.
	Health() error
	// Sessions counts the AMQP sessions started (1 + reconnections).
	Sessions() int64
}

// WatchRPCServer adds the metrics read from s at each scrape: calls in
// flight, free handler slots, whether it consumes, reconnections. Call it
// once.
func (m *Metrics) WatchRPCServer(s RPCServer) {
	if m.watchedRPC {
		panic("metrics: WatchRPCServer called twice")
	}
	m.watchedRPC = true
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "rpc", Name: "requests_in_flight",
			Help: "RPC requests accepted and not yet answered (each holds a handler slot).",
		}, func() float64 {
			busy, _ := s.HandlerSlots()
			return float64(busy)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "rpc", Name: "handler_slots_free",
			Help: "Free RPC handler slots (executor_thread_pool_size less the requests in flight).",
		}, func() float64 {
			busy, total := s.HandlerSlots()
			return float64(total - busy)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "amqp", Name: "consuming",
			Help: "1 while the RPC server's AMQP connection is up and consuming its queues, else 0.",
		}, func() float64 {
			if s.Health() == nil {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "amqp", Name: "reconnects_total",
			Help: "AMQP sessions the RPC server started after its first one (reconnections).",
		}, func() float64 {
			return float64(max(0, s.Sessions()-1))
		}),
	)
}

// Database is what the metrics read from the database store (db.Store)
// when they are scraped.
type Database interface {
	// QueuedWrites is how many writes wait for the database now.
	QueuedWrites() int
}

// WatchDatabase adds the depth of d's write queue, read at each scrape.
// Call it once.
func (m *Metrics) WatchDatabase(d Database) {
	if m.watchedDatabase {
		panic("metrics: WatchDatabase called twice")
	}
	m.watchedDatabase = true
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "database", Name: "writes_queued",
		Help: "Database writes waiting in the write queue.",
	}, func() float64 { return float64(d.QueuedWrites()) }))
}

// CallDone counts an RPC request (rpc.Observer).
func (m *Metrics) CallDone(method, outcome string, took time.Duration) {
	if method == "" {
		method = unknownMethod
	}
	m.rpcRequests.WithLabelValues(method, outcome).Inc()
	m.rpcDuration.WithLabelValues(method).Observe(took.Seconds())
}

// ReplyUnroutable counts a reply that found no reply queue (rpc.Observer).
func (m *Metrics) ReplyUnroutable() { m.rpcUnroutable.Inc() }

// ReplyDropped counts a reply never delivered (rpc.Observer).
func (m *Metrics) ReplyDropped(reason string) { m.rpcDropped.WithLabelValues(reason).Inc() }

// OperationStarted counts a flow in flight (providers.Observer).
func (m *Metrics) OperationStarted(op string) { m.opsInFlight.WithLabelValues(op).Inc() }

// OperationEnded counts a flow that ran (providers.Observer).
func (m *Metrics) OperationEnded(op, status string, took time.Duration) {
	m.opsInFlight.WithLabelValues(op).Dec()
	m.opsEnded.WithLabelValues(op, status).Inc()
	m.opsDuration.WithLabelValues(op, status).Observe(took.Seconds())
}

// OperationAbandoned counts a flow that never ran (providers.Observer).
func (m *Metrics) OperationAbandoned(op, status string) {
	m.opsEnded.WithLabelValues(op, status).Inc()
	m.opsAbandoned.WithLabelValues(op).Inc()
}

// TasksDone counts what a flow's tasks did (providers.Observer).
func (m *Metrics) TasksDone(succeeded, failed, reverted, revertFailed int) {
	for _, c := range [...]struct {
		counter prometheus.Counter
		n       int
	}{{m.tasksOK, succeeded}, {m.tasksFailed, failed}, {m.revertsOK, reverted}, {m.revertsFailed, revertFailed}} {
		if c.n > 0 {
			c.counter.Add(float64(c.n))
		}
	}
}

// CheckpointRecovered counts a recovered checkpoint (providers.Observer).
func (m *Metrics) CheckpointRecovered(from, to string) { m.recovered.WithLabelValues(from, to).Inc() }

// BankOpened adds a bank to the lease gauge (bank.Observer).
func (m *Metrics) BankOpened(plugin string, leaseValid func() bool) { m.leases.add(plugin, leaseValid) }

// BankRequest counts a bank request (bank.Observer).
func (m *Metrics) BankRequest(plugin, op string, took time.Duration, failed bool) {
	m.bankDuration.WithLabelValues(plugin, op).Observe(took.Seconds())
	if failed {
		m.bankErrors.WithLabelValues(plugin, op).Inc()
	}
}

// WriteRetried counts a database write retried (db.Observer).
func (m *Metrics) WriteRetried() { m.dbRetries.Inc() }

// WriteDropped counts a database write given up (db.Observer).
func (m *Metrics) WriteDropped(reason string) { m.dbDropped.WithLabelValues(reason).Inc() }
