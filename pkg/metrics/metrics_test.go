package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/rpc"
)

// Metrics is what the program hands each layer as its observer.
var (
	_ rpc.Observer       = (*Metrics)(nil)
	_ providers.Observer = (*Metrics)(nil)
	_ bank.Observer      = (*Metrics)(nil)
	_ db.Observer        = (*Metrics)(nil)
	_ RPCServer          = (*rpc.Server)(nil)
	_ Database           = (*db.Store)(nil)
)

type fakeServer struct {
	busy, total int
	health      error
	sessions    int64
}

func (s *fakeServer) HandlerSlots() (int, int) { return s.busy, s.total }
func (s *fakeServer) Health() error            { return s.health }
func (s *fakeServer) Sessions() int64          { return s.sessions }

type fakeDatabase int

func (d fakeDatabase) QueuedWrites() int { return int(d) }

// exercised is a Metrics every one of whose metrics has a series.
func exercised(t *testing.T) (*Metrics, *fakeServer) {
	t.Helper()
	m := New()
	srv := &fakeServer{busy: 3, total: 64, sessions: 3}
	m.WatchRPCServer(srv)
	m.WatchDatabase(fakeDatabase(7))
	m.CallDone("protect", "ok", 20*time.Millisecond)
	m.CallDone("protect", "ok", 30*time.Millisecond)
	m.CallDone("show_checkpoint", "CheckpointNotFound", time.Millisecond)
	m.CallDone("", "NoSuchMethod", time.Microsecond)
	m.ReplyUnroutable()
	m.ReplyDropped(rpc.DropQueueMissing)
	m.OperationStarted("protect")
	m.OperationEnded("protect", "available", 2*time.Second)
	m.OperationStarted("restore")
	m.OperationStarted("restore")
	m.OperationEnded("restore", "fail", time.Second)
	m.OperationAbandoned("delete", "error-deleting")
	m.TasksDone(5, 0, 0, 0)
	m.TasksDone(0, 1, 2, 1)
	m.CheckpointRecovered("protecting", "error")
	valid := true
	m.BankOpened("karbor-fs-bank-plugin", func() bool { return valid })
	m.BankOpened("karbor-fs-bank-plugin", func() bool { return false })
	m.BankRequest("karbor-fs-bank-plugin", "update", time.Millisecond, false)
	m.BankRequest("karbor-fs-bank-plugin", "get", time.Millisecond, true)
	m.WriteRetried()
	m.WriteRetried()
	m.WriteDropped(db.DropQueueFull)
	return m, srv
}

// scrape fetches the handler's text exposition and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain"), rec.Header().Get("Content-Type"))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	require.NoError(t, err)
	return families
}

// value is the value of the series of name whose labels include labels:
// a counter's or gauge's value, a histogram's sample count.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := families[name]
	require.True(t, ok, "no metric %s", name)
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no series of %s with %v", name, labels)
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestMetricsFollowPrometheusConventions(t *testing.T) {
	m, _ := exercised(t)
	problems, err := promlint.NewWithMetricFamilies(gather(t, m)).Lint()
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func gather(t *testing.T, m *Metrics) []*dto.MetricFamily {
	t.Helper()
	families, err := m.reg.Gather()
	require.NoError(t, err)
	return families
}

func TestMetricsCountWhatTheyAreTold(t *testing.T) {
	m, srv := exercised(t)
	f := scrape(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"karbor_protection_rpc_requests_total", map[string]string{"method": "protect", "outcome": "ok"}, 2},
		{"karbor_protection_rpc_requests_total", map[string]string{"method": "show_checkpoint", "outcome": "CheckpointNotFound"}, 1},
		{"karbor_protection_rpc_requests_total", map[string]string{"method": "unknown", "outcome": "NoSuchMethod"}, 1},
		{"karbor_protection_rpc_request_duration_seconds", map[string]string{"method": "protect"}, 2},
		{"karbor_protection_rpc_requests_in_flight", nil, 3},
		{"karbor_protection_rpc_handler_slots_free", nil, 61},
		{"karbor_protection_rpc_replies_unroutable_total", nil, 1},
		{"karbor_protection_rpc_replies_dropped_total", map[string]string{"reason": "queue_missing"}, 1},
		{"karbor_protection_amqp_consuming", nil, 1},
		{"karbor_protection_amqp_reconnects_total", nil, 2},
		{"karbor_protection_operations_in_flight", map[string]string{"operation": "protect"}, 0},
		{"karbor_protection_operations_in_flight", map[string]string{"operation": "restore"}, 1},
		{"karbor_protection_operations_total", map[string]string{"operation": "protect", "status": "available"}, 1},
		{"karbor_protection_operations_total", map[string]string{"operation": "restore", "status": "fail"}, 1},
		{"karbor_protection_operations_total", map[string]string{"operation": "delete", "status": "error-deleting"}, 1},
		{"karbor_protection_operations_abandoned_total", map[string]string{"operation": "delete"}, 1},
		{"karbor_protection_operation_duration_seconds", map[string]string{"operation": "protect", "status": "available"}, 1},
		{"karbor_protection_tasks_run_total", map[string]string{"outcome": "success"}, 5},
		{"karbor_protection_tasks_run_total", map[string]string{"outcome": "failure"}, 1},
		{"karbor_protection_tasks_reverted_total", map[string]string{"outcome": "success"}, 2},
		{"karbor_protection_tasks_reverted_total", map[string]string{"outcome": "failure"}, 1},
		{"karbor_protection_checkpoints_recovered_total", map[string]string{"from": "protecting", "to": "error"}, 1},
		{"karbor_protection_bank_request_duration_seconds", map[string]string{"plugin": "karbor-fs-bank-plugin", "operation": "update"}, 1},
		{"karbor_protection_bank_request_errors_total", map[string]string{"plugin": "karbor-fs-bank-plugin", "operation": "get"}, 1},
		{"karbor_protection_bank_leases", map[string]string{"plugin": "karbor-fs-bank-plugin", "state": "valid"}, 1},
		{"karbor_protection_bank_leases", map[string]string{"plugin": "karbor-fs-bank-plugin", "state": "invalid"}, 1},
		{"karbor_protection_database_writes_queued", nil, 7},
		{"karbor_protection_database_write_retries_total", nil, 2},
		{"karbor_protection_database_writes_dropped_total", map[string]string{"reason": "queue_full"}, 1},
	} {
		assert.Equal(t, c.want, value(t, f, c.name, c.labels), "%s %v", c.name, c.labels)
	}
	assert.Contains(t, f, "go_goroutines", "the Go runtime's metrics")

	// What is read at each scrape follows the component.
	srv.health = errors.New("rpc: server is not consuming")
	srv.busy = 64
	f = scrape(t, m.Handler())
	assert.Equal(t, 0.0, value(t, f, "karbor_protection_amqp_consuming", nil))
	assert.Equal(t, 0.0, value(t, f, "karbor_protection_rpc_handler_slots_free", nil))
}

// A histogram's observations land in seconds.
func TestDurationsAreSeconds(t *testing.T) {
	m := New()
	m.CallDone("protect", "ok", 1500*time.Millisecond)
	f := scrape(t, m.Handler())
	h := f["karbor_protection_rpc_request_duration_seconds"].GetMetric()[0].GetHistogram()
	assert.InDelta(t, 1.5, h.GetSampleSum(), 1e-9)
}

func TestWatchTwicePanics(t *testing.T) {
	m := New()
	m.WatchRPCServer(&fakeServer{})
	assert.Panics(t, func() { m.WatchRPCServer(&fakeServer{}) })
	m.WatchDatabase(fakeDatabase(0))
	assert.Panics(t, func() { m.WatchDatabase(fakeDatabase(0)) })
}

// The registry is the service's own: nothing registered in the default
// one is served.
func TestOwnRegistry(t *testing.T) {
	stray := prometheus.NewCounter(prometheus.CounterOpts{Name: "stray_total", Help: "Registered by a library."})
	prometheus.MustRegister(stray)
	t.Cleanup(func() { prometheus.Unregister(stray) })
	m := New()
	f := scrape(t, m.Handler())
	assert.NotContains(t, f, "stray_total")
	n, err := testutil.GatherAndCount(m.reg, "karbor_protection_rpc_requests_total")
	require.NoError(t, err)
	assert.Zero(t, n, "no series before the first call")
}
