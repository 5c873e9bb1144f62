package main_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// scrapeMetrics fetches url and parses it with Prometheus' text parser.
func scrapeMetrics(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"), resp.Header.Get("Content-Type"))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// sample is one series of a scrape: a counter's or gauge's value, or a
// histogram's count and sum.
type sample struct {
	value, count, sum float64
	found             bool
}

// series finds the series of name whose labels include labels.
func series(families map[string]*dto.MetricFamily, name string, labels ...string) sample {
	f := families[name]
	if f == nil {
		return sample{}
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return sample{value: m.Counter.GetValue(), found: true}
		case m.Gauge != nil:
			return sample{value: m.Gauge.GetValue(), found: true}
		case m.Histogram != nil:
			h := m.Histogram
			return sample{count: float64(h.GetSampleCount()), sum: h.GetSampleSum(), found: true}
		}
	}
	return sample{}
}

// TestMetrics runs the service with [monitoring] listen set and checks,
// through /metrics as Prometheus reads it, that a protect, a restore, a
// failing call and a call of a method nobody serves moved the counters and
// histograms they should, and nothing else.
func TestMetrics(t *testing.T) {
	url := rpctest.Vhost(t)
	s := newService(t, url, serviceConfig{sections: "[monitoring]\nlisten = 127.0.0.1:0\n"})
	endpoint := s.operatorURL() + "/metrics"
	c := pyClient(t, url)
	member := requestContext(t, projectA, false)

	before := scrapeMetrics(t, endpoint)
	assert.Equal(t, 1.0, series(before, "karbor_protection_amqp_consuming").value)
	assert.Equal(t, 1.0, series(before, "karbor_protection_bank_leases", "plugin", "karbor-fs-bank-plugin", "state", "valid").value)
	assert.False(t, series(before, "karbor_protection_rpc_requests_total", "method", "protect").found)

	const resources = 3
	id := protect(t, c, member, "632d8f7d-e2c3-4f31-82ea-900d8afb9880", projectA, resources)
	waitStatus(t, c, member, id, "available")
	result(t, call(t, c, "restore", member, restoreArgs(id, projectA, map[string]any{})))
	var after map[string]*dto.MetricFamily
	waitFor(t, 30*time.Second, "the restore to end", func() bool {
		after = scrapeMetrics(t, endpoint)
		return series(after, "karbor_protection_operations_total", "operation", "restore").found
	})
	exception(t, call(t, c, "show_checkpoint", member, map[string]any{"provider_id": noopID, "checkpoint_id": unknown}), "karbor.exception.CheckpointNotFound")
	// The client rebuilds exceptions of allowed modules only: oslo's
	// NoSuchMethod reaches it as a RemoteError naming it.
	e := exception(t, call(t, c, "no_such_method", member, map[string]any{}), "oslo_messaging.rpc.client.RemoteError")
	assert.Contains(t, e.Str, "NoSuchMethod")
	waitFor(t, 10*time.Second, "the calls' slots to be free", func() bool {
		after = scrapeMetrics(t, endpoint)
		// Both gauges read the busy slots, each at its own moment of the
		// scrape: the last worker may free its slot between the two.
		return series(after, "karbor_protection_rpc_requests_in_flight").value == 0 &&
			series(after, "karbor_protection_rpc_handler_slots_free").value == 64 &&
			series(after, "karbor_protection_rpc_requests_total", "method", "unknown").found
	})

	problems, err := promlint.NewWithMetricFamilies(families(after)).Lint()
	require.NoError(t, err)
	assert.Empty(t, problems, "what the service serves follows Prometheus' conventions")

	// Calls: by method and outcome; a method nobody serves is not a label.
	for _, c := range []struct {
		method, outcome string
		want            float64
	}{
		{"protect", "ok", 1},
		{"restore", "ok", 1},
		{"show_checkpoint", "CheckpointNotFound", 1},
		{"unknown", "NoSuchMethod", 1},
	} {
		assert.Equal(t, c.want, series(after, "karbor_protection_rpc_requests_total", "method", c.method, "outcome", c.outcome).value, "%s %s", c.method, c.outcome)
	}
	assert.False(t, series(after, "karbor_protection_rpc_requests_total", "method", "no_such_method").found)
	protectCall := series(after, "karbor_protection_rpc_request_duration_seconds", "method", "protect")
	assert.Equal(t, 1.0, protectCall.count)
	assert.Positive(t, protectCall.sum)
	assert.Equal(t, 64.0, series(after, "karbor_protection_rpc_handler_slots_free").value, "executor_thread_pool_size, all free")
	assert.Equal(t, 1.0, series(after, "karbor_protection_amqp_consuming").value)
	assert.Equal(t, 0.0, series(after, "karbor_protection_amqp_reconnects_total").value)

	// Operations and their tasks: Initiate, four hooks per resource,
	// Complete, for the protect and for the restore; nothing reverted.
	assert.Equal(t, 1.0, series(after, "karbor_protection_operations_total", "operation", "protect", "status", "available").value)
	assert.Equal(t, 1.0, series(after, "karbor_protection_operations_total", "operation", "restore", "status", "success").value)
	protectRun := series(after, "karbor_protection_operation_duration_seconds", "operation", "protect", "status", "available")
	assert.Equal(t, 1.0, protectRun.count)
	assert.Positive(t, protectRun.sum)
	assert.Equal(t, 0.0, series(after, "karbor_protection_operations_in_flight", "operation", "protect").value)
	assert.Equal(t, 0.0, series(after, "karbor_protection_operations_in_flight", "operation", "restore").value)
	assert.Equal(t, float64(2*(4*resources+2)), series(after, "karbor_protection_tasks_run_total", "outcome", "success").value)
	assert.Equal(t, 0.0, series(after, "karbor_protection_tasks_run_total", "outcome", "failure").value)
	assert.Equal(t, 0.0, series(after, "karbor_protection_tasks_reverted_total", "outcome", "success").value)

	// The bank: the checkpoint's writes and reads, no errors (the unknown
	// checkpoint is an answer, not a failure of the bank).
	assert.Positive(t, series(after, "karbor_protection_bank_request_duration_seconds", "plugin", "karbor-fs-bank-plugin", "operation", "update").count)
	assert.Positive(t, series(after, "karbor_protection_bank_request_duration_seconds", "plugin", "karbor-fs-bank-plugin", "operation", "get").count)
	assert.False(t, series(after, "karbor_protection_bank_request_errors_total").found)
	assert.Equal(t, 1.0, series(after, "karbor_protection_bank_leases", "plugin", "karbor-fs-bank-plugin", "state", "valid").value)

	// No database: nothing queued, nothing dropped.
	assert.Equal(t, 0.0, series(after, "karbor_protection_database_writes_queued").value)
	assert.False(t, series(after, "karbor_protection_database_writes_dropped_total").found)
}

func families(m map[string]*dto.MetricFamily) []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(m))
	for _, f := range m {
		out = append(out, f)
	}
	return out
}
