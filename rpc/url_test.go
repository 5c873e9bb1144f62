package rpc

import (
	"errors"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTransportURL(t *testing.T) {
	tests := []struct {
		name  string
		url   string
		hosts []TransportHost
		vhost string
		query map[string]string
		tls   bool
	}{
		{name: "bare", url: "rabbit://", hosts: []TransportHost{{Hostname: "localhost", Username: "guest", Password: "guest"}}, vhost: "/"},
		{name: "no path", url: "rabbit://u:p@h:5673", hosts: []TransportHost{{Hostname: "h", Port: 5673, Username: "u", Password: "p"}}, vhost: "/"},
		{name: "slash", url: "rabbit://u:p@h/", hosts: []TransportHost{{Hostname: "h", Username: "u", Password: "p"}}, vhost: "/"},
		{name: "double slash", url: "rabbit://u:p@h//", hosts: []TransportHost{{Hostname: "h", Username: "u", Password: "p"}}, vhost: "/"},
		{name: "encoded slash", url: "rabbit://u:p@h/%2F", hosts: []TransportHost{{Hostname: "h", Username: "u", Password: "p"}}, vhost: "/"},
		{name: "named vhost", url: "rabbit://u:p@h:5672/karbor", hosts: []TransportHost{{Hostname: "h", Port: 5672, Username: "u", Password: "p"}}, vhost: "karbor"},
		{
			name: "percent-decoding", url: "rabbit://us%40er:p%3Aa%2Fss%40@h/v%20h",
			hosts: []TransportHost{{Hostname: "h", Username: "us@er", Password: "p:a/ss@"}}, vhost: "v h",
		},
		{name: "credentials before the last @", url: "rabbit://a@b:c@h/", hosts: []TransportHost{{Hostname: "h", Username: "a@b", Password: "c"}}, vhost: "/"},
		{name: "user without password", url: "rabbit://u@h/", hosts: []TransportHost{{Hostname: "h", Username: "u"}}, vhost: "/"},
		{
			name: "several hosts", url: "rabbit://u1:p1@h1:1,u2:p2@h2,h3:3/v",
			hosts: []TransportHost{
				{Hostname: "h1", Port: 1, Username: "u1", Password: "p1"},
				{Hostname: "h2", Username: "u2", Password: "p2"},
				{Hostname: "h3", Port: 3},
			}, vhost: "v",
		},
		{name: "ipv6", url: "rabbit://u:p@[::1]:5671,[fe80::1]/", hosts: []TransportHost{{Hostname: "::1", Port: 5671, Username: "u", Password: "p"}, {Hostname: "fe80::1"}}, vhost: "/"},
		{name: "empty port", url: "rabbit://h:/", hosts: []TransportHost{{Hostname: "h"}}, vhost: "/"},
		{
			name: "query", url: "rabbit://h/?rabbit_qos_prefetch_count=5&heartbeat_timeout_threshold=10&a=1&a=2&blank=",
			hosts: []TransportHost{{Hostname: "h"}}, vhost: "/",
			query: map[string]string{"rabbit_qos_prefetch_count": "5", "heartbeat_timeout_threshold": "10", "a": "1,2"},
		},
		{name: "kombu alias", url: "kombu://h/", hosts: []TransportHost{{Hostname: "h"}}, vhost: "/"},
		{name: "kombu+amqps", url: "kombu+amqps://h/", hosts: []TransportHost{{Hostname: "h"}}, vhost: "/", tls: true},
		{name: "fragment dropped", url: "rabbit://h/v#frag", hosts: []TransportHost{{Hostname: "h"}}, vhost: "v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseTransportURL(tt.url)
			require.NoError(t, err)
			assert.Equal(t, tt.hosts, u.Hosts)
			assert.Equal(t, tt.vhost, u.Vhost())
			if tt.query == nil {
				tt.query = map[string]string{}
			}
			assert.Equal(t, tt.query, u.Query)
			assert.Equal(t, tt.tls, u.TLS)
			assert.NotContains(t, u.String(), "p1", "String hides passwords")
		})
	}
}

func TestParseTransportURLErrors(t *testing.T) {
	for _, raw := range []string{
		"", "localhost:5672", "amqp://h/", "redis://h/", "rabbit://h:port/", "rabbit://h:99999/",
		"rabbit://[::1/", "rabbit://u:%zz@h/", "rabbit://h/%zz",
	} {
		t.Run(raw, func(t *testing.T) {
			_, err := ParseTransportURL(raw)
			assert.Error(t, err)
		})
	}
	_, err := ParseTransportURL("amqp://guest:guest@h/")
	assert.ErrorContains(t, err, "AMQP 1.0")
}

func TestHostAddr(t *testing.T) {
	assert.Equal(t, "h:5672", TransportHost{Hostname: "h"}.Addr())
	assert.Equal(t, "[::1]:1", TransportHost{Hostname: "::1", Port: 1}.Addr())
	assert.Equal(t, "localhost:5672", TransportHost{}.Addr())
}

func TestRabbitOptionsDefaults(t *testing.T) {
	o := DefaultRabbitOptions()
	assert.Equal(t, 1800*time.Second, o.RabbitTransientQueuesTTL)
	assert.Equal(t, 60*time.Second, o.HeartbeatTimeoutThreshold)
	assert.Equal(t, 0, o.RabbitQosPrefetchCount)
	assert.False(t, o.AMQPDurableQueues)
	assert.True(t, o.DirectMandatoryFlag)
	assert.Equal(t, "AMQPLAIN", o.RabbitLoginMethod)
	assert.Equal(t, 60*time.Second, o.KombuMissingConsumerRetryTimeout)
	assert.Equal(t, int64(128<<20), o.RabbitMaxDecompressedSize)
	require.NoError(t, o.Validate())
	o.RabbitMaxDecompressedSize = -1
	require.ErrorContains(t, o.Validate(), "rabbit_max_decompressed_size must not be negative")
}

func TestRabbitOptionsSet(t *testing.T) {
	o := DefaultRabbitOptions()
	for name, value := range map[string]string{
		"amqp_durable_queues": "True", "amqp_auto_delete": "yes", "rabbit_ha_queues": "ON",
		"rabbit_qos_prefetch_count": "5", "heartbeat_timeout_threshold": "10",
		"rabbit_transient_queues_ttl": "600", "kombu_reconnect_delay": "0.25",
		"ssl": "1", "ssl_ca_file": "/ca.pem", "rabbit_quroum_max_memory_bytes": "7",
		"rabbit_max_decompressed_size": "1048576",
	} {
		require.NoError(t, o.Set(name, value), name)
	}
	assert.True(t, o.AMQPDurableQueues)
	assert.True(t, o.AMQPAutoDelete)
	assert.True(t, o.RabbitHAQueues)
	assert.Equal(t, 5, o.RabbitQosPrefetchCount)
	assert.Equal(t, int64(1<<20), o.RabbitMaxDecompressedSize)
	assert.Equal(t, 10*time.Second, o.HeartbeatTimeoutThreshold)
	assert.Equal(t, 600*time.Second, o.RabbitTransientQueuesTTL)
	assert.Equal(t, 250*time.Millisecond, o.KombuReconnectDelay)
	assert.True(t, o.SSL)
	assert.Equal(t, "/ca.pem", o.SSLCAFile)
	assert.Equal(t, 7, o.RabbitQuorumMaxMemoryBytes)

	err := o.Set("no_such_option", "1")
	assert.True(t, errors.Is(err, ErrUnknownOption))
	assert.ErrorContains(t, o.Set("ssl", "maybe"), "unexpected boolean")
	assert.ErrorContains(t, o.Set("rabbit_qos_prefetch_count", "x"), "invalid integer")
	assert.ErrorContains(t, o.Set("kombu_reconnect_delay", "NaN"), "invalid number")
	assert.Contains(t, RabbitOptionNames(), "rabbit_quroum_max_memory_length")

	assert.True(t, errors.Is(o.ApplyQuery(map[string]string{"bogus": "1"}), ErrUnknownOption))
}

func TestRabbitOptionsValidate(t *testing.T) {
	tests := map[string]func(o *RabbitOptions){
		"quorum and ha":     func(o *RabbitOptions) { o.RabbitQuorumQueue, o.RabbitHAQueues = true, true },
		"login method":      func(o *RabbitOptions) { o.RabbitLoginMethod = "CRAM" },
		"failover strategy": func(o *RabbitOptions) { o.KombuFailoverStrategy = "priority" },
		"compression":       func(o *RabbitOptions) { o.KombuCompression = "lzma" },
		"negative ttl":      func(o *RabbitOptions) { o.RabbitTransientQueuesTTL = -1 },
		"ssl version":       func(o *RabbitOptions) { o.SSLVersion = "sslv3" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			o := DefaultRabbitOptions()
			mutate(&o)
			assert.Error(t, o.Validate())
		})
	}
}

// TestTopologyMatchesOslo pins the declarations an oslo.messaging 14 RPC
// server makes (docs/karbor-behaviour.md#topology).
func TestTopologyMatchesOslo(t *testing.T) {
	o := DefaultRabbitOptions()
	q := serverTopology(&o, "karbor", "karbor-protection", "host1", "karbor-protection_fanout_abc")
	require.Len(t, q, 3)
	topicEx := exchangeDecl{Name: "karbor", Kind: "topic"}
	assert.Equal(t, queueDecl{Exchange: topicEx, Name: "karbor-protection", RoutingKey: "karbor-protection", Args: amqp.Table{}}, q[0])
	assert.Equal(t, queueDecl{Exchange: topicEx, Name: "karbor-protection.host1", RoutingKey: "karbor-protection.host1", Args: amqp.Table{}}, q[1])
	assert.Equal(t, queueDecl{
		Exchange: exchangeDecl{Name: "karbor-protection_fanout", Kind: "fanout", AutoDelete: true},
		Name:     "karbor-protection_fanout_abc", RoutingKey: "karbor-protection",
		Args: amqp.Table{"x-expires": int32(1800000)},
	}, q[2])
	assert.Equal(t, queueDecl{Name: "reply_x", Args: amqp.Table{"x-expires": int32(1800000)}}, replyQueue(&o, "reply_x"))
	assert.Nil(t, consumerArgs(&o))

	o.AMQPDurableQueues, o.RabbitHAQueues, o.EnableCancelOnFailover = true, true, true
	o.RabbitTransientQueuesTTL = 0
	q = serverTopology(&o, "karbor", "t", "h", "t_fanout_x")
	assert.True(t, q[0].Durable)
	assert.True(t, q[0].Exchange.Durable)
	assert.False(t, q[2].Durable, "fanout queue never durable")
	assert.False(t, q[2].Exchange.Durable)
	assert.Equal(t, amqp.Table{"x-ha-policy": "all"}, q[0].Args)
	assert.Equal(t, amqp.Table{"x-ha-policy": "all"}, q[2].Args, "no x-expires with ttl 0")
	assert.Equal(t, amqp.Table{"x-cancel-on-ha-failover": true}, consumerArgs(&o))

	o = DefaultRabbitOptions()
	o.RabbitQuorumQueue, o.RabbitQuorumDeliveryLimit, o.AMQPAutoDelete = true, 3, true
	q = serverTopology(&o, "karbor", "t", "h", "t_fanout_x")
	assert.True(t, q[0].Durable, "quorum queues are durable")
	assert.True(t, q[0].AutoDelete)
	assert.Equal(t, amqp.Table{"x-queue-type": "quorum", "x-delivery-limit": int32(3)}, q[1].Args)
	assert.Equal(t, amqp.Table{"x-expires": int32(1800000)}, q[2].Args, "quorum only on topic queues")
	assert.True(t, topicExchange(&o, "karbor").Durable)
	assert.Equal(t, int64(1)<<40, pyInt(1<<40))
}

func TestBackoff(t *testing.T) {
	o := DefaultRabbitOptions()
	assert.Equal(t, time.Second, backoff(&o, 0))
	assert.Equal(t, 2*time.Second, backoff(&o, 1))
	assert.Equal(t, 4*time.Second, backoff(&o, 2))
	assert.Equal(t, 31*time.Second, backoff(&o, 100))
}

func TestConfigErrors(t *testing.T) {
	ep := NewEndpoint("E", "1.0")
	good := ServerConfig{TransportURL: "rabbit://h/", Topic: "t", Server: "h"}
	tests := map[string]func(c *ServerConfig){
		"bad url":        func(c *ServerConfig) { c.TransportURL = "amqp://h/" },
		"unknown option": func(c *ServerConfig) { c.TransportURL = "rabbit://h/?bogus=1" },
		"bad option":     func(c *ServerConfig) { c.TransportURL = "rabbit://h/?ssl=maybe" },
		"quorum and ha":  func(c *ServerConfig) { c.TransportURL = "rabbit://h/?rabbit_quorum_queue=1&rabbit_ha_queues=1" },
		"bad ca file":    func(c *ServerConfig) { c.TransportURL = "rabbit://h/?ssl=1&ssl_ca_file=/nonexistent" },
		"no topic":       func(c *ServerConfig) { c.Topic = "" },
		"no server":      func(c *ServerConfig) { c.Server = "" },
		"negative":       func(c *ServerConfig) { c.Workers = -1 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			c := good
			mutate(&c)
			_, err := NewServer(c, ep)
			assert.Error(t, err)
		})
	}
	_, err := NewServer(good)
	assert.Error(t, err, "no endpoint")
	s, err := NewServer(good, ep)
	require.NoError(t, err)
	assert.Equal(t, DefaultControlExchange, s.cfg.Exchange)
	assert.Equal(t, DefaultWorkers, s.cfg.Workers)
	assert.Regexp(t, `^t_fanout_[0-9a-f]{32}$`, s.FanoutQueue())
	assert.ErrorIs(t, s.Health(), ErrNotConsuming)

	_, err = Dial(t.Context(), ClientConfig{TransportURL: "rabbit://h/?bogus=1"})
	assert.ErrorIs(t, err, ErrUnknownOption)
}
