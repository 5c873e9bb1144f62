package glance

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // Glance's image checksum is an MD5
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/python"
)

// chunkPrefix starts the name of every object holding image bytes.
const chunkPrefix = "data_"

// The Python plugin writes each chunk as jsonutils.dumps(bytes): the bytes
// decoded as UTF-8, as a JSON string (so an image that is not UTF-8 text
// could not be protected at all). Python reads a chunk back as the bank
// gives it: the swift bank decodes only objects flagged serialized, the
// file-system bank JSON-decodes every object that parses, and glanceclient
// uploads a string as its UTF-8 bytes.
//
// encodeChunk therefore stores the bytes raw, which every reader gives back
// unchanged, except when they are UTF-8 text that parses as JSON: Python's
// file-system bank would decode those, so they are written as Python
// writes them, a JSON string. Raw bytes that are not UTF-8 are readable by
// the Python service only through a swift or S3 bank; Python could not have
// written them (docs/compatibility.md).
func encodeChunk(b []byte) bank.Object {
	if utf8.Valid(b) && parsesAsJSON(b) {
		return bank.Object{Data: python.AppendJSONString(make([]byte, 0, len(b)+2), string(b)), Serialized: true}
	}
	return bank.Object{Data: b}
}

// parsesAsJSON reports whether Python's json.loads accepts b, which also
// takes NaN and ±Infinity.
func parsesAsJSON(b []byte) bool {
	t := bytes.Trim(b, " \t\r\n")
	switch string(t) {
	case "NaN", "Infinity", "-Infinity":
		return true
	}
	return len(t) > 0 && strings.IndexByte("{[\"-0123456789tfn", t[0]) >= 0 && json.Valid(t)
}

// decodeChunk returns the image bytes of a chunk object: a JSON string (as
// Python writes every chunk, and as encodeChunk writes JSON-looking text)
// is decoded; anything else is the bytes themselves.
func decodeChunk(obj bank.Object) ([]byte, error) {
	if !obj.Serialized || !utf8.Valid(obj.Data) {
		return obj.Data, nil
	}
	var s string
	if err := json.Unmarshal(obj.Data, &s); err != nil {
		return nil, fmt.Errorf("a serialized chunk that is not a JSON string: %w", err)
	}
	return []byte(s), nil
}

// writers is how many objects are written to the bank at once. A write
// mostly waits (Swift's object server syncs each object to disk before it
// answers), so a second one in flight keeps the download from Glance going
// meanwhile.
const writers = 2

// writeChunks copies r into data_1 … data_N of size bytes each (the last
// may be shorter), feeding sum (nil: none) with the bytes in order, and
// returns N. An empty r writes nothing (Python writes one empty object, and
// a trailing empty one whenever the size is a multiple of the object size;
// both readers accept either).
//
// Reading the next object from Glance, hashing one and writing up to
// writers of them to the bank overlap, so that a protect runs at the speed
// of the slowest of the three rather than of all in turn. Its buffers,
// writers+1 objects, are all the image data it holds; each goes back to the
// reader once it is both hashed and written. r's reads must end when ctx
// does; when the bank fails, abort is called to stop a read that may be
// waiting on Glance.
func writeChunks(ctx context.Context, sec *bank.Section, r io.Reader, size int, sum hash.Hash, abort func()) (int, error) {
	type piece struct {
		n      int
		buf    []byte
		hashed chan struct{}
	}
	const buffers = writers + 1
	free := make(chan []byte, buffers)
	for range buffers {
		free <- make([]byte, size)
	}
	// As many slots as buffers: the reader never blocks on a send.
	toHash, toWrite := make(chan piece, buffers), make(chan piece, buffers)
	g, gctx := errgroup.WithContext(ctx)
	read := 0
	g.Go(func() error {
		defer close(toHash)
		defer close(toWrite)
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-gctx.Done():
				return context.Cause(gctx)
			}
			got, err := io.ReadFull(r, buf)
			if got > 0 {
				read++
				p := piece{read, buf[:got], make(chan struct{})}
				toHash <- p
				toWrite <- p
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	g.Go(func() error { // in the order read
		for p := range toHash {
			if sum != nil {
				sum.Write(p.buf)
			}
			close(p.hashed)
		}
		return nil
	})
	// The bank's error is the cause, whatever the aborted read returns
	// first (errgroup keeps the first error returned).
	var (
		failOnce sync.Once
		writeErr error
	)
	for range writers {
		g.Go(func() error {
			for p := range toWrite {
				if err := sec.PutObject(gctx, chunkPrefix+strconv.Itoa(p.n), encodeChunk(p.buf)); err != nil {
					failOnce.Do(func() {
						writeErr = err
						abort()
					})
					return err
				}
				<-p.hashed
				free <- p.buf[:cap(p.buf)]
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if writeErr != nil {
			return 0, writeErr
		}
		return 0, err
	}
	return read, nil
}

// chunkNames lists the section's data_<n> objects in numeric order.
func chunkNames(ctx context.Context, sec *bank.Section) ([]string, error) {
	keys, err := sec.ListObjects(ctx, bank.ListOptions{Prefix: chunkPrefix})
	if err != nil {
		return nil, err
	}
	type numbered struct {
		name string
		n    int
	}
	var chunks []numbered
	for _, k := range keys {
		name := k[strings.LastIndexByte(k, '/')+1:]
		num, err := strconv.Atoi(strings.TrimPrefix(name, chunkPrefix))
		if !strings.HasPrefix(name, chunkPrefix) || err != nil {
			return nil, fmt.Errorf("unexpected object %q among the image's chunks", k)
		}
		chunks = append(chunks, numbered{name, num})
	}
	slices.SortFunc(chunks, func(a, b numbered) int { return a.n - b.n })
	names := make([]string, len(chunks))
	for i, c := range chunks {
		names[i] = c.name
	}
	return names, nil
}

// chunkReader reads the chunks names in order, one object at a time, and
// hashes what it gives.
type chunkReader struct {
	ctx   context.Context
	sec   *bank.Section
	names []string
	cur   []byte
	sum   hash.Hash
}

func newChunkReader(ctx context.Context, sec *bank.Section, names []string) *chunkReader {
	return &chunkReader{ctx: ctx, sec: sec, names: names, sum: md5.New()} //nolint:gosec // Glance's checksum
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.cur) == 0 {
		if len(c.names) == 0 {
			return 0, io.EOF
		}
		obj, err := c.sec.GetObject(c.ctx, c.names[0])
		if err != nil {
			return 0, err
		}
		if c.cur, err = decodeChunk(obj); err != nil {
			return 0, fmt.Errorf("%s: %w", c.names[0], err)
		}
		c.names = c.names[1:]
	}
	n := copy(p, c.cur)
	c.sum.Write(p[:n])
	c.cur = c.cur[n:]
	return n, nil
}

// checksum is the MD5 of what has been read.
func (c *chunkReader) checksum() string { return hex.EncodeToString(c.sum.Sum(nil)) }
