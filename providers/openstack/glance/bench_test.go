package glance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/swift"
	"github.com/gokarbor/karbor-protection/bank/swift/swifttest"
	"github.com/gokarbor/karbor-protection/providers"
)

const mib = 1 << 20

// heapPeak samples the heap's live objects until stop is called and
// returns the peak above the level when it started. runtime/metrics reads
// do not stop the world, so sampling barely disturbs what it measures.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := read()
	peak := base
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			if v := read(); v > peak {
				peak = v
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak - base
	}
}

// vmHWM is the process's peak resident set size (Linux), 0 elsewhere.
func vmHWM() uint64 { return procStatus("VmHWM") }

// procStatus is a size line of /proc/self/status in bytes (0 when absent).
func procStatus(field string) uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// resetPeakRSS makes the peak resident size start again from the current
// one (Linux 4.0 and later) and returns the current one.
func resetPeakRSS() (uint64, error) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, fmt.Errorf("reset the peak resident size: %w", err)
	}
	return procStatus("VmRSS"), nil
}

// Protecting a 64 MiB image streams it: what the protect allocates stays
// far below the image's size.
func TestProtectMemoryBounded(t *testing.T) {
	const size = 64 * mib
	data := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(data)
	g := newFakeGlance(t)
	id := g.add(data)
	p := g.plugin(t, 10*glanceChunk)
	sec := section(t, fsBank(t, nil), id)
	ctx := context.Background()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := heapPeak()
	require.NoError(t, protectHooks{p: p}.run(ctx, args(providers.OpProtect, fakeContext(goodToken), id, nil), sec))
	peak := stop()
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("64 MiB protected with %d-byte objects: peak heap +%.2f MiB, allocated %.2f MiB in %d allocations",
		p.opts.ObjectSize, float64(peak)/mib, float64(allocated)/mib, after.Mallocs-before.Mallocs)
	// Streaming is the property asserted, not a figure: a protect that held
	// the image, or copied it once, would allocate at least its size. The
	// figures themselves are BenchmarkProtect64MiB's to report.
	assert.Less(t, allocated, uint64(size/2), "bytes allocated by the protect (the image is 64 MiB)")
}

// randomReader is an endless pseudo-random stream.
type randomReader struct{ rng *rand.ChaCha8 }

func (r randomReader) Read(p []byte) (int, error) { return r.rng.Read(p) }

// swiftBank is a Swift bank (the bank of karbor's OS Infra Provider) on the
// real Swift, in a container of its own that is emptied and deleted when
// the benchmark ends.
func swiftBank(b *testing.B) *bank.Bank {
	b.Helper()
	acct := swifttest.Keystone(b)
	container := "karbor-bench-" + uuid.NewString()[:8]
	p, err := swift.New(context.Background(), swift.Options{
		AuthURL: acct.AuthURL, User: acct.User, Key: acct.Password, TenantName: acct.Project,
		Container: container, RetryBackoff: 100 * time.Millisecond,
	})
	require.NoError(b, err)
	b.Cleanup(func() {
		assert.NoError(b, p.Close())
		acct.RemoveContainer(b, container)
	})
	return bank.New(p)
}

// benchImage is an image of size pseudo-random bytes in the real Glance,
// deleted when the benchmark ends.
func benchImage(b *testing.B, r real, size int64) string {
	b.Helper()
	ctx := context.Background()
	img, err := images.Create(ctx, r.glance, images.CreateOpts{Name: r.prefix + "-bench", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	require.NoError(b, err)
	b.Cleanup(func() { _ = deleteImage(context.Background(), r.glance, img.ID) })
	src := io.LimitReader(randomReader{rand.NewChaCha8([32]byte{2})}, size)
	require.NoError(b, imagedata.Upload(ctx, r.glance, img.ID, src).ExtractErr())
	_, err = waitActive(ctx, r.glance, img.ID, 100*time.Millisecond)
	require.NoError(b, err)
	return img.ID
}

// bareCopy is the floor a protect is measured against: the image's bytes
// downloaded from Glance and written, one object after the other, into sec
// in objects of objectSize, with nothing else (no checksum, no status or
// metadata, no waits).
func bareCopy(b *testing.B, r real, sec *bank.Section, imageID string, objectSize int) {
	ctx := context.Background()
	body, err := imagedata.Download(ctx, r.glance, imageID).Extract()
	require.NoError(b, err)
	defer func() { _ = body.Close() }()
	buf := make([]byte, objectSize)
	for i := 1; ; i++ {
		n, err := io.ReadFull(body, buf)
		if n > 0 {
			require.NoError(b, sec.PutObject(ctx, chunkPrefix+strconv.Itoa(i), bank.Object{Data: buf[:n]}))
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return
		}
		require.NoError(b, err)
	}
}

// BenchmarkProtect64MiB protects a 64 MiB image of the real Glance into a
// Swift bank on the real Swift with the default object size, and in the
// same run copies the same image with bareCopy into the same bank. Each
// iteration runs both, the bare copy first, and writes over the objects
// of the previous one. It reports both speeds, their ratio and the
// plugin's peak heap above its start.
func BenchmarkProtect64MiB(b *testing.B) {
	const size = 64 * mib
	r := newRealB(b, 10*glanceChunk)
	id := benchImage(b, r, size)
	bk := swiftBank(b)
	bareSec, pluginSec := section(b, bk, id), section(b, bk, id)
	ctx := context.Background()

	var plugin, bare time.Duration
	var peak uint64
	for b.Loop() {
		start := time.Now()
		bareCopy(b, r, bareSec, id, r.plugin.opts.ObjectSize)
		bare += time.Since(start)

		stop := heapPeak()
		start = time.Now()
		require.NoError(b, protectHooks{p: r.plugin}.run(ctx, args(providers.OpProtect, &r.rc, id, nil), pluginSec))
		plugin += time.Since(start)
		peak = max(peak, stop())
	}
	rate := func(d time.Duration) float64 { return float64(b.N) * size / mib / d.Seconds() }
	b.ReportMetric(rate(plugin), "MiB/s")
	b.ReportMetric(rate(bare), "bare-MiB/s")
	b.ReportMetric(rate(plugin)/rate(bare), "x-of-bare")
	b.ReportMetric(float64(peak)/mib, "peak-heap-MiB")
}

// BenchmarkProtect1GiBMemory protects a 1 GiB image of the real Glance into
// a Swift bank with the default object size and reports the process's
// peak resident size during the protect (its high-water mark, reset just
// before: Linux's clear_refs), the resident size it started from, the
// peak heap above its start and the speed.
func BenchmarkProtect1GiBMemory(b *testing.B) {
	const size = 1 << 30
	r := newRealB(b, 10*glanceChunk)
	id := benchImage(b, r, size)
	bk := swiftBank(b)
	sec := section(b, bk, id)
	ctx := context.Background()

	var took time.Duration
	var peakRSS, baseRSS, peakHeap uint64
	for b.Loop() {
		debug.FreeOSMemory()
		base, err := resetPeakRSS()
		require.NoError(b, err)
		stop := heapPeak()
		start := time.Now()
		require.NoError(b, protectHooks{p: r.plugin}.run(ctx, args(providers.OpProtect, &r.rc, id, nil), sec))
		took += time.Since(start)
		peakHeap = max(peakHeap, stop())
		peakRSS, baseRSS = max(peakRSS, vmHWM()), max(baseRSS, base)
	}
	b.ReportMetric(float64(b.N)*size/mib/took.Seconds(), "MiB/s")
	b.ReportMetric(float64(peakRSS)/mib, "peak-RSS-MiB")
	b.ReportMetric(float64(baseRSS)/mib, "start-RSS-MiB")
	b.ReportMetric(float64(peakHeap)/mib, "peak-heap-MiB")
}
