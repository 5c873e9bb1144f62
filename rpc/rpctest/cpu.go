package rpctest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ProcessCPU is the CPU time process pid has used so far, summed over its
// threads' schedstat: nanoseconds, where /proc/<pid>/stat counts clock
// ticks. Zero for pid 0 or a process that is gone.
func ProcessCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total time.Duration
	for _, f := range stats {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		field, _, _ := bytes.Cut(raw, []byte(" "))
		ns, _ := strconv.ParseInt(string(field), 10, 64)
		total += time.Duration(ns)
	}
	return total
}

// BrokerPID is the process id of the local RabbitMQ's Erlang VM
// (beam.smp), for benchmarks that split a call's cost between their
// processes and the broker; 0 when the broker is not on this machine.
var BrokerPID = sync.OnceValue(func() int {
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, f := range comms {
		raw, err := os.ReadFile(f)
		if err == nil && strings.TrimSpace(string(raw)) == "beam.smp" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			return pid
		}
	}
	return 0
})
