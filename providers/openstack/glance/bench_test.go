package glance

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
func vmHWM() uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
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

// BenchmarkProtect64MiB protects a 64 MiB image of the real Glance into a
// file-system bank, and in the same run copies the same image with a bare
// Glance download written into the same bank in objects of the same size
// (the floor: no checksum, no status or metadata, no waits). It reports
// both speeds, their ratio, the plugin's peak heap above its start and the
// process's peak resident size.
func BenchmarkProtect64MiB(b *testing.B) {
	const size = 64 * mib
	r := newRealB(b, 10*glanceChunk)
	ctx := context.Background()
	img, err := images.Create(ctx, r.glance, images.CreateOpts{Name: r.prefix + "-bench", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	require.NoError(b, err)
	b.Cleanup(func() { _ = deleteImage(context.Background(), r.glance, img.ID) })
	src := io.LimitReader(randomReader{rand.NewChaCha8([32]byte{2})}, size)
	require.NoError(b, imagedata.Upload(ctx, r.glance, img.ID, src).ExtractErr())
	_, err = waitActive(ctx, r.glance, img.ID, 100*time.Millisecond)
	require.NoError(b, err)
	bk := fsBank(b, nil)
	objectSize := r.plugin.opts.ObjectSize

	var plugin, bare time.Duration
	var peak uint64
	for b.Loop() {
		sec := section(b, bk, img.ID)
		start := time.Now()
		body, err := imagedata.Download(ctx, r.glance, img.ID).Extract()
		require.NoError(b, err)
		buf := make([]byte, objectSize)
		for i := 1; ; i++ {
			n, err := io.ReadFull(body, buf)
			if n > 0 {
				require.NoError(b, sec.Put(ctx, "data_"+strconv.Itoa(i), buf[:n]))
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			require.NoError(b, err)
		}
		_ = body.Close()
		bare += time.Since(start)

		sec = section(b, bk, img.ID)
		stop := heapPeak()
		start = time.Now()
		require.NoError(b, protectHooks{p: r.plugin}.run(ctx, args(providers.OpProtect, &r.rc, img.ID, nil), sec))
		plugin += time.Since(start)
		peak = max(peak, stop())
	}
	rate := func(d time.Duration) float64 { return float64(b.N) * size / mib / d.Seconds() }
	b.ReportMetric(rate(plugin), "MiB/s")
	b.ReportMetric(rate(bare), "bare-MiB/s")
	b.ReportMetric(rate(plugin)/rate(bare), "x-of-bare")
	b.ReportMetric(float64(peak)/mib, "peak-heap-MiB")
	b.ReportMetric(float64(vmHWM())/mib, "peak-RSS-MiB")
}
