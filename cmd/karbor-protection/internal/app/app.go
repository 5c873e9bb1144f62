// Package app is the karbor-protection program: command line, configuration,
// logging, wiring and the order in which the service starts and stops.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
	_ "github.com/gokarbor/karbor-protection/bank/fs"    // karbor-fs-bank-plugin
	_ "github.com/gokarbor/karbor-protection/bank/s3"    // karbor-s3-bank-plugin
	_ "github.com/gokarbor/karbor-protection/bank/swift" // karbor-swift-bank-plugin
	"github.com/gokarbor/karbor-protection/pkg/buildinfo"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/pkg/manager"
	"github.com/gokarbor/karbor-protection/pkg/sdnotify"
	"github.com/gokarbor/karbor-protection/providers"
	_ "github.com/gokarbor/karbor-protection/providers/noop"              // karbor-noop-protection-plugin
	_ "github.com/gokarbor/karbor-protection/providers/openstack/cinder"  // karbor-volume-protection-plugin, karbor-volume-snapshot-plugin
	_ "github.com/gokarbor/karbor-protection/providers/openstack/glance"  // karbor-image-protection-plugin
	_ "github.com/gokarbor/karbor-protection/providers/openstack/neutron" // karbor-network-protection-plugin
	_ "github.com/gokarbor/karbor-protection/providers/openstack/nova"    // karbor-server-protection-plugin
	"github.com/gokarbor/karbor-protection/providers/protectables"
	_ "github.com/gokarbor/karbor-protection/providers/protectables/openstack" // the OpenStack types (Python's answers without [trustee])
	"github.com/gokarbor/karbor-protection/rpc"
)

// version is set at build time (-ldflags "-X ...app.version=1.2.3");
// without it the module's version or VCS revision is used.
var version string

// Version is the program's version string.
func Version() string { return buildinfo.Version(version) }

// Main runs the program with the command-line arguments (without the program
// name) and returns its exit status: 0 after a clean stop (SIGTERM, SIGINT,
// SIGHUP) or --help/--version, 1 when the service cannot start or fails,
// 2 for a bad command line.
func Main(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "%s: error: %v (see --help)\n", binaryName, err)
		return 2
	case opts.version:
		fmt.Fprintln(stdout, Version())
		return 0
	}
	k, conf, err := config.LoadKarbor(config.LoadOptions{Sources: opts.sources, Environ: os.Environ(), Overrides: opts.overrides})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", binaryName, err)
		return 1
	}
	logs, warnings, err := newLogging(k.Log, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", binaryName, err)
		return 1
	}
	defer logs.Close()
	log := logs.entry("karbor.service")
	for _, w := range warnings {
		log.Warn(w)
	}
	if err := run(k, conf, logs); err != nil {
		log.WithError(err).Error("karbor-protection failed")
		return 1
	}
	return 0
}

// run builds every component, then runs them as actors until a signal or a
// failure, and stops them in this order:
//
//  0. systemd (when NOTIFY_SOCKET is set): READY=1 once the RPC server
//     consumes, WATCHDOG=1 while the service runs, STOPPING=1 as soon as
//     the shutdown starts;
//  1. signals: the first SIGTERM, SIGINT or SIGHUP starts the shutdown (a
//     second one kills the process, the default action again);
//  2. the RPC server: stops consuming, lets in-flight calls finish and
//     sends their replies (up to graceful_shutdown_timeout, then cancels
//     them); it stops before the operations so that a call waiting for a
//     free operation slot can still get one;
//  3. the operations: none starts any more; running ones get
//     graceful_shutdown_timeout to reach their final status, then are
//     cancelled and revert to their failure status; they stop before the
//     database so that their last rows are queued;
//  4. the database store: writes what is queued, stops the heartbeat;
//
// and finally closes the banks, releasing their leases, so that whatever
// this instance could not finish is recognised at once as orphaned.
func run(k *config.Karbor, conf *config.Config, logs *logging) error {
	log := logs.entry("karbor.service")
	ctx := logctx.With(context.Background(), log)
	log.Infof("Starting %s node (version %s)", manager.Topic, Version())
	logOptions(log, k, conf)
	grace := gracefulTimeout(conf, log)

	store, err := db.Open(dbConfig(k, conf), logs.entry("karbor.db"))
	if err != nil {
		return fmt.Errorf("[database]: %w", err)
	}
	defer closeLogged(log, "database", store.Close)
	// Every bank lease records this process: its host, and an incarnation
	// that tells a restart of this host from the run it replaces.
	holder := bank.Holder{Host: k.Host, Incarnation: uuid.NewString()}
	reg, err := providers.Load(logctx.With(ctx, logs.entry("karbor.services.protection.provider")),
		providers.Options{Dir: k.ProviderConfigDir, Holder: holder, Checkpoints: evidence(k, store, log), Service: conf})
	if err != nil {
		return err
	}
	defer closeLogged(log, "banks", reg.Close)
	prot := protectables.Load(logctx.With(ctx, logs.entry("karbor.services.protection.protectable_registry")), conf)
	mgr, err := manager.New(manager.Config{
		Providers:               reg,
		Protectables:            prot,
		Builder:                 providers.NewBuilder(prot, store.Recorder()),
		MaxConcurrentOperations: k.MaxConcurrentOperations,
		GracePeriod:             grace,
		RecoveryInterval:        time.Duration(k.PeriodicInterval) * time.Second,
		RecoveryDelay:           time.Duration(k.PeriodicFuzzyDelay) * time.Second,
		Log:                     logs.entry(manager.LoggerName),
	})
	if err != nil {
		return err
	}
	scfg, err := serverConfig(k, grace, logs)
	if err != nil {
		return err
	}
	srv, err := rpc.NewServer(scfg, mgr.Endpoint())
	if err != nil {
		return fmt.Errorf("RPC server: %w", err)
	}
	// Before the server consumes, so that no operation of ours runs yet.
	if _, err := mgr.Recover(ctx); err != nil {
		log.WithError(err).Error("Recovery of checkpoints left in progress failed; serving anyway")
	}
	log.Info("Starting protection service")

	notifier, err := sdnotify.FromEnv(os.Getenv, os.Getpid())
	if err != nil {
		log.WithError(err).Warn("systemd's watchdog settings are unusable; no watchdog")
	}

	var g group
	g.add("systemd", notifySystemd(notifier, srv.Ready(), log))
	g.add("signals", waitForSignal(log))
	g.add("rpc server", srv.Run)
	g.add("operations", mgr.Run)
	g.add("database", store.Run)
	return g.run(ctx, func(first string, err error) {
		if !errors.Is(err, errStopped) {
			log.WithError(err).Errorf("%s stopped; stopping the service", first)
		}
	})
}

// evidence is how recovery tells whether the owner of a checkpoint in
// progress that holds no bank lease (a Python instance's) is dead: the
// operator's word, else the services heartbeats when there is a database;
// without either such checkpoints are left alone.
func evidence(k *config.Karbor, store *db.Store, log *logrus.Entry) []bank.Option {
	switch {
	case k.RecoverUnleasedCheckpoints:
		log.Warn("recover_unleased_checkpoints = true: checkpoints in progress whose owner holds no bank lease " +
			"(a Python instance's) are taken for dead and failed by recovery")
		return []bank.Option{bank.WithEvidence(operatorAssertion{})}
	case k.Database.ConnectionSet:
		return []bank.Option{bank.WithEvidence(servicesEvidence{
			heartbeats: store.ServiceHeartbeats,
			binary:     manager.Topic,
			downTime:   time.Duration(k.ServiceDownTime) * time.Second,
			now:        time.Now,
		})}
	}
	log.Info("No [database] connection: checkpoints in progress whose owner holds no bank lease (a Python instance's) " +
		"are never recovered; set recover_unleased_checkpoints = true once no Python instance uses the banks")
	return nil
}

// serverConfig is the RPC server's configuration: the transport, the
// [oslo_messaging_rabbit] options, control_exchange, host and
// executor_thread_pool_size.
func serverConfig(k *config.Karbor, grace time.Duration, logs *logging) (rpc.ServerConfig, error) {
	opts := rpc.DefaultRabbitOptions()
	for _, kv := range k.Messaging.Rabbit {
		if err := opts.Set(kv.Key, kv.Value); err != nil {
			if errors.Is(err, rpc.ErrUnknownOption) {
				// oslo.config ignores options nobody registered.
				logs.entry("karbor.service").Debugf("[oslo_messaging_rabbit] %s is not an option of the rabbit driver; ignored", kv.Key)
				continue
			}
			return rpc.ServerConfig{}, fmt.Errorf("[oslo_messaging_rabbit] %s: %w", kv.Key, err)
		}
	}
	return rpc.ServerConfig{
		TransportURL: k.Messaging.TransportURL,
		Rabbit:       &opts,
		Exchange:     k.Messaging.ControlExchange,
		// The topic is the binary name, whatever protection_topic says,
		// as in the Python service.
		Topic:           manager.Topic,
		Server:          k.Host,
		Workers:         k.Messaging.ExecutorThreadPoolSize,
		GracefulTimeout: grace,
		Logger:          logs.rpcEntry(),
	}, nil
}

// logOptions logs at DEBUG what the service runs with, as the Python
// service logs its whole configuration at DEBUG when it starts.
func logOptions(log *logrus.Entry, k *config.Karbor, conf *config.Config) {
	if !log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		return
	}
	log.Debugf("Configuration files: %v", conf.Files())
	transport := "(unparsable)"
	if u, err := rpc.ParseTransportURL(k.Messaging.TransportURL); err == nil {
		transport = u.String()
	}
	for _, kv := range []struct {
		name  string
		value any
	}{
		{"host", k.Host}, {"transport_url", transport}, {"control_exchange", k.Messaging.ControlExchange},
		{"provider_config_dir", k.ProviderConfigDir}, {"max_concurrent_operations", k.MaxConcurrentOperations},
		{"executor_thread_pool_size", k.Messaging.ExecutorThreadPoolSize}, {"periodic_interval", k.PeriodicInterval},
		{"report_interval", k.ReportInterval}, {"database connection set", k.Database.ConnectionSet},
	} {
		log.Debugf("%-30s = %v", kv.name, kv.value)
	}
}

// gracefulTimeout is oslo.service's graceful_shutdown_timeout (60 s; 0
// waits for ever).
func gracefulTimeout(conf *config.Config, log *logrus.Entry) time.Duration {
	n, err := conf.Int(config.DefaultGroup, "graceful_shutdown_timeout", 60)
	if err != nil || n < 0 {
		log.WithError(err).Warn("graceful_shutdown_timeout is not a non-negative integer; using 60")
		n = 60
	}
	if n == 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(n) * time.Second
}

// dbConfig is the database store's configuration. Without a [database]
// connection set in a file no rows are written (karbor's default, a SQLite
// file under state_path, has no karbor tables unless karbor-manage made
// them, and the API would not read it).
func dbConfig(k *config.Karbor, conf *config.Config) db.Config {
	c := db.Config{Service: db.ServiceInfo{
		Host:              k.Host,
		Binary:            manager.Topic,
		Topic:             manager.Topic,
		ReportInterval:    time.Duration(k.ReportInterval) * time.Second,
		EnableNewServices: k.EnableNewServices,
	}}
	if !k.Database.ConnectionSet {
		return c
	}
	c.Connection = k.Database.Connection
	o := db.DefaultOptions()
	o.MaxPoolSize = k.Database.MaxPoolSize
	o.MaxOverflow = k.Database.MaxOverflow
	if k.Database.PoolTimeout != nil {
		o.PoolTimeout = time.Duration(*k.Database.PoolTimeout) * time.Second
	}
	o.ConnectionRecycleTime = time.Duration(k.Database.ConnectionRecycleTime) * time.Second
	o.MaxRetries = k.Database.MaxRetries
	o.RetryInterval = time.Duration(k.Database.RetryInterval) * time.Second
	if mode, err := conf.Value(config.DatabaseGroup, "mysql_sql_mode"); err == nil {
		o.MySQLSQLMode, _ = mode.(string)
	}
	o.ConnectionParameters = k.Database.ConnectionParameters
	c.Options = o
	return c
}

// notifySystemd is the systemd actor: it tells systemd the service is
// ready once the RPC server consumes (Type=notify), keeps the watchdog fed
// while the service runs and says it is stopping when its context ends,
// which is the first thing the shutdown does. It never ends the service
// itself; without NOTIFY_SOCKET it only waits.
func notifySystemd(n *sdnotify.Notifier, ready <-chan struct{}, log *logrus.Entry) func(ctx context.Context) error {
	notify := func(states ...string) {
		if err := n.Notify(states...); err != nil {
			log.WithError(err).Warn("Could not notify systemd")
		}
	}
	return func(ctx context.Context) error {
		if !n.Enabled() {
			<-ctx.Done()
			return nil
		}
		defer notify(sdnotify.Stopping, sdnotify.Status("Stopping: finishing calls and operations"))
		select {
		case <-ctx.Done():
			return nil
		case <-ready:
		}
		notify(sdnotify.Ready, sdnotify.Status("Consuming karbor-protection requests"))
		err := n.RunWatchdog(ctx, func(err error) { log.WithError(err).Warn("Could not feed systemd's watchdog") })
		if errors.Is(err, sdnotify.ErrNoWatchdog) {
			<-ctx.Done()
		}
		return nil
	}
}

// waitForSignal is the signal actor: it returns errStopped on the first
// SIGTERM, SIGINT or SIGHUP and stops listening, so that a second one gets
// the default action.
func waitForSignal(log *logrus.Entry) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
		defer signal.Stop(ch)
		select {
		case <-ctx.Done():
			return nil
		case s := <-ch:
			log.Infof("Caught %s, exiting", signalName(s))
			return errStopped
		}
	}
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

func closeLogged(log *logrus.Entry, what string, closeFn func() error) {
	if err := closeFn(); err != nil {
		log.WithError(err).Errorf("Closing the %s failed", what)
	}
}
