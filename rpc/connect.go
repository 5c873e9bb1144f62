package rpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/sirupsen/logrus"
)

// handshakeTimeout bounds TCP connect, TLS and the AMQP handshake of one
// attempt, so that a dead host never hangs a (re)connection.
const handshakeTimeout = 15 * time.Second

// connector dials the brokers of a transport URL with oslo's failover: hosts
// shuffled once, then tried in turn (round-robin) or at random (shuffle).
type connector struct {
	hosts []TransportHost
	vhost string
	opts  RabbitOptions
	tls   *tls.Config // nil without ssl
	log   *logrus.Entry

	mu   sync.Mutex
	next int
}

func newConnector(u TransportURL, opts RabbitOptions, log *logrus.Entry) (*connector, error) {
	c := &connector{hosts: append([]TransportHost(nil), u.Hosts...), vhost: u.Vhost(), opts: opts, log: log}
	rand.Shuffle(len(c.hosts), func(i, j int) { c.hosts[i], c.hosts[j] = c.hosts[j], c.hosts[i] })
	if opts.SSL || u.TLS {
		cfg, err := tlsConfig(&opts)
		if err != nil {
			return nil, err
		}
		c.tls = cfg
	}
	return c, nil
}

// dial opens one connection for purpose ("listen" or "send", as in oslo),
// trying each host once, starting where the last success was.
func (c *connector) dial(ctx context.Context, purpose string) (*amqp.Connection, error) {
	c.mu.Lock()
	start := c.next
	if c.opts.KombuFailoverStrategy == "shuffle" {
		start = rand.IntN(len(c.hosts))
	}
	c.mu.Unlock()
	var errs []error
	for i := range c.hosts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx := (start + i) % len(c.hosts)
		conn, err := c.dialHost(ctx, c.hosts[idx], purpose)
		if err == nil {
			c.mu.Lock()
			c.next = idx
			c.mu.Unlock()
			return conn, nil
		}
		c.log.WithError(err).WithField("host", c.hosts[idx].Addr()).Warn("AMQP server is unreachable")
		errs = append(errs, fmt.Errorf("%s: %w", c.hosts[idx].Addr(), err))
		if len(c.hosts) > 1 {
			c.mu.Lock()
			c.next = (idx + 1) % len(c.hosts)
			c.mu.Unlock()
		}
	}
	return nil, fmt.Errorf("rpc: cannot connect to AMQP server: %w", errors.Join(errs...))
}

// advance moves to the next host after a connection failed, as kombu's
// failover does on a connection error.
func (c *connector) advance() {
	c.mu.Lock()
	c.next = (c.next + 1) % len(c.hosts)
	c.mu.Unlock()
}

func (c *connector) dialHost(ctx context.Context, h TransportHost, purpose string) (*amqp.Connection, error) {
	scheme := "amqp"
	cfg := amqp.Config{
		Vhost:     c.vhost,
		Heartbeat: c.opts.HeartbeatTimeoutThreshold,
		Locale:    "en_US",
		SASL:      []amqp.Authentication{c.auth(h)},
		Properties: amqp.Table{
			"product":         "karbor-protection rpc (amqp091-go)",
			"connection_name": connectionName(purpose),
		},
	}
	if c.tls != nil {
		scheme = "amqps"
		cfg.TLSClientConfig = c.tls.Clone()
		if cfg.TLSClientConfig.ServerName == "" {
			cfg.TLSClientConfig.ServerName = h.Hostname
		}
	}
	deadline := time.Now().Add(handshakeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var stop func() bool
	cfg.Dial = func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Deadline: deadline, KeepAlive: 30 * time.Second}
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// Cleared by amqp091 once the handshake is done.
		if err := conn.SetDeadline(deadline); err != nil {
			_ = conn.Close()
			return nil, err
		}
		stop = context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}
	conn, err := amqp.DialConfig(scheme+"://"+h.Addr()+"/", cfg)
	if stop != nil {
		stop()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return conn, nil
}

func (c *connector) auth(h TransportHost) amqp.Authentication {
	switch strings.ToUpper(c.opts.RabbitLoginMethod) {
	case "PLAIN":
		return &amqp.PlainAuth{Username: h.Username, Password: h.Password}
	case "EXTERNAL":
		return &amqp.ExternalAuth{}
	}
	return &amqp.AMQPlainAuth{Username: h.Username, Password: h.Password}
}

// connectionName is oslo's "<program>:<pid>:<uuid>" (plus the purpose),
// which the management UI shows.
func connectionName(purpose string) string {
	return fmt.Sprintf("%s:%d:%s:%s", filepath.Base(os.Args[0]), os.Getpid(), uuid.NewString(), purpose)
}

// tlsConfig mirrors oslo/py-amqp: the broker's certificate chain is always
// verified (against ssl_ca_file, else the system roots); its host name only
// when ssl_ca_file is set and ssl_enforce_hostname_verification is true.
func tlsConfig(o *RabbitOptions) (*tls.Config, error) {
	if o.SSLEnforceFIPSMode {
		return nil, errors.New("rpc: ssl_enforce_fips_mode is not supported")
	}
	cfg := &tls.Config{}
	if o.SSLVersion != "" {
		lo, hi, err := tlsVersionRange(o.SSLVersion)
		if err != nil {
			return nil, err
		}
		cfg.MinVersion, cfg.MaxVersion = lo, hi
	}
	if o.SSLCertFile != "" {
		key := o.SSLKeyFile
		if key == "" {
			key = o.SSLCertFile // Python's load_cert_chain: key in the cert file
		}
		cert, err := tls.LoadX509KeyPair(o.SSLCertFile, key)
		if err != nil {
			return nil, fmt.Errorf("rpc: ssl_cert_file/ssl_key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	var roots *x509.CertPool
	if o.SSLCAFile != "" {
		pem, err := os.ReadFile(o.SSLCAFile)
		if err != nil {
			return nil, fmt.Errorf("rpc: ssl_ca_file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("rpc: ssl_ca_file %s holds no PEM certificate", o.SSLCAFile)
		}
		cfg.RootCAs = roots
	}
	if o.SSLCAFile != "" && o.SSLEnforceHostnameVerification {
		return cfg, nil
	}
	cfg.InsecureSkipVerify = true // replaced by the chain-only check below
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		return verifyChain(cs.PeerCertificates, roots)
	}
	return cfg, nil
}

func verifyChain(certs []*x509.Certificate, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return errors.New("rpc: broker sent no TLS certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	return err
}

// tlsVersionRange maps oslo's ssl_version to Go's TLS versions.
func tlsVersionRange(v string) (uint16, uint16, error) {
	switch strings.ToLower(v) {
	case "tlsv1":
		return tls.VersionTLS10, tls.VersionTLS10, nil
	case "tlsv1_1":
		return tls.VersionTLS11, tls.VersionTLS11, nil
	case "tlsv1_2":
		return tls.VersionTLS12, tls.VersionTLS12, nil
	case "sslv23", "tls":
		return tls.VersionTLS10, 0, nil
	}
	return 0, 0, fmt.Errorf("rpc: invalid SSL version : %s", v)
}

// backoff is the wait before reconnection attempt n (0 after a healthy
// session ended): kombu_reconnect_delay plus oslo's interval, growing from
// rabbit_retry_interval by rabbit_retry_backoff up to rabbit_interval_max.
func backoff(o *RabbitOptions, n int) time.Duration {
	d := o.KombuReconnectDelay
	if n == 0 {
		return d
	}
	start := o.RabbitRetryInterval
	if start <= 0 {
		start = time.Second
	}
	step := start + time.Duration(n-1)*o.RabbitRetryBackoff
	if o.RabbitIntervalMax > 0 && step > o.RabbitIntervalMax {
		step = o.RabbitIntervalMax
	}
	return d + step
}

// sleepCtx waits d or until ctx is done; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
