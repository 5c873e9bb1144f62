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
// properties, acks, publisher confirms). Blocks of calls alternate between
// the three so that all see the same broker conditions. It also reports the
// service's resident memory once it has started, answered one call and then
// been idle for two seconds (VmRSS from /proc).
func BenchmarkShowProvider(b *testing.B) {
	url := rpctest.Vhost(b)
	s := newService(b, url, serviceConfig{})
	c := dialClient(b, url)
	reqCtx := requestContext(b, projectA, false)
	args := map[string]any{"provider_id": noopID}
	ours := func() error {
		_, err := c.Call(context.Background(), benchTarget, "show_provider", args, reqCtx)
		return err
	}
	if err := ours(); err != nil {
		b.Fatal(err)
	}
	idle := time.NewTimer(2 * time.Second)
	<-idle.C
	idleRSS := vmRSSMB(b, s.pid())

	reqSize, replySize := osloSizes(b, c, reqCtx)
	stacks := []*benchStack{
		{name: "oslo", call: ours},
		{name: "bare", call: startEcho(b, url, reqSize, replySize, false).call},
		{name: "all-duties", call: startEcho(b, url, reqSize, replySize, true).call},
	}
	for range 20 { // warm every path up
		for _, st := range stacks {
			if err := st.call(); err != nil {
				b.Fatal(err)
			}
		}
	}
	const block = 50
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		for _, st := range stacks {
			start := time.Now()
			for range min(block, b.N-done) {
				if err := st.call(); err != nil {
					b.Fatal(err)
				}
			}
			st.time += time.Since(start)
		}
	}
	b.StopTimer()
	per := func(st *benchStack) float64 { return float64(st.time.Nanoseconds()) / float64(b.N) }
	for _, st := range stacks {
		b.ReportMetric(per(st)/1000, st.name+"-µs/call")
	}
	b.ReportMetric(per(stacks[0])/per(stacks[1]), "ratio-vs-bare")
	b.ReportMetric(per(stacks[0])/per(stacks[2]), "ratio-vs-all-duties")
	b.ReportMetric(idleRSS, "idle-RSS-MB") // after ResetTimer, which drops metrics
}

type benchStack struct {
	name string
	call func() error
	time time.Duration
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

// osloSizes are the sizes of a show_provider request and reply body as oslo
// sends them: the double-encoded envelope with this request's arguments and
// context, and the reply envelope around the provider dict.
func osloSizes(b *testing.B, c *rpc.Client, reqCtx map[string]any) (int, int) {
	id := randomID
	msg := map[string]any{"method": "show_provider", "args": map[string]any{"provider_id": noopID}, "version": "1.0",
		"_msg_id": id(), "_reply_q": c.ReplyQueue(), "_timeout": nil, "_unique_id": id()}
	for k, v := range reqCtx {
		msg["_context_"+k] = v
	}
	result, err := c.Call(context.Background(), benchTarget, "show_provider", map[string]any{"provider_id": noopID}, reqCtx)
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
