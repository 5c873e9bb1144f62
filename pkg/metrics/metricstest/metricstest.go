// Package metricstest is what the benchmarks of the metrics' cost share:
// the same work run with the metrics off and on, in turns within one run,
// its wall and CPU time, and how they are reported.
package metricstest

import (
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

// Comparison holds the runs of each side, in the order they ran.
type Comparison struct {
	off, on []use
}

// use is the wall and CPU time of one run.
type use struct{ wall, cpu time.Duration }

// Off runs fn as a run without the metrics.
func (c *Comparison) Off(fn func()) { c.off = append(c.off, measure(fn)) }

// On runs fn as a run with the metrics.
func (c *Comparison) On(fn func()) { c.on = append(c.on, measure(fn)) }

// measure runs fn. The CPU time is the process's (every goroutine's), so
// that work fn hands to others counts. A garbage collection first, outside
// the measure, gives every run the same heap to start from: otherwise the
// garbage of one side is collected, at random, on the time of the other.
func measure(fn func()) use {
	runtime.GC()
	cpu := cpuTime()
	start := time.Now()
	fn()
	return use{wall: time.Since(start), cpu: cpuTime() - cpu}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Report reports the mean wall and CPU time per unit (perRun units in each
// run) with the metrics off and on, and the ratios on/off: x-metrics-off
// (wall) and cpu-x-metrics-off, each the median of the ratios of the runs
// made one after the other, which a burst of load on a shared machine
// moves less than it moves the means.
func (c *Comparison) Report(b *testing.B, perRun float64, unit string) {
	b.Helper()
	pairs := min(len(c.off), len(c.on))
	if pairs == 0 {
		return
	}
	var offSum, onSum use
	wall, cpu := make([]float64, 0, pairs), make([]float64, 0, pairs)
	for i := range pairs {
		off, on := c.off[i], c.on[i]
		offSum.wall, offSum.cpu = offSum.wall+off.wall, offSum.cpu+off.cpu
		onSum.wall, onSum.cpu = onSum.wall+on.wall, onSum.cpu+on.cpu
		wall = append(wall, float64(on.wall)/float64(off.wall))
		if off.cpu > 0 {
			cpu = append(cpu, float64(on.cpu)/float64(off.cpu))
		}
	}
	n := perRun * float64(pairs)
	b.ReportMetric(float64(offSum.wall.Nanoseconds())/n, "off-ns/"+unit)
	b.ReportMetric(float64(onSum.wall.Nanoseconds())/n, "on-ns/"+unit)
	b.ReportMetric(float64(offSum.cpu.Nanoseconds())/n, "off-cpu-ns/"+unit)
	b.ReportMetric(float64(onSum.cpu.Nanoseconds())/n, "on-cpu-ns/"+unit)
	b.ReportMetric(median(wall), "x-metrics-off")
	if len(cpu) > 0 {
		b.ReportMetric(median(cpu), "cpu-x-metrics-off")
	}
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 0 {
		return (xs[m-1] + xs[m]) / 2
	}
	return xs[m]
}
