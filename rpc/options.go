package rpc

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrUnknownOption is returned (wrapped) by RabbitOptions.Set for a name that
// is not an [oslo_messaging_rabbit] option. A config loader iterating the
// section may ignore it; a transport URL query must not name one (oslo fails
// in that case too).
var ErrUnknownOption = errors.New("unknown [oslo_messaging_rabbit] option")

// RabbitOptions are the [oslo_messaging_rabbit] options of oslo.messaging
// 14.0.3 that matter on the wire. Field comments give the oslo name; start
// from DefaultRabbitOptions, which holds oslo's defaults.
type RabbitOptions struct {
	AMQPDurableQueues           bool          // amqp_durable_queues
	AMQPAutoDelete              bool          // amqp_auto_delete
	RabbitHAQueues              bool          // rabbit_ha_queues
	RabbitQuorumQueue           bool          // rabbit_quorum_queue
	RabbitQuorumDeliveryLimit   int           // rabbit_quorum_delivery_limit
	RabbitQuorumMaxMemoryLength int           // rabbit_quroum_max_memory_length (sic)
	RabbitQuorumMaxMemoryBytes  int           // rabbit_quroum_max_memory_bytes (sic)
	RabbitTransientQueuesTTL    time.Duration // rabbit_transient_queues_ttl (whole seconds)
	RabbitQosPrefetchCount      int           // rabbit_qos_prefetch_count
	HeartbeatTimeoutThreshold   time.Duration // heartbeat_timeout_threshold (whole seconds)
	HeartbeatRate               int           // heartbeat_rate
	EnableCancelOnFailover      bool          // enable_cancel_on_failover
	DirectMandatoryFlag         bool          // direct_mandatory_flag

	RabbitRetryInterval              time.Duration // rabbit_retry_interval
	RabbitRetryBackoff               time.Duration // rabbit_retry_backoff
	RabbitIntervalMax                time.Duration // rabbit_interval_max
	KombuReconnectDelay              time.Duration // kombu_reconnect_delay
	KombuMissingConsumerRetryTimeout time.Duration // kombu_missing_consumer_retry_timeout
	KombuFailoverStrategy            string        // kombu_failover_strategy
	KombuCompression                 string        // kombu_compression
	RabbitLoginMethod                string        // rabbit_login_method

	SSL                            bool   // ssl
	SSLVersion                     string // ssl_version
	SSLKeyFile                     string // ssl_key_file
	SSLCertFile                    string // ssl_cert_file
	SSLCAFile                      string // ssl_ca_file
	SSLEnforceHostnameVerification bool   // ssl_enforce_hostname_verification
	SSLEnforceFIPSMode             bool   // ssl_enforce_fips_mode

	// RabbitMaxDecompressedSize bounds what one compressed message may
	// inflate to, in bytes (rabbit_max_decompressed_size; 0: no limit, as
	// in oslo). Ours, not oslo's: kombu inflates without a limit.
	RabbitMaxDecompressedSize int64

	HeartbeatInPthread bool // heartbeat_in_pthread (no meaning in Go; accepted)
	RPCConnPoolSize    int  // rpc_conn_pool_size
	ConnPoolMinSize    int  // conn_pool_min_size
	ConnPoolTTL        int  // conn_pool_ttl
}

// DefaultMaxDecompressedSize is rabbit_max_decompressed_size's default:
// RabbitMQ's own default max_message_size (128 MiB), so that no message
// inflates to more than the broker would have taken uncompressed.
const DefaultMaxDecompressedSize = 128 << 20

// DefaultRabbitOptions returns oslo.messaging 14.0.3's defaults, and ours
// for the options oslo does not have.
func DefaultRabbitOptions() RabbitOptions {
	return RabbitOptions{
		RabbitMaxDecompressedSize:        DefaultMaxDecompressedSize,
		RabbitTransientQueuesTTL:         1800 * time.Second,
		HeartbeatTimeoutThreshold:        60 * time.Second,
		HeartbeatRate:                    2,
		DirectMandatoryFlag:              true,
		RabbitRetryInterval:              time.Second,
		RabbitRetryBackoff:               2 * time.Second,
		RabbitIntervalMax:                30 * time.Second,
		KombuReconnectDelay:              time.Second,
		KombuMissingConsumerRetryTimeout: 60 * time.Second,
		KombuFailoverStrategy:            "round-robin",
		RabbitLoginMethod:                "AMQPLAIN",
		RPCConnPoolSize:                  30,
		ConnPoolMinSize:                  2,
		ConnPoolTTL:                      1200,
	}
}

type optionSetter func(o *RabbitOptions, value string) error

func boolOpt(field func(*RabbitOptions) *bool) optionSetter {
	return func(o *RabbitOptions, v string) error {
		b, err := parseOsloBool(v)
		if err == nil {
			*field(o) = b
		}
		return err
	}
}

func intOpt(field func(*RabbitOptions) *int) optionSetter {
	return func(o *RabbitOptions, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("invalid integer %q", v)
		}
		*field(o) = n
		return nil
	}
}

func int64Opt(field func(*RabbitOptions) *int64) optionSetter {
	return func(o *RabbitOptions, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("invalid integer %q", v)
		}
		*field(o) = n
		return nil
	}
}

func secondsOpt(field func(*RabbitOptions) *time.Duration, float bool) optionSetter {
	return func(o *RabbitOptions, v string) error {
		v = strings.TrimSpace(v)
		if !float {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("invalid integer %q", v)
			}
			*field(o) = time.Duration(n) * time.Second
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("invalid number %q", v)
		}
		*field(o) = time.Duration(f * float64(time.Second))
		return nil
	}
}

func strOpt(field func(*RabbitOptions) *string) optionSetter {
	return func(o *RabbitOptions, v string) error { *field(o) = v; return nil }
}

var rabbitOptionSetters = map[string]optionSetter{
	"amqp_durable_queues":                  boolOpt(func(o *RabbitOptions) *bool { return &o.AMQPDurableQueues }),
	"amqp_auto_delete":                     boolOpt(func(o *RabbitOptions) *bool { return &o.AMQPAutoDelete }),
	"rabbit_ha_queues":                     boolOpt(func(o *RabbitOptions) *bool { return &o.RabbitHAQueues }),
	"rabbit_quorum_queue":                  boolOpt(func(o *RabbitOptions) *bool { return &o.RabbitQuorumQueue }),
	"rabbit_quorum_delivery_limit":         intOpt(func(o *RabbitOptions) *int { return &o.RabbitQuorumDeliveryLimit }),
	"rabbit_quroum_max_memory_length":      intOpt(func(o *RabbitOptions) *int { return &o.RabbitQuorumMaxMemoryLength }),
	"rabbit_quroum_max_memory_bytes":       intOpt(func(o *RabbitOptions) *int { return &o.RabbitQuorumMaxMemoryBytes }),
	"rabbit_transient_queues_ttl":          secondsOpt(func(o *RabbitOptions) *time.Duration { return &o.RabbitTransientQueuesTTL }, false),
	"rabbit_qos_prefetch_count":            intOpt(func(o *RabbitOptions) *int { return &o.RabbitQosPrefetchCount }),
	"heartbeat_timeout_threshold":          secondsOpt(func(o *RabbitOptions) *time.Duration { return &o.HeartbeatTimeoutThreshold }, false),
	"heartbeat_rate":                       intOpt(func(o *RabbitOptions) *int { return &o.HeartbeatRate }),
	"enable_cancel_on_failover":            boolOpt(func(o *RabbitOptions) *bool { return &o.EnableCancelOnFailover }),
	"direct_mandatory_flag":                boolOpt(func(o *RabbitOptions) *bool { return &o.DirectMandatoryFlag }),
	"rabbit_retry_interval":                secondsOpt(func(o *RabbitOptions) *time.Duration { return &o.RabbitRetryInterval }, false),
	"rabbit_retry_backoff":                 secondsOpt(func(o *RabbitOptions) *time.Duration { return &o.RabbitRetryBackoff }, false),
	"rabbit_interval_max":                  secondsOpt(func(o *RabbitOptions) *time.Duration { return &o.RabbitIntervalMax }, false),
	"kombu_reconnect_delay":                secondsOpt(func(o *RabbitOptions) *time.Duration { return &o.KombuReconnectDelay }, true),
	"kombu_missing_consumer_retry_timeout": secondsOpt(func(o *RabbitOptions) *time.Duration { return &o.KombuMissingConsumerRetryTimeout }, false),
	"kombu_failover_strategy":              strOpt(func(o *RabbitOptions) *string { return &o.KombuFailoverStrategy }),
	"kombu_compression":                    strOpt(func(o *RabbitOptions) *string { return &o.KombuCompression }),
	"rabbit_login_method":                  strOpt(func(o *RabbitOptions) *string { return &o.RabbitLoginMethod }),
	"rabbit_max_decompressed_size":         int64Opt(func(o *RabbitOptions) *int64 { return &o.RabbitMaxDecompressedSize }),
	"ssl":                                  boolOpt(func(o *RabbitOptions) *bool { return &o.SSL }),
	"ssl_version":                          strOpt(func(o *RabbitOptions) *string { return &o.SSLVersion }),
	"ssl_key_file":                         strOpt(func(o *RabbitOptions) *string { return &o.SSLKeyFile }),
	"ssl_cert_file":                        strOpt(func(o *RabbitOptions) *string { return &o.SSLCertFile }),
	"ssl_ca_file":                          strOpt(func(o *RabbitOptions) *string { return &o.SSLCAFile }),
	"ssl_enforce_hostname_verification":    boolOpt(func(o *RabbitOptions) *bool { return &o.SSLEnforceHostnameVerification }),
	"ssl_enforce_fips_mode":                boolOpt(func(o *RabbitOptions) *bool { return &o.SSLEnforceFIPSMode }),
	"heartbeat_in_pthread":                 boolOpt(func(o *RabbitOptions) *bool { return &o.HeartbeatInPthread }),
	"rpc_conn_pool_size":                   intOpt(func(o *RabbitOptions) *int { return &o.RPCConnPoolSize }),
	"conn_pool_min_size":                   intOpt(func(o *RabbitOptions) *int { return &o.ConnPoolMinSize }),
	"conn_pool_ttl":                        intOpt(func(o *RabbitOptions) *int { return &o.ConnPoolTTL }),
}

// RabbitOptionNames lists the option names Set accepts, sorted.
func RabbitOptionNames() []string {
	names := make([]string, 0, len(rabbitOptionSetters))
	for n := range rabbitOptionSetters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Set sets an option by its oslo name from its text form, converting it as
// oslo.config does (booleans: true/false, 1/0, yes/no, on/off, any case).
// An unknown name gives an error wrapping ErrUnknownOption.
func (o *RabbitOptions) Set(name, value string) error {
	set, ok := rabbitOptionSetters[name]
	if !ok {
		return fmt.Errorf("rpc: %w: %q", ErrUnknownOption, name)
	}
	if err := set(o, value); err != nil {
		return fmt.Errorf("rpc: option %s: %w", name, err)
	}
	return nil
}

// ApplyQuery applies transport URL query overrides, as oslo's
// ConfigOptsProxy does. Unknown names are an error, as in oslo.
func (o *RabbitOptions) ApplyQuery(query map[string]string) error {
	names := make([]string, 0, len(query))
	for n := range query {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := o.Set(n, query[n]); err != nil {
			return fmt.Errorf("transport URL query: %w", err)
		}
	}
	return nil
}

// Validate reports option combinations oslo refuses, and the ones this driver
// cannot honour.
func (o *RabbitOptions) Validate() error {
	if o.RabbitQuorumQueue && o.RabbitHAQueues {
		return errors.New("rpc: configuration error: rabbit_quorum_queue and rabbit_ha_queues both enabled, queue type is quorum or HA (mirrored) not both")
	}
	switch strings.ToUpper(o.RabbitLoginMethod) {
	case "AMQPLAIN", "PLAIN", "EXTERNAL":
	default:
		return fmt.Errorf("rpc: unsupported rabbit_login_method %q", o.RabbitLoginMethod)
	}
	switch o.KombuFailoverStrategy {
	case "round-robin", "shuffle":
	default:
		return fmt.Errorf("rpc: unsupported kombu_failover_strategy %q", o.KombuFailoverStrategy)
	}
	if _, err := compressionFor(o.KombuCompression); err != nil {
		return err
	}
	if o.RabbitTransientQueuesTTL < 0 || o.HeartbeatTimeoutThreshold < 0 || o.RabbitQosPrefetchCount < 0 || o.RabbitMaxDecompressedSize < 0 {
		return errors.New("rpc: rabbit_transient_queues_ttl, heartbeat_timeout_threshold, rabbit_qos_prefetch_count and rabbit_max_decompressed_size must not be negative")
	}
	if o.SSLVersion != "" {
		if _, _, err := tlsVersionRange(o.SSLVersion); err != nil {
			return err
		}
	}
	return nil
}

// durable is oslo's Connection.durable: quorum queues are always durable.
func (o *RabbitOptions) durable() bool { return o.AMQPDurableQueues || o.RabbitQuorumQueue }

func parseOsloBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "1", "on", "yes":
		return true, nil
	case "false", "0", "off", "no":
		return false, nil
	}
	return false, fmt.Errorf("unexpected boolean value %q", v)
}

// loadTransport parses a transport URL and settles the options: rabbit (or
// oslo's defaults) with the URL's query overrides, validated.
func loadTransport(rawURL string, rabbit *RabbitOptions) (TransportURL, RabbitOptions, error) {
	u, err := ParseTransportURL(rawURL)
	if err != nil {
		return u, RabbitOptions{}, err
	}
	opts := DefaultRabbitOptions()
	if rabbit != nil {
		opts = *rabbit
	}
	if err := opts.ApplyQuery(u.Query); err != nil {
		return u, opts, fmt.Errorf("rpc: %w", err)
	}
	if err := opts.Validate(); err != nil {
		return u, opts, err
	}
	if opts.SSL || u.TLS {
		if _, err := tlsConfig(&opts); err != nil {
			return u, opts, err
		}
	}
	return u, opts, nil
}
