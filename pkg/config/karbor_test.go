package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newKarbor(t *testing.T, text string, environ ...string) (*Karbor, error) {
	t.Helper()
	return NewKarbor(New(KarborRegistry(), []*File{mustParse(t, "/etc/karbor/karbor.conf", text)}, environ))
}

func TestKarborDefaults(t *testing.T) {
	k, err := newKarbor(t, "")
	require.NoError(t, err)
	host, err := os.Hostname()
	require.NoError(t, err)
	assert.Equal(t, &Karbor{
		Host:                       host,
		StatePath:                  "/var/lib/karbor",
		ProtectionTopic:            "karbor-protection",
		ProtectionManager:          "karbor.services.protection.manager.ProtectionManager",
		ProviderRegistry:           "provider-registry",
		ProviderConfigDir:          "providers.d",
		MaxConcurrentOperations:    0,
		WorkflowEngine:             "karbor.services.protection.flows.workflow.TaskFlowEngine",
		ReportInterval:             10,
		PeriodicInterval:           60,
		PeriodicFuzzyDelay:         60,
		ServiceDownTime:            60,
		ServiceDownTimeConfigured:  60,
		EnableNewServices:          true,
		FatalExceptionFormatErrors: false,
		Messaging: Messaging{
			TransportURL:           "rabbit://",
			ControlExchange:        "openstack",
			RPCResponseTimeout:     60,
			ExecutorThreadPoolSize: 64,
			RPCConnPoolSize:        30,
			ConnPoolMinSize:        2,
			ConnPoolTTL:            1200,
			Rabbit:                 []KeyValue{},
		},
		Log: Log{DateFormat: "%Y-%m-%d %H:%M:%S", SyslogFacility: "LOG_USER"},
		Database: Database{
			Connection:            "sqlite:////var/lib/karbor/karbor.sqlite",
			ConnectionSet:         false,
			MaxPoolSize:           5,
			MaxOverflow:           50,
			ConnectionRecycleTime: 3600,
			MaxRetries:            10,
			RetryInterval:         10,
		},
	}, k)
}

func TestKarborFromFile(t *testing.T) {
	k, err := newKarbor(t, `[DEFAULT]
host = node-1.example.com.
state_path = /srv/karbor
transport_url = rabbit://karbor:s3cret@10.0.0.1:5672/karbor
control_exchange = karbor
max_concurrent_operations = 4
report_interval = 30
service_down_time = 30
debug = True
logfile = /var/log/karbor/protection.log
rpc_thread_pool_size = 16
unknown_option = whatever

[database]
connection = mysql+pymysql://karbor:pw@db/karbor?charset=utf8
max_pool_size = 10
idle_timeout = 120
pool_timeout = 30

[oslo_messaging_rabbit]
rabbit_qos_prefetch_count = 10
ssl_ca_file = $state_path/ca.pem

[keystone_authtoken]
auth_url = http://keystone:5000

[monitoring]
listen = [::1]:9785
`)
	require.NoError(t, err)
	assert.Equal(t, "node-1.example.com", k.Host, "oslo.config's host type drops the trailing dot")
	assert.Equal(t, "rabbit://karbor:s3cret@10.0.0.1:5672/karbor", k.Messaging.TransportURL)
	assert.Equal(t, "karbor", k.Messaging.ControlExchange)
	assert.Equal(t, 16, k.Messaging.ExecutorThreadPoolSize, "deprecated rpc_thread_pool_size")
	assert.Equal(t, 4, k.MaxConcurrentOperations)
	assert.Equal(t, 30, k.ReportInterval)
	assert.Equal(t, 75, k.ServiceDownTime, "raised to int(2.5 × report_interval)")
	assert.Equal(t, 30, k.ServiceDownTimeConfigured)
	assert.True(t, k.Log.Debug)
	assert.Equal(t, "/var/log/karbor/protection.log", k.Log.File, "deprecated logfile")
	assert.Equal(t, "mysql+pymysql://karbor:pw@db/karbor?charset=utf8", k.Database.Connection)
	assert.True(t, k.Database.ConnectionSet)
	assert.Equal(t, 10, k.Database.MaxPoolSize)
	assert.Equal(t, 120, k.Database.ConnectionRecycleTime, "idle_timeout is the older name")
	require.NotNil(t, k.Database.PoolTimeout)
	assert.Equal(t, 30, *k.Database.PoolTimeout)
	assert.Equal(t, []KeyValue{{"rabbit_qos_prefetch_count", "10"}, {"ssl_ca_file", "/srv/karbor/ca.pem"}}, k.Messaging.Rabbit)
	assert.Equal(t, "[::1]:9785", k.Monitoring.Listen)
}

func TestKarborServiceDownTime(t *testing.T) {
	tests := []struct {
		text       string
		report     int
		downTime   int
		configured int
	}{
		{"", 10, 60, 60},
		{"report_interval = 24\n", 24, 60, 60},
		{"report_interval = 25\nservice_down_time = 25\n", 25, 62, 25},
		{"report_interval = 3\nservice_down_time = 1\n", 3, 7, 1},
		{"report_interval = 0\nservice_down_time = 1\n", 0, 1, 1},
		{"report_interval =\nperiodic_interval =\nperiodic_fuzzy_delay =\n", 0, 60, 60},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.text, "\n", ";"), func(t *testing.T) {
			k, err := newKarbor(t, "[DEFAULT]\n"+tt.text)
			require.NoError(t, err)
			assert.Equal(t, tt.report, k.ReportInterval)
			assert.Equal(t, tt.downTime, k.ServiceDownTime)
			assert.Equal(t, tt.configured, k.ServiceDownTimeConfigured)
		})
	}
}

func TestKarborBadValues(t *testing.T) {
	tests := []struct {
		name, text string
		environ    []string
		want       []string
	}{
		{"bad bool", "[DEFAULT]\ndebug = maybe\n", nil, []string{"/etc/karbor/karbor.conf: [DEFAULT] debug = \"maybe\""}},
		{"bad int", "[DEFAULT]\nreport_interval = 10s\n", nil, []string{"[DEFAULT] report_interval = \"10s\": invalid literal for int()"}},
		{"empty required int", "[database]\nmax_pool_size =\n", nil, []string{"[database] max_pool_size = \"\": an integer is required"}},
		{"negative pool", "[DEFAULT]\nmax_concurrent_operations = -1\n", nil, []string{"max_concurrent_operations = \"-1\": must not be negative"}},
		{"bad host", "[DEFAULT]\nhost = my_host\n", nil, []string{"[DEFAULT] host = \"my_host\": my_host is not a valid host address"}},
		{"out of range", "[database]\nconnection_debug = 101\n", nil, []string{"connection_debug = \"101\": should be less than or equal to 100"}},
		{"unresolved substitution", "[database]\nconnection = sqlite:///$nowhere/k.db\n", nil, []string{"[database] connection", "no such option"}},
		{"bad rabbit substitution", "[oslo_messaging_rabbit]\nssl_ca_file = $nowhere\n", nil, []string{"[oslo_messaging_rabbit] ssl_ca_file"}},
		{"from the environment", "", []string{"OS_DEFAULT__RPC_RESPONSE_TIMEOUT=soon"}, []string{"environment variable OS_DEFAULT__RPC_RESPONSE_TIMEOUT: [DEFAULT] rpc_response_timeout = \"soon\""}},
		{"listen without a port", "[monitoring]\nlisten = 127.0.0.1\n", nil, []string{"[monitoring] listen = \"127.0.0.1\": must be host:port"}},
		{"listen on a named port", "[monitoring]\nlisten = 127.0.0.1:http\n", nil, []string{"[monitoring] listen = \"127.0.0.1:http\": the port must be a number"}},
		{"listen port out of range", "[monitoring]\nlisten = :65536\n", nil, []string{"the port must be a number from 0 to 65535"}},
		{"every error at once", "[DEFAULT]\ndebug = maybe\nreport_interval = x\n[database]\nmax_overflow = y\n", nil,
			[]string{"debug = \"maybe\"", "report_interval = \"x\"", "max_overflow = \"y\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newKarbor(t, tt.text, tt.environ...)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadKarbor(t *testing.T) {
	root := t.TempDir()
	etc := filepath.Join(root, "etc")
	writeFile(t, filepath.Join(etc, "karbor", "karbor.conf"), "[DEFAULT]\nstate_path = /srv/k\ndebug = false\n")
	writeFile(t, filepath.Join(etc, "karbor-protection.conf.d", "10-rabbit.conf"), "[DEFAULT]\ntransport_url = rabbit://h\n")
	k, c, err := LoadKarbor(LoadOptions{
		Search:    &Search{Project: "karbor", Prog: "karbor-protection", Etc: etc},
		Overrides: []Override{{Group: DefaultGroup, Name: "debug", Value: "true"}},
	})
	require.NoError(t, err)
	assert.True(t, k.Log.Debug, "the command line wins")
	assert.Equal(t, "/srv/k", k.StatePath)
	assert.Equal(t, "rabbit://h", k.Messaging.TransportURL)
	assert.Equal(t, "sqlite:////srv/k/karbor.sqlite", k.Database.Connection)
	assert.Equal(t, []string{filepath.Join(etc, "karbor", "karbor.conf"), filepath.Join(etc, "karbor-protection.conf.d", "10-rabbit.conf")}, c.Files())

	_, _, err = LoadKarbor(LoadOptions{Sources: []Source{{Path: filepath.Join(root, "missing.conf")}}, Search: &Search{Etc: etc}})
	assert.ErrorContains(t, err, "missing.conf")
	writeFile(t, filepath.Join(root, "bad.conf"), "[DEFAULT]\ndebug = perhaps\n")
	_, _, err = LoadKarbor(LoadOptions{Sources: []Source{{Path: filepath.Join(root, "bad.conf")}}, Search: &Search{Etc: etc}})
	assert.ErrorContains(t, err, "bad.conf: [DEFAULT] debug")

	s := DefaultSearch("karbor", "karbor-protection")
	assert.Equal(t, "karbor", s.Project)
	assert.Equal(t, "karbor-protection", s.Prog)
}
