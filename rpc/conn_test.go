package rpc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPKI makes a CA and a server certificate for "broker.example" (not
// the address the test dials), written as PEM files.
func testPKI(t *testing.T) (caFile string, server tls.Certificate) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	caKey, srvKey := key(), key()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker.example"}, DNSNames: []string{"broker.example"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &srvKey.PublicKey, caKey)
	require.NoError(t, err)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	return caFile, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: srvKey}
}

// TestTLSVerification: as oslo with py-amqp, the chain is always checked,
// the host name only with ssl_ca_file and ssl_enforce_hostname_verification.
func TestTLSVerification(t *testing.T) {
	caFile, cert := testPKI(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	handshake := func(o RabbitOptions) error {
		cfg, err := tlsConfig(&o)
		require.NoError(t, err)
		cfg.ServerName = "127.0.0.1"
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cfg)
		if err == nil {
			_ = conn.Close()
		}
		return err
	}
	o := DefaultRabbitOptions()
	o.SSL, o.SSLCAFile = true, caFile
	assert.NoError(t, handshake(o), "chain verified, host name not")
	o.SSLEnforceHostnameVerification = true
	assert.Error(t, handshake(o), "host name 127.0.0.1 is not broker.example")
	o = DefaultRabbitOptions()
	o.SSL = true
	assert.Error(t, handshake(o), "without ssl_ca_file the system roots do not know our CA")

	o.SSLVersion = "tlsv1_2"
	cfg, err := tlsConfig(&o)
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MaxVersion)
	o.SSLCertFile = "/nonexistent.pem"
	_, err = tlsConfig(&o)
	assert.Error(t, err)
	o = DefaultRabbitOptions()
	o.SSLCAFile = filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(o.SSLCAFile, []byte("no pem"), 0o600))
	_, err = tlsConfig(&o)
	assert.ErrorContains(t, err, "no PEM certificate")
}

// A connection the broker blocks (memory or disk alarm) makes publishes
// wait until it is unblocked or their deadline passes, never forever.
func TestBlockedConnection(t *testing.T) {
	pc := &pubChannel{}
	pc.setBlocked(true)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, pc.waitUnblocked(ctx), ErrBlocked)
	done := make(chan error, 1)
	go func() { done <- pc.waitUnblocked(context.Background()) }()
	pc.setBlocked(false)
	require.NoError(t, <-done)

	t.Run("publish on the broker", func(t *testing.T) {
		url := rpctest.Vhost(t)
		u, err := ParseTransportURL(url)
		require.NoError(t, err)
		conn, err := newConnector(u, DefaultRabbitOptions(), quietLog())
		require.NoError(t, err)
		p := newPublisher(conn.dial, quietLog())
		t.Cleanup(p.close)
		pub := publishing{key: "nowhere", msg: replyPublishing([]byte("{}"))}
		require.NoError(t, p.publish(context.Background(), pub))
		pc, err := p.channel(context.Background())
		require.NoError(t, err)
		pc.setBlocked(true) // as a connection.blocked from the broker does
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, p.publish(ctx, pub), ErrBlocked)
		go pc.setBlocked(false)
		require.NoError(t, p.publish(context.Background(), pub))

		pub.mandatory = true
		assert.ErrorIs(t, p.publish(context.Background(), pub), ErrUnroutable)
		_, err = pc.ch.QueueDeclare("somewhere", false, true, false, false, nil)
		require.NoError(t, err)
		pub.key = "somewhere"
		assert.NoError(t, p.publish(context.Background(), pub))
		p.close()
		assert.ErrorIs(t, p.publish(context.Background(), pub), ErrClosed)
	})
}

// TestConnectorFailover: an unreachable host is skipped for the next one.
func TestConnectorFailover(t *testing.T) {
	url := rpctest.Vhost(t)
	u, err := ParseTransportURL(url)
	require.NoError(t, err)
	good := u.Hosts[0]
	bad := good
	bad.Port = 1
	u.Hosts = []TransportHost{bad, good, bad}
	conn, err := newConnector(u, DefaultRabbitOptions(), quietLog())
	require.NoError(t, err)
	for range 3 {
		c, err := conn.dial(context.Background(), "test")
		require.NoError(t, err)
		assert.False(t, c.IsClosed())
		_ = c.Close()
	}
	u.Hosts = []TransportHost{good, {Hostname: "localhost", Port: good.Port, Username: good.Username, Password: good.Password}}
	conn, err = newConnector(u, DefaultRabbitOptions(), quietLog())
	require.NoError(t, err)
	var seen []string
	for range 2 {
		c, err := conn.dial(context.Background(), "test")
		require.NoError(t, err)
		seen = append(seen, conn.hosts[conn.next].Hostname)
		_ = c.Close()
		conn.advance() // a session on it failed
	}
	assert.NotEqual(t, seen[0], seen[1], "after a failure the next host is used")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = conn.dial(ctx, "test")
	assert.ErrorIs(t, err, context.Canceled)

	o := DefaultRabbitOptions()
	o.RabbitLoginMethod = "PLAIN"
	conn, err = newConnector(u, o, quietLog())
	require.NoError(t, err)
	c, err := conn.dial(context.Background(), "test")
	require.NoError(t, err)
	assert.Equal(t, "PLAIN", c.Config.SASL[0].Mechanism())
	_ = c.Close()
}
