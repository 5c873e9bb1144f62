package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// The benchmarks run the built binary (without the race detector under
// make bench) on the real broker and call it through our rpc client.

var benchTarget = rpc.Target{Topic: topic, Version: "1.0"}

func dialClient(b *testing.B, url string) *rpc.Client {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := rpc.Dial(ctx, rpc.ClientConfig{TransportURL: url, Exchange: controlExchange, ResponseTimeout: 5 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	return c
}

// BenchmarkProtect measures a protect of n noop resources from the protect
// call (through our rpc client, with the context karbor-api sends) until the
// checkpoint is available. Completion is detected by polling the status at
// the head of the checkpoint's index.json in the bank every 100 µs (a
// show_checkpoint poll would itself read and send the whole checkpoint,
// megabytes at 10,000 resources); one show_checkpoint per operation, outside
// the timing, confirms it through RPC. reply-ms is the protect call's own
// round trip (checkpoint created, graph built and stored, flow built).
func BenchmarkProtect(b *testing.B) {
	url := rpctest.Vhost(b)
	s := newService(b, url, serviceConfig{})
	c := dialClient(b, url)
	reqCtx := requestContext(b, projectA, false)
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			args := protectArgs("55555555-2222-4333-8444-555555555555", projectA, n)
			var reply time.Duration
			for b.Loop() {
				start := time.Now()
				raw, err := c.Call(context.Background(), benchTarget, "protect", args, reqCtx)
				if err != nil {
					b.Fatal(err)
				}
				reply += time.Since(start)
				var id string
				if err := json.Unmarshal(raw, &id); err != nil {
					b.Fatal(err)
				}
				waitAvailable(b, filepath.Join(s.bankPath(), "karbor", "checkpoints", id, "index.json"))
				b.StopTimer()
				confirmAvailable(b, c, reqCtx, id)
				b.StartTimer()
			}
			b.ReportMetric(float64(reply.Microseconds())/1000/float64(b.N), "reply-ms")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "available-ms")
		})
	}
}

func waitAvailable(b *testing.B, indexPath string) {
	tick := time.NewTicker(100 * time.Microsecond)
	defer tick.Stop()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		status, err := readStatusHead(indexPath)
		switch {
		case err == nil && status == "available":
			return
		case err == nil && status == "error":
			b.Fatalf("%s: protect failed", indexPath)
		case time.Now().After(deadline):
			b.Fatalf("%s: not available within 5 minutes (%q, %v)", indexPath, status, err)
		}
		<-tick.C
	}
}

func confirmAvailable(b *testing.B, c *rpc.Client, reqCtx map[string]any, id string) {
	raw, err := c.Call(context.Background(), benchTarget, "show_checkpoint", map[string]any{"provider_id": noopID, "checkpoint_id": id}, reqCtx)
	if err != nil {
		b.Fatal(err)
	}
	var cp struct{ Status string }
	if err := json.Unmarshal(raw, &cp); err != nil || cp.Status != "available" {
		b.Fatalf("show_checkpoint %s: %q, %v", id, cp.Status, err)
	}
}

// BenchmarkShowProvider measures the show_provider round trip through our
// client and the running service, and in the same run its floor: a bare
// amqp091-go request/reply echo on the same broker moving bodies of the
// same sizes (no envelope, no JSON, auto-ack, the default exchange), and the
// same echo doing every duty of oslo's protocol (topic exchange, message
// properties, acks, publisher confirms). Each echo server runs in a process
// of its own, as the service does. The service is also called by a client
// as cheap as the echo's (rawCaller), which sets the service's own cost
// apart from our client's. Blocks of calls alternate between the stacks so
// that all see the same broker conditions. It reports each one's latency
// and the CPU time its server process spent per call, and the service's
// resident memory once it has started, answered one call and then been
// idle for two seconds (VmRSS from /proc).
func BenchmarkShowProvider(b *testing.B) {
	url := rpctest.Vhost(b)
	s := newService(b, url, serviceConfig{})
	c := dialClient(b, url)
	reqCtx := requestContext(b, projectA, false)
	ours := serviceStack(b, c, s, "oslo", "show_provider", map[string]any{"provider_id": noopID}, reqCtx)
	if err := ours.call(); err != nil {
		b.Fatal(err)
	}
	idle := time.NewTimer(2 * time.Second)
	<-idle.C
	idleRSS := vmRSSMB(b, s.pid())

	reqSize, replySize := osloSizes(b, c, reqCtx, "show_provider", map[string]any{"provider_id": noopID})
	allDuties := echoStack(b, url, reqSize, replySize, true)
	raw := rawStack(b, url, s, "show_provider", map[string]any{"provider_id": noopID}, reqCtx)
	stacks := []*benchStack{ours, echoStack(b, url, reqSize, replySize, false), allDuties, raw}
	runBlocks(b, stacks)
	reportLatency(b, stacks[:3])
	per := func(st *benchStack) float64 { return float64(st.time.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(raw)/1000, raw.name+"-µs/call")
	b.ReportMetric(raw.cpuPerCall(float64(b.N)), raw.name+"-server-cpu-µs/call")
	b.ReportMetric(per(raw)/per(allDuties), raw.name+"-ratio-vs-all-duties")
	b.ReportMetric(raw.cpuPerCall(float64(b.N))/allDuties.cpuPerCall(float64(b.N)), raw.name+"-cpu-ratio-vs-all-duties")
	b.ReportMetric(idleRSS, "idle-RSS-MB") // after ResetTimer, which drops metrics
}

// BenchmarkListProviders16 measures list_providers with 16 concurrent
// callers against the all-duties echo of the same sizes, in interleaved
// rounds: each one's throughput, the CPU time its server process spent per
// call, and the ratios; the service through our client and through a
// client as cheap as the echo's (rawCaller).
func BenchmarkListProviders16(b *testing.B) {
	const callers = 16
	url := rpctest.Vhost(b)
	s := newService(b, url, serviceConfig{})
	c := dialClient(b, url)
	reqCtx := requestContext(b, projectA, false)
	args := map[string]any{"marker": nil, "limit": nil, "sort_keys": nil, "sort_dirs": nil, "filters": nil}
	reqSize, replySize := osloSizes(b, c, reqCtx, "list_providers", args)
	stacks := []*benchStack{serviceStack(b, c, s, "oslo", "list_providers", args, reqCtx), echoStack(b, url, reqSize, replySize, true),
		rawStack(b, url, s, "list_providers", args, reqCtx)}
	warmUp(b, stacks)
	const rounds = 8
	per := max(1, b.N/(callers*rounds))
	b.ResetTimer()
	for range rounds {
		for _, st := range stacks {
			st.measure(func() {
				var wg sync.WaitGroup
				for range callers {
					wg.Go(func() {
						for range per {
							if err := st.call(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
			})
		}
	}
	b.StopTimer()
	calls := float64(per * callers * rounds)
	rate := func(st *benchStack) float64 { return calls / st.time.Seconds() }
	for _, st := range stacks {
		b.ReportMetric(rate(st), st.name+"-calls/s")
		b.ReportMetric(st.cpuPerCall(calls), st.name+"-server-cpu-µs/call")
		st.reportCPU(b, calls)
	}
	b.ReportMetric(rate(stacks[0])/rate(stacks[1]), "throughput-ratio-vs-all-duties")
	b.ReportMetric(stacks[0].cpuPerCall(calls)/stacks[1].cpuPerCall(calls), "cpu-ratio-vs-all-duties")
	b.ReportMetric(rate(stacks[2])/rate(stacks[1]), stacks[2].name+"-throughput-ratio-vs-all-duties")
	b.ReportMetric(stacks[2].cpuPerCall(calls)/stacks[1].cpuPerCall(calls), stacks[2].name+"-cpu-ratio-vs-all-duties")
}

// BenchmarkCheckpointReads measures the reads of a dashboard refresh
// against a bank of 10,000 checkpoints of the caller's project:
// show_checkpoint and list_checkpoints (the newest 50), each next to
// show_provider in the same run, with the service's CPU time per call.
// The allocations of each call in the service are measured in process by
// pkg/manager's BenchmarkReads. The periodic recovery is off (only the
// start-up one runs, before the service consumes), so that no scan of the
// bank lands among the measured calls; and the calls start once the bank's
// index directories are old enough for the file-system bank to keep their
// listings, so that what is measured is the steady state of a dashboard
// refreshing a bank that changes now and then.
func BenchmarkCheckpointReads(b *testing.B) {
	const total, page = 10000, 50
	url := rpctest.Vhost(b)
	s := configureService(b, url, serviceConfig{extraDefault: "periodic_interval = 0"})
	ids := writeCheckpoints(b, s.bankPath(), projectA, total)
	s.start()
	waitListingsCacheable(b, filepath.Join(s.bankPath(), "karbor", "indices", "by-provider", noopID, projectA))
	c := dialClient(b, url)
	reqCtx := requestContext(b, projectA, false)
	listArgs := map[string]any{"provider_id": noopID, "marker": nil, "limit": page,
		"sort_keys": nil, "sort_dirs": []string{"desc"}, "filters": map[string]any{}, "all_tenants": false}
	stacks := []*benchStack{
		serviceStack(b, c, s, "show_provider", "show_provider", map[string]any{"provider_id": noopID}, reqCtx),
		serviceStack(b, c, s, "show_checkpoint", "show_checkpoint", map[string]any{"provider_id": noopID, "checkpoint_id": ids[total/2]}, reqCtx),
		serviceStack(b, c, s, "list_checkpoints", "list_checkpoints", listArgs, reqCtx),
	}
	raw, err := c.Call(context.Background(), benchTarget, "list_checkpoints", listArgs, reqCtx)
	if err != nil {
		b.Fatal(err)
	}
	var listed []json.RawMessage
	if err := json.Unmarshal(raw, &listed); err != nil || len(listed) != page {
		b.Fatalf("list_checkpoints gave %d checkpoints (%v)", len(listed), err)
	}
	runBlocks(b, stacks)
	reportLatency(b, stacks)
}

// listingSettleTime is how long after its last change the file-system
// bank keeps a directory's listing (bank/fs: a change within a file-system
// timestamp tick of a read must not hide behind a cached listing).
const listingSettleTime = 2 * time.Second

// waitListingsCacheable waits until no directory of dirs has changed for
// listingSettleTime (their modification time: adding an entry sets it).
func waitListingsCacheable(b *testing.B, dirs ...string) {
	b.Helper()
	var last time.Time
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil {
			b.Fatal(err)
		}
		if st.ModTime().After(last) {
			last = st.ModTime()
		}
	}
	// A margin for the coarse clock of file-system timestamps.
	settled := time.NewTimer(time.Until(last.Add(listingSettleTime + 50*time.Millisecond)))
	defer settled.Stop()
	<-settled.C
}

// writeCheckpoints writes n available checkpoints of project into a
// file-system bank at path, in the Python layout (index.json and the three
// indices), a second apart, and returns their ids.
func writeCheckpoints(b *testing.B, path, project string, n int) []string {
	b.Helper()
	const base = 1588291200 // 2020-05-01T00:00:00Z
	root := filepath.Join(path, "karbor")
	planID := "55555555-2222-4333-8444-555555555555"
	ids := make([]string, n)
	for i := range ids {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i*7919%n, i)
		ids[i] = id
		ts := int64(base + i)
		date := time.Unix(ts, 0).UTC().Format(time.DateOnly)
		index := fmt.Sprintf(`{"version": "0.9", "id": "%s", "status": "available", "owner_id": "9c4014a6-0890-420c-9748-3c928b5f9123", `+
			`"provider_id": "%s", "project_id": "%s", "protection_plan": {"id": "%s", "name": "plan", "provider_id": "%s", "resources": []}, `+
			`"extra_info": null, "created_at": "%s", "timestamp": %d, "resource_graph": "[{}, []]"}`,
			id, noopID, project, planID, noopID, date, ts)
		writeBankFile(b, filepath.Join(root, "checkpoints", id, "index.json"), index)
		entry := fmt.Sprintf("%d@%s", ts, id)
		for _, dir := range []string{
			filepath.Join(root, "indices", "by-provider", noopID, project),
			filepath.Join(root, "indices", "by-date", date, project),
			filepath.Join(root, "indices", "by-plan", planID, project, date),
		} {
			writeBankFile(b, filepath.Join(dir, entry), id)
		}
	}
	return ids
}

func writeBankFile(b *testing.B, path, content string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

// benchStack is one request/reply implementation under measurement: its
// calls' wall time and the CPU time its server process, the broker and
// this process (the callers) spent meanwhile.
type benchStack struct {
	name   string
	call   func() error
	pid    int // the server's process
	time   time.Duration
	cpu    time.Duration
	broker time.Duration
	client time.Duration
}

// serviceStack calls method with args through our client and the service.
func serviceStack(b *testing.B, c *rpc.Client, s *service, name, method string, args, reqCtx map[string]any) *benchStack {
	return &benchStack{name: name, pid: s.pid(), call: func() error {
		_, err := c.Call(context.Background(), benchTarget, method, args, reqCtx)
		return err
	}}
}

// rawStack calls method with args through a rawCaller and the service.
func rawStack(b *testing.B, url string, s *service, method string, args, reqCtx map[string]any) *benchStack {
	r := startRawCaller(b, url, controlExchange, topic, method, args, reqCtx)
	return &benchStack{name: "raw-client", pid: s.pid(), call: r.call}
}

// echoStack starts an echo floor (bare, or with every duty).
func echoStack(b *testing.B, url string, reqSize, replySize int, duties bool) *benchStack {
	e := startEcho(b, url, reqSize, replySize, duties)
	name := "bare"
	if duties {
		name = "all-duties"
	}
	return &benchStack{name: name, pid: e.serverPID, call: e.call}
}

// measure runs fn and adds its wall time and the CPU times of the
// server, the broker and the callers.
func (st *benchStack) measure(fn func()) {
	// This process's own reading is next to fn on both sides, so that the
	// callers' CPU time leaves out the reading of the others'.
	broker, self := rpctest.BrokerPID(), os.Getpid()
	cpu, bcpu, ccpu := rpctest.ProcessCPU(st.pid), rpctest.ProcessCPU(broker), rpctest.ProcessCPU(self)
	start := time.Now()
	fn()
	st.time += time.Since(start)
	st.client += rpctest.ProcessCPU(self) - ccpu
	st.cpu += rpctest.ProcessCPU(st.pid) - cpu
	st.broker += rpctest.ProcessCPU(broker) - bcpu
}

func (st *benchStack) cpuPerCall(calls float64) float64 {
	return float64(st.cpu.Nanoseconds()) / 1000 / calls
}

// reportCPU reports the broker's and the callers' CPU time per call: with
// the server's, where a stack's calls spend the machine.
func (st *benchStack) reportCPU(b *testing.B, calls float64) {
	if rpctest.BrokerPID() != 0 {
		b.ReportMetric(float64(st.broker.Nanoseconds())/1000/calls, st.name+"-broker-cpu-µs/call")
	}
	b.ReportMetric(float64(st.client.Nanoseconds())/1000/calls, st.name+"-client-cpu-µs/call")
}

func warmUp(b *testing.B, stacks []*benchStack) {
	for range 20 {
		for _, st := range stacks {
			if err := st.call(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// runBlocks makes b.N calls through each stack, one caller, a block of
// calls at a time, the stacks in turn, so that all see the same broker
// conditions.
func runBlocks(b *testing.B, stacks []*benchStack) {
	const block = 50
	warmUp(b, stacks)
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		for _, st := range stacks {
			st.measure(func() {
				for range min(block, b.N-done) {
					if err := st.call(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	b.StopTimer()
}

// reportLatency reports each stack's latency and server CPU per call, and
// the first stack's ratios to each other one.
func reportLatency(b *testing.B, stacks []*benchStack) {
	n := float64(b.N)
	per := func(st *benchStack) float64 { return float64(st.time.Nanoseconds()) / n }
	for _, st := range stacks {
		b.ReportMetric(per(st)/1000, st.name+"-µs/call")
		b.ReportMetric(st.cpuPerCall(n), st.name+"-server-cpu-µs/call")
		st.reportCPU(b, n)
	}
	first := stacks[0]
	for _, st := range stacks[1:] {
		if first.name == "oslo" {
			b.ReportMetric(per(first)/per(st), "ratio-vs-"+st.name)
			b.ReportMetric(first.cpuPerCall(n)/st.cpuPerCall(n), "cpu-ratio-vs-"+st.name)
		} else {
			b.ReportMetric(per(st)/per(first), st.name+"-ratio-vs-"+first.name)
			b.ReportMetric(st.cpuPerCall(n)/first.cpuPerCall(n), st.name+"-cpu-ratio-vs-"+first.name)
		}
	}
}

// vmRSSMB reads a process's resident set size in MB.
func vmRSSMB(b *testing.B, pid int) float64 { return procStatusMB(b, pid, "VmRSS") }

// procStatusMB reads a size in kB from /proc/<pid>/status (VmRSS, VmHWM...)
// in MB.
func procStatusMB(tb testing.TB, pid int, key string) float64 {
	tb.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				tb.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	tb.Fatalf("no %s", key)
	return 0
}

// osloSizes are the sizes of a request and its reply body as oslo sends
// them: the double-encoded envelope with this request's arguments and
// context, and the reply envelope around the result.
func osloSizes(b *testing.B, c *rpc.Client, reqCtx map[string]any, method string, args map[string]any) (int, int) {
	id := randomID
	msg := map[string]any{"method": method, "args": args, "version": "1.0",
		"_msg_id": id(), "_reply_q": c.ReplyQueue(), "_timeout": nil, "_unique_id": id()}
	for k, v := range reqCtx {
		msg["_context_"+k] = v
	}
	result, err := c.Call(context.Background(), benchTarget, method, args, reqCtx)
	if err != nil {
		b.Fatal(err)
	}
	reply := map[string]any{"result": result, "failure": nil, "ending": true, "_msg_id": id(), "_unique_id": id()}
	envelope := func(inner map[string]any) int {
		raw, err := json.Marshal(inner)
		if err != nil {
			b.Fatal(err)
		}
		out, err := json.Marshal(map[string]any{"oslo.version": "2.0", "oslo.message": string(raw)})
		if err != nil {
			b.Fatal(err)
		}
		return len(out)
	}
	return envelope(msg), envelope(reply)
}
