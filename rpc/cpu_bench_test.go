package rpc

import (
	"os"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// cpuMeter reads the CPU time used by this process (client and server of
// every stack under test) and by the broker, when the broker is a local
// beam.smp, so that a benchmark can split each call's cost between Go and
// RabbitMQ.
type cpuMeter struct{ self, broker int }

type cpuSample struct{ self, broker time.Duration }

func newCPUMeter() *cpuMeter { return &cpuMeter{self: os.Getpid(), broker: rpctest.BrokerPID()} }

func (m *cpuMeter) sample() cpuSample {
	return cpuSample{self: rpctest.ProcessCPU(m.self), broker: rpctest.ProcessCPU(m.broker)}
}

// local reports whether the broker's CPU time is measured.
func (m *cpuMeter) local() bool { return m.broker != 0 }

// cpuUse accumulates the CPU time of one stack over its runs.
type cpuUse struct{ self, broker time.Duration }

func (u *cpuUse) add(from, to cpuSample) {
	u.self += to.self - from.self
	u.broker += to.broker - from.broker
}
