package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gokarbor/karbor-protection/bank/swift/swifttest"
	"github.com/gokarbor/karbor-protection/rpc"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// BenchmarkProtectSwiftBank measures a protect of 1,000 noop resources from
// the call until the checkpoint is available, on the Swift bank (karbor's
// noop.conf with its swift bank, on the real Swift behind Keystone) and, in
// the same run, on the file-system bank. Both detect completion the same
// way, a show_checkpoint every 20 ms; x-of-fs is the Swift bank's time as a
// multiple of the file-system bank's.
func BenchmarkProtectSwiftBank(b *testing.B) {
	acct := swifttest.Keystone(b)
	container := "karbor-bench-" + uuid.NewString()[:8]
	b.Cleanup(func() { acct.RemoveContainer(b, container) })
	const n = 1000
	swiftURL, fsURL := rpctest.Vhost(b), rpctest.Vhost(b)
	newService(b, swiftURL, serviceConfig{provider: fmt.Sprintf(pythonSwiftNoop, acct.AuthURL, acct.User, acct.Password, acct.Project, container)})
	newService(b, fsURL, serviceConfig{})
	swiftClient, fsClient := dialClient(b, swiftURL), dialClient(b, fsURL)
	reqCtx := requestContext(b, projectA, false)
	args := protectArgs("55555555-2222-4333-8444-555555555555", projectA, n)

	var swiftTotal, fsTotal time.Duration
	var runs int
	for b.Loop() {
		b.StopTimer()
		fsTotal += protectUntilAvailable(b, fsClient, reqCtx, args)
		b.StartTimer()
		swiftTotal += protectUntilAvailable(b, swiftClient, reqCtx, args)
		runs++
	}
	b.ReportMetric(float64(swiftTotal.Microseconds())/1000/float64(runs), "available-ms")
	b.ReportMetric(float64(fsTotal.Microseconds())/1000/float64(runs), "fs-available-ms")
	b.ReportMetric(float64(swiftTotal)/float64(fsTotal), "x-of-fs")
}

func protectUntilAvailable(b *testing.B, c *rpc.Client, reqCtx, args map[string]any) time.Duration {
	start := time.Now()
	raw, err := c.Call(context.Background(), benchTarget, "protect", args, reqCtx)
	if err != nil {
		b.Fatal(err)
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		raw, err := c.Call(context.Background(), benchTarget, "show_checkpoint", map[string]any{"provider_id": noopID, "checkpoint_id": id}, reqCtx)
		if err != nil {
			b.Fatal(err)
		}
		var cp struct{ Status string }
		if err := json.Unmarshal(raw, &cp); err != nil {
			b.Fatal(err)
		}
		switch {
		case cp.Status == "available":
			return time.Since(start)
		case cp.Status == "error":
			b.Fatalf("protect %s failed", id)
		case time.Now().After(deadline):
			b.Fatalf("protect %s: %q after 5 minutes", id, cp.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
