package s3

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gokarbor/karbor-protection/bank"
)

// Listings.
//
// Ascending listings are S3's own: prefix, marker and MaxKeys go to the
// server (ListObjects, version 1, as the Python plugin calls it), so a page
// of n entries costs one request of n entries.
//
// S3 cannot list backwards, so a descending listing reads an ascending
// range that ends at its bound (the marker, or the end of the prefix) and
// starts just early enough to hold the page. Where to start comes from
// fences: every 100th entry seen the last time this instance read a range
// of that prefix. Fences are only split points, never trusted as content:
// the range is always read from the server up to the bound, and extended
// further down when entries were deleted since, so the answer is exact
// whatever other writers did. Costs:
//
//   - a descending page of n entries with fences: one request reading
//     about n+100 to n+200 entries (plus the entries added above the fences
//     since; reading them refreshes the fences);
//   - without fences (the first descending listing of a prefix in this
//     process, or below a marker outside the fenced range): the prefix up
//     to the bound in pages of 1000, as a full listing, once;
//   - memory: one key per 100 entries for each of the 1024 prefixes
//     listed most recently.

const (
	// pageSize is S3's largest MaxKeys.
	pageSize = 1000
	// fenceSpacing is the number of entries between two fences.
	fenceSpacing = 100
	// fenceCachePrefixes bounds the prefixes whose fences are kept.
	fenceCachePrefixes = 1024
	// past is greater than every key character: a key's subtree K/… sorts
	// before K/ + past. Keys are validated to [A-Za-z0-9/_.\-@].
	past = "~"
)

// ListObjects implements bank.Plugin; see bank.ListOptions.
func (p *Plugin) ListObjects(ctx context.Context, opts bank.ListOptions) ([]string, error) {
	if err := checkKey(opts.Prefix, true); err != nil {
		return nil, err
	}
	if opts.Desc {
		return p.listDesc(ctx, opts)
	}
	return p.listAsc(ctx, opts)
}

// page is one ListObjects answer: keys and roll-ups merged in order.
type page struct {
	entries   []string
	truncated bool
}

// listPage lists at most max entries under prefix after the server marker
// after ("" = from the start).
func (p *Plugin) listPage(ctx context.Context, prefix, after string, max int, delim bool) (page, error) {
	in := &s3.ListObjectsInput{
		Bucket:  aws.String(p.opts.ObjectBucket),
		Prefix:  aws.String(prefix),
		MaxKeys: aws.Int32(int32(max)),
	}
	if after != "" {
		in.Marker = aws.String(after)
	}
	if delim {
		in.Delimiter = aws.String("/")
	}
	out, err := p.client.ListObjects(ctx, in)
	if err != nil {
		return page{}, p.newError("ListObjects", err)
	}
	pg := page{entries: make([]string, 0, len(out.Contents)+len(out.CommonPrefixes)), truncated: aws.ToBool(out.IsTruncated)}
	for _, o := range out.Contents {
		pg.entries = append(pg.entries, aws.ToString(o.Key))
	}
	for _, cp := range out.CommonPrefixes {
		pg.entries = append(pg.entries, aws.ToString(cp.Prefix))
	}
	if len(out.CommonPrefixes) > 0 {
		slices.Sort(pg.entries)
	}
	return pg, nil
}

// resume is the server marker that continues a listing after entry: a
// roll-up is continued past its whole subtree, which the server would
// otherwise roll up again.
func resume(entry string, delim bool) string {
	if delim && strings.HasSuffix(entry, "/") {
		return entry + past
	}
	return entry
}

// serverMarker is the marker to send for a listing after marker. With a
// delimiter, a marker inside a roll-up's subtree skips that subtree: the
// roll-up sorts before the marker and is not wanted.
func serverMarker(prefix, marker string, delim bool) string {
	if delim && strings.HasPrefix(marker, prefix) {
		if i := strings.IndexByte(marker[len(prefix):], '/'); i >= 0 {
			return marker[:len(prefix)+i+1] + past
		}
	}
	return marker
}

func (p *Plugin) listAsc(ctx context.Context, opts bank.ListOptions) ([]string, error) {
	keys := []string{}
	after := serverMarker(opts.Prefix, opts.Marker, opts.Delimiter)
	for {
		max := pageSize
		if opts.Limit > 0 {
			max = min(pageSize, opts.Limit-len(keys))
		}
		pg, err := p.listPage(ctx, opts.Prefix, after, max, opts.Delimiter)
		if err != nil {
			return nil, err
		}
		for _, e := range pg.entries {
			if opts.Marker != "" && e <= opts.Marker {
				continue
			}
			keys = append(keys, e)
			if opts.Limit > 0 && len(keys) == opts.Limit {
				return keys, nil
			}
		}
		if !pg.truncated || len(pg.entries) == 0 {
			return keys, nil
		}
		after = resume(pg.entries[len(pg.entries)-1], opts.Delimiter)
	}
}

// listDesc returns the last opts.Limit entries before opts.Marker, newest
// first, reading ranges from fences down (see the top of this file).
func (p *Plugin) listDesc(ctx context.Context, opts bank.ListOptions) ([]string, error) {
	fk := fenceKey{prefix: opts.Prefix, delim: opts.Delimiter}
	upper := opts.Marker // exclusive; "" is the end of the prefix
	if upper != "" && upper <= opts.Prefix {
		return []string{}, nil
	}
	keep := opts.Limit
	fences := p.fences.get(fk)
	i := len(fences)
	if upper != "" {
		i = sort.SearchStrings(fences, upper) // fences[:i] < upper
	}
	var got []string // ascending, the top of the answer
	for {
		need := keep - len(got)
		j := -1 // start after fences[j]; -1 is the prefix's start
		if keep > 0 {
			j = i - 1 - (need+fenceSpacing-1)/fenceSpacing
		}
		lo := ""
		if j >= 0 {
			lo = fences[j]
		}
		estimate := pageSize
		if keep > 0 && j >= 0 {
			estimate = min(pageSize, (i-j+1)*fenceSpacing)
		}
		r, err := p.readRange(ctx, opts.Prefix, lo, upper, opts.Delimiter, need, estimate)
		if err != nil {
			return nil, err
		}
		p.fences.update(fk, lo, upper, r.fences)
		got = append(r.last, got...)
		if j < 0 || keep > 0 && len(got) >= keep {
			break
		}
		// Entries were deleted since the fences were set: go further down,
		// up to and including lo.
		upper, i = lo+"\x00", j
	}
	if keep > 0 && len(got) > keep {
		got = got[len(got)-keep:]
	}
	slices.Reverse(got)
	return got, nil
}

// rangeResult is what readRange saw.
type rangeResult struct {
	last   []string // the last `keep` entries (all with keep <= 0), ascending
	fences []string // every fenceSpacing-th entry of the range
}

// readRange reads every entry e with lo < e < hi ("" = unbounded), keeping
// the last keep of them; the first request asks for firstMax entries.
func (p *Plugin) readRange(ctx context.Context, prefix, lo, hi string, delim bool, keep, firstMax int) (rangeResult, error) {
	var r rangeResult
	var ring []string
	head, count := 0, 0
	after := ""
	if lo != "" {
		after = resume(lo, delim)
	}
	max := firstMax
	for {
		pg, err := p.listPage(ctx, prefix, after, max, delim)
		if err != nil {
			return r, err
		}
		max = pageSize
		for _, e := range pg.entries {
			if hi != "" && e >= hi {
				pg.truncated = false
				break
			}
			if lo != "" && e <= lo {
				continue
			}
			count++
			if count%fenceSpacing == 0 {
				r.fences = append(r.fences, e)
			}
			if keep <= 0 || len(ring) < keep {
				ring = append(ring, e)
			} else {
				ring[head] = e
				head = (head + 1) % keep
			}
		}
		if !pg.truncated || len(pg.entries) == 0 {
			break
		}
		after = resume(pg.entries[len(pg.entries)-1], delim)
	}
	r.last = append(ring[head:], ring[:head]...)
	return r, nil
}

// fenceKey names a listing whose fences are kept.
type fenceKey struct {
	prefix string
	delim  bool
}

// fenceCache keeps the fences of the most recently listed prefixes.
type fenceCache struct {
	mu   sync.Mutex
	max  int
	tick uint64
	m    map[fenceKey]*fenceEntry
}

type fenceEntry struct {
	fences []string // sorted
	used   uint64
}

func newFenceCache(max int) *fenceCache {
	return &fenceCache{max: max, m: map[fenceKey]*fenceEntry{}}
}

// get returns a copy of a prefix's fences.
func (c *fenceCache) get(k fenceKey) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil
	}
	c.tick++
	e.used = c.tick
	return slices.Clone(e.fences)
}

// update replaces the fences strictly between lo and hi ("" = unbounded)
// with those of a range just read.
func (c *fenceCache) update(k fenceKey, lo, hi string, fences []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		if len(fences) == 0 {
			return
		}
		if len(c.m) >= c.max {
			c.evict()
		}
		e = &fenceEntry{}
		c.m[k] = e
	}
	c.tick++
	e.used = c.tick
	from := 0
	if lo != "" {
		from = sort.Search(len(e.fences), func(i int) bool { return e.fences[i] > lo })
	}
	to := len(e.fences)
	if hi != "" {
		to = sort.SearchStrings(e.fences, hi)
	}
	if to < from {
		to = from
	}
	e.fences = slices.Concat(e.fences[:from], fences, e.fences[to:])
}

// evict drops the least recently used prefix.
func (c *fenceCache) evict() {
	var oldest fenceKey
	first := true
	var used uint64
	for k, e := range c.m {
		if first || e.used < used {
			oldest, used, first = k, e.used, false
		}
	}
	delete(c.m, oldest)
}
