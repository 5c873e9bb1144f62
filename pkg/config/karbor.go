package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Section names of the main configuration file.
const (
	DatabaseGroup = "database"
	RabbitGroup   = "oslo_messaging_rabbit"
	// MonitoringGroup is this service's own section (no Python service
	// reads it): the operator HTTP listener.
	MonitoringGroup = "monitoring"
)

// KarborRegistry declares the options of karbor.conf that karbor-protection
// reads, with the defaults of the Python service (karbor's own options,
// oslo.messaging's [DEFAULT] ones, oslo.log's and oslo.db's). Options it does
// not declare are ignored, as oslo.config ignores unregistered ones; the
// [oslo_messaging_rabbit] section is handed over raw (Karbor.Messaging.Rabbit).
func KarborRegistry() *Registry {
	r := NewRegistry()
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	r.Register(DefaultGroup,
		deprecated(strOpt("state_path", "/var/lib/karbor", "Top-level directory for maintaining karbor's state"), Name{Name: "pybasedir"}),
		Opt{Name: "host", Type: HostAddress{}, Default: host, Help: "Name of this node (RPC server name, services.host)"},
		strOpt("protection_topic", "karbor-protection", "The topic that protection nodes listen on (client side only)"),
		strOpt("protection_manager", "karbor.services.protection.manager.ProtectionManager", "Full class name for the Manager for Protection"),
		strOpt("provider_registry", "provider-registry", "the provider registry"),
		strOpt("provider_config_dir", "providers.d", "Configuration directory for providers"),
		intOpt("max_concurrent_operations", 0, "number of maximum concurrent operation flows; 0 means no hard limit"),
		strOpt("workflow_engine", "karbor.services.protection.flows.workflow.TaskFlowEngine", "The workflow engine"),
		intOpt("sync_status_interval", 20, "update protection status interval"),
		intOpt("report_interval", 10, "Interval, in seconds, between nodes reporting state to datastore"),
		intOpt("periodic_interval", 60, "Interval, in seconds, between running periodic tasks"),
		intOpt("periodic_fuzzy_delay", 60, "Range, in seconds, to randomly delay when starting the periodic task"),
		intOpt("service_down_time", 60, "Maximum time since last check-in for a service to be considered up"),
		boolOpt("enable_new_services", true, "Services to be added to the available pool on create"),
		boolOpt("fatal_exception_format_errors", false, "Make exception message format errors fatal."),
		// Not a Python option: see Karbor.RecoverUnleasedCheckpoints.
		boolOpt("recover_unleased_checkpoints", false, "Fail checkpoints left in progress by owners that hold no bank lease "+
			"(the Python service's) without evidence that they are dead; set it once no Python karbor-protection uses these banks"),
	)
	// oslo.messaging 14.0.3
	r.Register(DefaultGroup,
		secret(strOpt("transport_url", "rabbit://", "The network address and optional user credentials for connecting to the messaging backend")),
		strOpt("control_exchange", "openstack", "The default exchange under which topics are scoped"),
		intOpt("rpc_response_timeout", 60, "Seconds to wait for a response from a call"),
		deprecated(intOpt("executor_thread_pool_size", 64, "Size of executor thread pool"), Name{Name: "rpc_thread_pool_size"}),
		intOpt("rpc_conn_pool_size", 30, "Size of RPC connection pool"),
		intOpt("conn_pool_min_size", 2, "The pool size limit for connections expiration policy"),
		intOpt("conn_pool_ttl", 1200, "The time-to-live in sec of idle connections in the pool"),
		boolOpt("rpc_ping_enabled", false, "Add an endpoint to answer to ping calls"),
	)
	// oslo.log
	r.Register(DefaultGroup,
		boolOpt("debug", false, "If set to true, the logging level will be set to DEBUG instead of INFO"),
		deprecated(strOpt("log_config_append", nil, "The name of a logging configuration file"), Name{Name: "log_config"}),
		strOpt("log_date_format", "%Y-%m-%d %H:%M:%S", "Defines the format string for %(asctime)s in log records"),
		deprecated(strOpt("log_file", nil, "Name of log file to send logging output to"), Name{Name: "logfile"}),
		deprecated(strOpt("log_dir", nil, "The base directory used for relative log_file paths"), Name{Name: "logdir"}),
		boolOpt("watch_log_file", false, "Uses logging handler designed to watch file system"),
		boolOpt("use_syslog", false, "Use syslog for logging"),
		boolOpt("use_journal", false, "Enable journald for logging"),
		strOpt("syslog_log_facility", "LOG_USER", "Syslog facility to receive log lines"),
		boolOpt("use_json", false, "Use JSON formatting for logging"),
		boolOpt("use_stderr", false, "Log output to standard error"),
	)
	registerDatabase(r)
	r.Register(MonitoringGroup,
		strOpt("listen", "", "host:port of the operator HTTP listener (/healthz, /readyz, /operations, /metrics); empty: no listener"))
	return r
}

func strOpt(name string, def any, help string) Opt {
	return Opt{Name: name, Type: String{}, Default: def, Help: help}
}

func intOpt(name string, def any, help string) Opt {
	return Opt{Name: name, Type: Int{}, Default: def, Help: help}
}

func boolOpt(name string, def bool, help string) Opt {
	return Opt{Name: name, Type: Bool{}, Default: def, Help: help}
}

func deprecated(o Opt, names ...Name) Opt {
	o.Deprecated = names
	return o
}

func secret(o Opt) Opt {
	o.Secret = true
	return o
}

// registerDatabase declares oslo.db's [database] options (the release Debian
// bookworm ships), with karbor's default connection and, as oslo.db did in
// karbor's time, idle_timeout as an older name of connection_recycle_time.
func registerDatabase(r *Registry) {
	def := func(name string) Name { return Name{Group: DefaultGroup, Name: name} }
	db := func(name string) Name { return Name{Group: DatabaseGroup, Name: name} }
	r.Register(DatabaseGroup,
		deprecated(boolOpt("sqlite_synchronous", true, "If True, SQLite uses synchronous mode"), def("sqlite_synchronous")),
		deprecated(strOpt("backend", "sqlalchemy", "The back end to use for the database"), def("db_backend")),
		secret(deprecated(strOpt("connection", "sqlite:///$state_path/karbor.sqlite", "The SQLAlchemy connection string to use to connect to the database"),
			def("sql_connection"), db("sql_connection"), Name{Group: "sql", Name: "connection"})),
		secret(strOpt("slave_connection", nil, "The SQLAlchemy connection string to use to connect to the slave database")),
		strOpt("mysql_sql_mode", "TRADITIONAL", "The SQL mode to be used for MySQL sessions"),
		deprecated(intOpt("connection_recycle_time", 3600, "Connections older than this many seconds are replaced when next checked out"),
			db("idle_timeout"), def("sql_idle_timeout"), Name{Group: "sql", Name: "idle_timeout"}),
		intOpt("max_pool_size", 5, "Maximum number of SQL connections to keep open in a pool; 0 means no limit"),
		deprecated(intOpt("max_retries", 10, "Maximum number of database connection retries during startup; -1 retries forever"),
			def("sql_max_retries"), db("sql_max_retries")),
		deprecated(intOpt("retry_interval", 10, "Interval between retries of opening a SQL connection"),
			def("sql_retry_interval"), db("reconnect_interval")),
		deprecated(intOpt("max_overflow", 50, "If set, use this value for max_overflow with SQLAlchemy"),
			def("sql_max_overflow"), db("sqlalchemy_max_overflow")),
		deprecated(Opt{Name: "connection_debug", Type: Int{Min: 0, Max: 100, Bounded: true}, Default: 0, Help: "Verbosity of SQL debugging information"},
			def("sql_connection_debug")),
		deprecated(boolOpt("connection_trace", false, "Add Python stack traces to SQL as comment strings"), def("sql_connection_trace")),
		deprecated(intOpt("pool_timeout", nil, "If set, use this value for pool_timeout with SQLAlchemy"), db("sqlalchemy_pool_timeout")),
		boolOpt("use_db_reconnect", false, "Enable the experimental use of database reconnect on connection lost"),
		intOpt("db_retry_interval", 1, "Seconds between retries of a database transaction"),
		boolOpt("db_inc_retry_interval", true, "If True, increases the interval between retries of a database operation"),
		intOpt("db_max_retry_interval", 10, "Maximum seconds between retries of a database operation"),
		intOpt("db_max_retries", 20, "Maximum retries in case of connection error or deadlock"),
		strOpt("connection_parameters", "", "Optional URL parameters to append onto the connection URL"),
	)
}

// Karbor is the typed view of karbor.conf for karbor-protection.
type Karbor struct {
	Host              string
	StatePath         string
	ProtectionTopic   string
	ProtectionManager string
	ProviderRegistry  string
	ProviderConfigDir string
	// MaxConcurrentOperations bounds the flows run at once; 0: no bound.
	MaxConcurrentOperations int
	WorkflowEngine          string
	// ReportInterval is the heartbeat period in seconds; 0 (or an empty
	// value) disables the heartbeat, as in the Python service.
	ReportInterval int
	// PeriodicInterval and PeriodicFuzzyDelay drive the (empty) periodic
	// task loop; 0 disables it / its initial random delay.
	PeriodicInterval   int
	PeriodicFuzzyDelay int
	// ServiceDownTime is the effective value: the Python service raises a
	// configured value that is not above ReportInterval to
	// int(2.5 × ReportInterval). ServiceDownTimeConfigured is the value as
	// configured, so the caller can warn as the Python service does.
	ServiceDownTime            int
	ServiceDownTimeConfigured  int
	EnableNewServices          bool
	FatalExceptionFormatErrors bool
	// RecoverUnleasedCheckpoints is this service's own option: the
	// operator asserts that no Python karbor-protection instance works on
	// these banks any more, so checkpoints in progress whose owner holds
	// no lease are recovered without evidence from the services
	// heartbeats.
	RecoverUnleasedCheckpoints bool

	Messaging  Messaging
	Log        Log
	Database   Database
	Monitoring Monitoring
}

// Monitoring holds this service's [monitoring] options.
type Monitoring struct {
	// Listen is host:port of the operator HTTP listener; "" means none.
	Listen string
}

// Messaging holds the oslo.messaging options.
type Messaging struct {
	TransportURL           string
	ControlExchange        string
	RPCResponseTimeout     int
	ExecutorThreadPoolSize int
	RPCConnPoolSize        int
	ConnPoolMinSize        int
	ConnPoolTTL            int
	// Rabbit is the [oslo_messaging_rabbit] section as name/value pairs,
	// sorted by name, for the RPC layer to apply by name.
	Rabbit []KeyValue
}

// Log holds the oslo.log options; empty strings stand for unset ones.
type Log struct {
	Debug          bool
	File           string
	Dir            string
	ConfigAppend   string
	DateFormat     string
	UseStderr      bool
	UseSyslog      bool
	UseJournal     bool
	UseJSON        bool
	WatchLogFile   bool
	SyslogFacility string
}

// Database holds the oslo.db [database] options karbor-protection uses.
type Database struct {
	// Connection is the SQLAlchemy URL; ConnectionSet is false when it is
	// only karbor's default, sqlite:///$state_path/karbor.sqlite.
	Connection            string
	ConnectionSet         bool
	SlaveConnection       string
	MaxPoolSize           int
	MaxOverflow           int
	PoolTimeout           *int // nil: not set (SQLAlchemy's own default)
	ConnectionRecycleTime int
	MaxRetries            int
	RetryInterval         int
	ConnectionDebug       int
	ConnectionParameters  string
}

// NewKarbor reads every karbor-protection option from c (built with
// KarborRegistry) and reports all bad values at once, each naming its file,
// section and key.
func NewKarbor(c *Config) (*Karbor, error) {
	f := &filler{c: c}
	k := &Karbor{
		Host:                       f.str(DefaultGroup, "host"),
		StatePath:                  f.str(DefaultGroup, "state_path"),
		ProtectionTopic:            f.str(DefaultGroup, "protection_topic"),
		ProtectionManager:          f.str(DefaultGroup, "protection_manager"),
		ProviderRegistry:           f.str(DefaultGroup, "provider_registry"),
		ProviderConfigDir:          f.str(DefaultGroup, "provider_config_dir"),
		MaxConcurrentOperations:    f.nonNegative(DefaultGroup, "max_concurrent_operations"),
		WorkflowEngine:             f.str(DefaultGroup, "workflow_engine"),
		ReportInterval:             f.intOrZero(DefaultGroup, "report_interval"),
		PeriodicInterval:           f.intOrZero(DefaultGroup, "periodic_interval"),
		PeriodicFuzzyDelay:         f.intOrZero(DefaultGroup, "periodic_fuzzy_delay"),
		ServiceDownTimeConfigured:  f.integer(DefaultGroup, "service_down_time"),
		EnableNewServices:          f.boolean(DefaultGroup, "enable_new_services"),
		RecoverUnleasedCheckpoints: f.boolean(DefaultGroup, "recover_unleased_checkpoints"),
		FatalExceptionFormatErrors: f.boolean(DefaultGroup, "fatal_exception_format_errors"),
		Messaging: Messaging{
			TransportURL:           f.str(DefaultGroup, "transport_url"),
			ControlExchange:        f.str(DefaultGroup, "control_exchange"),
			RPCResponseTimeout:     f.integer(DefaultGroup, "rpc_response_timeout"),
			ExecutorThreadPoolSize: f.integer(DefaultGroup, "executor_thread_pool_size"),
			RPCConnPoolSize:        f.integer(DefaultGroup, "rpc_conn_pool_size"),
			ConnPoolMinSize:        f.integer(DefaultGroup, "conn_pool_min_size"),
			ConnPoolTTL:            f.integer(DefaultGroup, "conn_pool_ttl"),
		},
		Log: Log{
			Debug:          f.boolean(DefaultGroup, "debug"),
			File:           f.str(DefaultGroup, "log_file"),
			Dir:            f.str(DefaultGroup, "log_dir"),
			ConfigAppend:   f.str(DefaultGroup, "log_config_append"),
			DateFormat:     f.str(DefaultGroup, "log_date_format"),
			UseStderr:      f.boolean(DefaultGroup, "use_stderr"),
			UseSyslog:      f.boolean(DefaultGroup, "use_syslog"),
			UseJournal:     f.boolean(DefaultGroup, "use_journal"),
			UseJSON:        f.boolean(DefaultGroup, "use_json"),
			WatchLogFile:   f.boolean(DefaultGroup, "watch_log_file"),
			SyslogFacility: f.str(DefaultGroup, "syslog_log_facility"),
		},
		Database: Database{
			Connection:            f.str(DatabaseGroup, "connection"),
			ConnectionSet:         c.IsSet(DatabaseGroup, "connection"),
			SlaveConnection:       f.str(DatabaseGroup, "slave_connection"),
			MaxPoolSize:           f.integer(DatabaseGroup, "max_pool_size"),
			MaxOverflow:           f.integer(DatabaseGroup, "max_overflow"),
			PoolTimeout:           f.optInt(DatabaseGroup, "pool_timeout"),
			ConnectionRecycleTime: f.integer(DatabaseGroup, "connection_recycle_time"),
			MaxRetries:            f.integer(DatabaseGroup, "max_retries"),
			RetryInterval:         f.integer(DatabaseGroup, "retry_interval"),
			ConnectionDebug:       f.integer(DatabaseGroup, "connection_debug"),
			ConnectionParameters:  f.str(DatabaseGroup, "connection_parameters"),
		},
	}
	k.Monitoring.Listen = f.hostPort(MonitoringGroup, "listen")
	rabbit, err := c.Section(RabbitGroup)
	f.add(err)
	k.Messaging.Rabbit = rabbit
	k.ServiceDownTime = k.ServiceDownTimeConfigured
	if k.ReportInterval != 0 && k.ServiceDownTime <= k.ReportInterval {
		k.ServiceDownTime = k.ReportInterval * 5 / 2
	}
	if f.err != nil {
		return nil, f.err
	}
	return k, nil
}

// filler reads typed values and collects every error.
type filler struct {
	c   *Config
	err error
}

func (f *filler) add(err error) {
	if err != nil {
		f.err = errors.Join(f.err, err)
	}
}

func (f *filler) value(group, name string) any {
	v, err := f.c.Value(group, name)
	f.add(err)
	return v
}

// str returns a string option; None reads as "".
func (f *filler) str(group, name string) string {
	s, _ := f.value(group, name).(string)
	return s
}

func (f *filler) boolean(group, name string) bool {
	b, _ := f.value(group, name).(bool)
	return b
}

func (f *filler) optInt(group, name string) *int {
	if n, ok := f.value(group, name).(int64); ok {
		i := int(n)
		return &i
	}
	return nil
}

// intOrZero reads an integer whose empty value (None) the Python service
// treats as 0: a falsy interval disables its loop.
func (f *filler) intOrZero(group, name string) int {
	if p := f.optInt(group, name); p != nil {
		return *p
	}
	return 0
}

// integer reads an integer that must have a value: the Python service would
// fail on None later (comparisons, pool sizes), so an empty value is
// reported now.
func (f *filler) integer(group, name string) int {
	p := f.optInt(group, name)
	if p == nil {
		if f.c.IsSet(group, name) {
			f.add(f.invalid(group, name, "an integer is required, the value is empty"))
		}
		return 0
	}
	return *p
}

func (f *filler) nonNegative(group, name string) int {
	n := f.integer(group, name)
	if n < 0 {
		f.add(f.invalid(group, name, "must not be negative"))
		return 0
	}
	return n
}

// hostPort reads a host:port option ("" stays "", meaning unset); the
// host may be empty (every address) and the port must be a number.
func (f *filler) hostPort(group, name string) string {
	s := strings.TrimSpace(f.str(group, name))
	if s == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		f.add(f.invalid(group, name, "must be host:port ("+err.Error()+")"))
		return ""
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		f.add(f.invalid(group, name, "the port must be a number from 0 to 65535"))
		return ""
	}
	return s
}

func (f *filler) invalid(group, name, msg string) error {
	n := Name{normalizeGroup(group), name}
	opt, _ := f.c.reg.Lookup(n.Group, n.Name)
	r, _ := f.c.single(append([]Name{n}, opt.Deprecated...))
	if r.source == "" {
		r = raw{text: fmt.Sprint(opt.Default), source: "default", name: n}
	}
	return &ValueError{Source: r.source, Section: r.name.Group, Key: r.name.Name, Value: r.text, Err: errors.New(msg)}
}

// LoadKarbor loads karbor.conf as karbor-protection does: the Sources given
// on the command line (--config-file / --config-dir, in order), else the
// default search for karbor.conf and karbor-protection.conf (and their .conf.d
// directories) unless opts.Search says otherwise, then the typed view. The
// Config is returned too, for options the typed view does not cover.
func LoadKarbor(opts LoadOptions) (*Karbor, *Config, error) {
	if opts.Search == nil {
		opts.Search = DefaultSearch("karbor", "karbor-protection")
	}
	c, err := Load(KarborRegistry(), opts)
	if err != nil {
		return nil, nil, err
	}
	k, err := NewKarbor(c)
	if err != nil {
		return nil, nil, err
	}
	return k, c, nil
}
