package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Config is what Open needs: the [database] section, the [DEFAULT] options
// of the services row, and the bounds of the write queue.
type Config struct {
	// Connection is [database] connection. Empty runs without a database:
	// the recorder writes nothing.
	Connection string
	Options    Options
	Service    ServiceInfo
	// QueueSize is how many writes may wait for the database (1024 when 0).
	QueueSize int
	// EnqueueTimeout bounds how long a recorder call waits for room in a
	// full queue before it drops its write (100 ms when 0). This is the
	// longest a database that is slow or gone can hold up an RPC reply.
	EnqueueTimeout time.Duration
	// DrainTimeout bounds how long Run spends on queued writes once its
	// context ends (5 s when 0).
	DrainTimeout time.Duration
}

// Store is karbor's database as the protection service uses it: the
// services heartbeat and the recorder of operation logs, restores and
// verifications. Run drives both.
type Store struct {
	log     *logrus.Entry
	rec     *Recorder
	db      *sql.DB // nil without a database
	hb      *heartbeat
	health  *health
	running atomic.Bool
}

// sqliteSchemaTimeout bounds the creation of karbor's tables in a new
// SQLite file (a local file: it takes milliseconds unless another process
// holds the file's lock).
const sqliteSchemaTimeout = 30 * time.Second

// Open prepares the store; it does not wait for a database server, which
// may be down at start. Its errors are configuration errors (a bad URL,
// bad options). An empty SQLite database is given karbor's tables first
// (createSQLiteSchema).
func Open(cfg Config, log *logrus.Entry) (*Store, error) {
	if strings.TrimSpace(cfg.Connection) == "" {
		log.Warn("no [database] connection: the services heartbeat, operation logs and " +
			"restore/verification progress are not written; the karbor API will show " +
			"this service down and restores and verifications in_progress")
		return &Store{log: log, rec: &Recorder{log: log}}, nil
	}
	src, err := ParseURL(cfg.Connection)
	if err != nil {
		return nil, err
	}
	src.AppendQuery(cfg.Options.ConnectionParameters)
	if err := cfg.Options.validate(); err != nil {
		return nil, fmt.Errorf("[database]: %w", err)
	}
	if cfg.Service.Host == "" {
		return nil, errors.New("the services row needs a host ([DEFAULT] host)")
	}
	if cfg.Service.ReportInterval < 0 {
		return nil, fmt.Errorf("report_interval %v is negative", cfg.Service.ReportInterval)
	}
	log = log.WithField("database", src.String())
	if ignored := src.Ignored(); len(ignored) > 0 {
		log.Warnf("[database] connection: ignoring what the Go driver has no use for: %s", strings.Join(ignored, ", "))
	}
	db, err := openSQL(src, cfg.Options, log)
	if err != nil {
		return nil, err
	}
	if src.Dialect == SQLite {
		// A file locked or unreadable now is an outage like any other:
		// the writes wait and retry, and the start goes on.
		ctx, cancel := context.WithTimeout(context.Background(), sqliteSchemaTimeout)
		defer cancel()
		if err := createSQLiteSchema(ctx, db, log); err != nil {
			log.WithError(err).Error("Could not give the empty SQLite database karbor's tables; " +
				"writes fail until karbor-manage db sync (or a restart) creates them")
		}
	}
	return newStore(db, src.Dialect, cfg, log), nil
}

func newStore(db *sql.DB, d Dialect, cfg Config, log *logrus.Entry) *Store {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.EnqueueTimeout <= 0 {
		cfg.EnqueueTimeout = 100 * time.Millisecond
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 5 * time.Second
	}
	h := &health{log: log}
	dl := newDialect(d)
	w := newWriter(writerConfig{
		queueSize:      cfg.QueueSize,
		enqueueTimeout: cfg.EnqueueTimeout,
		drainTimeout:   cfg.DrainTimeout,
		attemptTimeout: cfg.Options.PoolTimeout,
		maxRetries:     cfg.Options.MaxRetries,
		retryInterval:  cfg.Options.RetryInterval,
	}, h)
	rec := &Recorder{db: db, d: dl, w: w, log: log}
	return &Store{
		log: log, rec: rec, db: db, health: h,
		hb: &heartbeat{
			db: db, d: dl, info: cfg.Service.withDefaults(), health: h, log: log,
			attemptTimeout: cfg.Options.PoolTimeout, retryInterval: cfg.Options.RetryInterval,
		},
	}
}

// Recorder is what the operations record through; without a database it
// writes nothing.
func (s *Store) Recorder() *Recorder { return s.rec }

// Run keeps the services row alive and performs the queued writes until ctx
// ends, then writes what is still queued (within DrainTimeout) and returns.
// It leaves the services row as it is, as oslo's Service.stop does. Without
// a database it just waits for ctx. Run may be called once.
func (s *Store) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("db.Store.Run called twice")
	}
	if s.rec.w == nil {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.hb.run(ctx) })
	wg.Go(func() { s.rec.w.run(ctx) })
	wg.Wait()
	return nil
}

// Flush waits until every write queued before the call has been done (or
// dropped), or ctx ends. It needs Run to be running.
func (s *Store) Flush(ctx context.Context) error {
	if s.rec.w == nil {
		return nil
	}
	done := make(chan struct{})
	err := s.rec.w.enqueue(job{what: "flush", log: s.log, run: func(context.Context) error {
		close(done)
		return nil
	}})
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ping checks that the database answers now; without a database it is
// nil.
func (s *Store) Ping(ctx context.Context) error {
	if s.db == nil {
		return nil
	}
	return s.db.PingContext(ctx)
}

// Close refuses further writes and closes the connections. Call it after
// Run has returned.
func (s *Store) Close() error {
	if s.rec.w == nil {
		return nil
	}
	s.rec.w.stop()
	return s.db.Close()
}
