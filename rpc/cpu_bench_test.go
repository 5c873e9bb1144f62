package rpc

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuMeter reads the CPU time used by this process (client and server of
// every stack under test) and by the broker, when the broker is a local
// beam.smp, so that a benchmark can split each call's cost between Go and
// RabbitMQ.
type cpuMeter struct {
	brokerStats []string // /proc/<pid>/task/*/schedstat of beam.smp; nil: not local
}

type cpuSample struct{ self, broker time.Duration }

func newCPUMeter() *cpuMeter {
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, comm := range comms {
		if b, err := os.ReadFile(comm); err == nil && strings.TrimSpace(string(b)) == "beam.smp" {
			// schedstat's first field is the thread's time on a CPU in
			// ns, finer than the clock ticks of /proc/<pid>/stat.
			stats, _ := filepath.Glob(filepath.Join(filepath.Dir(comm), "task", "*", "schedstat"))
			return &cpuMeter{brokerStats: stats}
		}
	}
	return &cpuMeter{}
}

func (m *cpuMeter) sample() cpuSample {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s := cpuSample{self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	for _, f := range m.brokerStats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		field, _, _ := bytes.Cut(b, []byte(" "))
		ns, _ := strconv.ParseInt(string(field), 10, 64)
		s.broker += time.Duration(ns)
	}
	return s
}

// local reports whether the broker's CPU time is measured.
func (m *cpuMeter) local() bool { return len(m.brokerStats) > 0 }

// cpuUse accumulates the CPU time of one stack over its runs.
type cpuUse struct{ self, broker time.Duration }

func (u *cpuUse) add(from, to cpuSample) {
	u.self += to.self - from.self
	u.broker += to.broker - from.broker
}
