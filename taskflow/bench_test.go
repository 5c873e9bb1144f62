package taskflow_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/taskflow"
)

// BenchmarkEngineOverhead runs a karbor-shaped flow of 10,002 tasks (2,500
// resources × 4 hooks, Initiate, Complete) whose bodies only count, and
// measures, in the same run, calling the same tasks' Execute directly in a
// loop: ns/task is the engine's cost per task, x-direct the ratio.
func BenchmarkEngineOverhead(b *testing.B) {
	for _, workers := range []int{1, 2, taskflow.DefaultWorkers} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var calls atomic.Int64
			body := func(context.Context) (any, error) {
				calls.Add(1)
				return nil, nil
			}
			flow, tasks := protectFlow(resourceForest(2500), body)
			c, err := taskflow.Compile(flow)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()

			start := time.Now()
			for range b.N {
				for _, t := range tasks {
					if _, err := t.Execute(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			direct := time.Since(start)

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for range b.N {
				if _, err := c.Run(ctx, taskflow.Workers(workers)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)

			if got, want := calls.Load(), int64(2*b.N*len(tasks)); got != want {
				b.Fatalf("%d calls, want %d", got, want)
			}
			n := float64(b.N * c.Len())
			engine := float64(b.Elapsed().Nanoseconds()) / n
			baseline := float64(direct.Nanoseconds()) / n
			b.ReportMetric(engine, "ns/task")
			b.ReportMetric(baseline, "direct-ns/task")
			b.ReportMetric(engine/baseline, "x-direct")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/task")
		})
	}
}

// BenchmarkParallelSpeedup runs 1,000 independent tasks that each block for
// 1 ms on 64 workers. The ideal wall time is ceil(1000/64) ms = 16 ms;
// x-ideal is the measured time over it (target ≤ 1.2). A 1 ms sleep lasts
// longer than 1 ms (timer granularity, wake-up latency), so the ideal for
// the blocks the tasks really had, ceil(1000/64) × their mean length, is
// reported too (x-ideal-actual). The same sleeps on a hand-written pool of
// 64 goroutines, measured in the same run, are the practical floor (x-pool).
func BenchmarkParallelSpeedup(b *testing.B) {
	const tasks, workers, block = 1000, 64, time.Millisecond
	var blocked atomic.Int64 // ns the engine's tasks really slept
	sleep := func(context.Context) (any, error) {
		start := time.Now()
		time.Sleep(block)
		blocked.Add(int64(time.Since(start)))
		return nil, nil
	}
	u := taskflow.NewUnordered("sleepers")
	for i := range tasks {
		u.Add(taskflow.NewTask(fmt.Sprint(i), sleep))
	}
	c, err := taskflow.Compile(u)
	if err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	for range b.N {
		plainPool(tasks, workers, block)
	}
	pool := time.Since(start) / time.Duration(b.N)

	b.ResetTimer()
	for range b.N {
		if _, err := c.Run(context.Background(), taskflow.Workers(workers)); err != nil {
			b.Fatal(err)
		}
	}
	run := b.Elapsed() / time.Duration(b.N)
	rounds := time.Duration((tasks + workers - 1) / workers)
	ideal := rounds * block
	idealActual := rounds * time.Duration(blocked.Load()/int64(tasks*b.N))
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(run), "ms/run")
	b.ReportMetric(ms(ideal), "ideal-ms")
	b.ReportMetric(float64(run)/float64(ideal), "x-ideal")
	b.ReportMetric(ms(idealActual), "ideal-actual-ms")
	b.ReportMetric(float64(run)/float64(idealActual), "x-ideal-actual")
	b.ReportMetric(ms(pool), "pool-ms")
	b.ReportMetric(float64(run)/float64(pool), "x-pool")
}

func plainPool(tasks, workers int, block time.Duration) {
	jobs := make(chan int, tasks)
	for i := range tasks {
		jobs <- i
	}
	close(jobs)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				time.Sleep(block)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkProtect10000Resources is the engine's share of a protect of
// 10,000 noop resources (40,002 tasks): building the flow, compiling it and
// running it.
func BenchmarkProtect10000Resources(b *testing.B) {
	rs := resourceForest(10000)
	var build, compile time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		flow, _ := protectFlow(rs, noop)
		t1 := time.Now()
		c, err := taskflow.Compile(flow)
		if err != nil {
			b.Fatal(err)
		}
		build, compile = build+t1.Sub(t0), compile+time.Since(t1)
		if _, err := c.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	total := b.Elapsed()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(b.N) }
	b.ReportMetric(ms(build), "build-ms")
	b.ReportMetric(ms(compile), "compile-ms")
	b.ReportMetric(ms(total-build-compile), "run-ms")
	b.ReportMetric(ms(total), "total-ms")
}
