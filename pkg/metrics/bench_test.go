package metrics_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/metrics"
	"github.com/gokarbor/karbor-protection/pkg/metrics/metricstest"
	"github.com/gokarbor/karbor-protection/rpc"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// startServer runs an RPC server answering "ret_str" on topic, with obs as
// its observer (nil: none), until the benchmark ends.
func startServer(b *testing.B, url, topic string, obs rpc.Observer, log *logrus.Entry) {
	b.Helper()
	cfg := rpc.ServerConfig{TransportURL: url, Topic: topic, Server: "bench-host", Logger: log}
	if obs != nil {
		cfg.Observer = obs
	}
	srv, err := rpc.NewServer(cfg,
		rpc.NewEndpoint("Endpoint", "1.0").Handle("ret_str", func(context.Context, *rpc.Call) (any, error) { return "hello", nil }))
	require.NoError(b, err)
	if m, ok := obs.(*metrics.Metrics); ok {
		m.WatchRPCServer(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	select {
	case <-srv.Ready():
	case <-time.After(30 * time.Second):
		b.Fatalf("server not ready: %v", srv.Health())
	}
}

// BenchmarkMetricsPerCall measures what the metrics cost an RPC call, our
// client to our server through the broker: two servers on the same broker,
// one with the metrics and one without, called in turns (blocks of calls)
// within the same run, by one caller and by 16 at once. It reports the wall
// and CPU time (client and server together; the broker's is not counted)
// per call of each and their ratios (x-metrics-off, cpu-x-metrics-off;
// the target is below 1.02).
func BenchmarkMetricsPerCall(b *testing.B) {
	for _, callers := range []int{1, 16} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			url := rpctest.Vhost(b)
			l := logrus.New()
			l.SetLevel(logrus.WarnLevel)
			log := logrus.NewEntry(l)
			startServer(b, url, "bench_off", nil, log)
			startServer(b, url, "bench_on", metrics.New(), log)
			dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := rpc.Dial(dctx, rpc.ClientConfig{TransportURL: url, Logger: log})
			require.NoError(b, err)
			b.Cleanup(c.Close)
			reqCtx := map[string]any{"request_id": "req-bench", "user_id": "u-1", "project_id": "p-1"}
			calls := func(topic string, n int) func() {
				target := rpc.Target{Topic: topic, Version: "1.0"}
				return func() {
					var wg sync.WaitGroup
					for range callers {
						wg.Go(func() {
							for range n {
								if _, err := c.Call(context.Background(), target, "ret_str", nil, reqCtx); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
				}
			}
			calls("bench_off", 20)() // warm up both
			calls("bench_on", 20)()

			const block = 50 // calls per caller between switches
			var cmp metricstest.Comparison
			off, on := calls("bench_off", block), calls("bench_on", block)
			b.ResetTimer()
			for done, i := 0, 0; done < b.N; done, i = done+block*callers, i+1 {
				if i%2 == 0 {
					cmp.Off(off)
					cmp.On(on)
				} else {
					cmp.On(on)
					cmp.Off(off)
				}
			}
			b.StopTimer()
			cmp.Report(b, float64(block*callers), "call")
		})
	}
}

// BenchmarkObserverCalls is what the metrics do on the path of one RPC
// call and of one operation flow, alone: the absolute cost the ratios
// above are made of.
func BenchmarkObserverCalls(b *testing.B) {
	m := metrics.New()
	b.Run("per-call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.CallDone("protect", "ok", time.Millisecond)
		}
	})
	b.Run("per-flow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.OperationStarted("protect")
			m.TasksDone(4002, 0, 0, 0)
			m.OperationEnded("protect", "available", time.Second)
		}
	})
	b.Run("per-bank-request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.BankRequest("karbor-fs-bank-plugin", "update", time.Millisecond, false)
		}
	})
}
