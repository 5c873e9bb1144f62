package glance

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // Glance's checksum
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// fsRead is an object as the file-system bank gives it back: flagged
// serialized when it parses as JSON.
func fsRead(obj bank.Object) bank.Object {
	return bank.Object{Data: obj.Data, Serialized: json.Valid(obj.Data)}
}

func TestEncodeChunk(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         string
		stored     string
		serialized bool
	}{
		{"binary", "\x00\xff\xfe binary", "\x00\xff\xfe binary", false},
		{"text", "plain text\n", "plain text\n", false},
		{"zeros", "\x00\x00\x00", "\x00\x00\x00", false},
		{"a JSON number", "  7  ", `"  7  "`, true},
		{"a JSON string", `"abc"`, `"\"abc\""`, true},
		{"a JSON object, non-ASCII", `{"é": [1, 2]}`, `"{\"\u00e9\": [1, 2]}"`, true},
		{"NaN", "NaN\n", `"NaN\n"`, true},
		{"a JSON-looking non-UTF-8 string", "\"\xff\"", "\"\xff\"", false},
		{"spaces only", "   ", "   ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := encodeChunk([]byte(tc.in))
			assert.Equal(t, tc.stored, string(obj.Data))
			assert.Equal(t, tc.serialized, obj.Serialized)
			for _, back := range []bank.Object{obj, fsRead(obj)} {
				got, err := decodeChunk(back)
				require.NoError(t, err)
				assert.Equal(t, tc.in, string(got))
			}
		})
	}
}

func TestDecodePythonChunk(t *testing.T) {
	raw, err := os.ReadFile("testdata/python-section/data_1")
	require.NoError(t, err)
	want, err := os.ReadFile("testdata/python-section.bin")
	require.NoError(t, err)
	got, err := decodeChunk(fsRead(bank.Object{Data: raw}))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want[:glanceChunk], got))

	_, err = decodeChunk(bank.Object{Data: []byte("[1]"), Serialized: true})
	assert.ErrorContains(t, err, "a serialized chunk that is not a JSON string")
}

// Every chunk reads back as written, through a bank that records the
// serialized flag and through one that guesses it (the file-system bank).
func FuzzChunkRoundTrip(f *testing.F) {
	for _, s := range []string{"", "7", `"x"`, "\xff", "NaN", " {} ", "\"\xff\"", "text"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		obj := encodeChunk(b)
		for _, back := range []bank.Object{obj, fsRead(obj)} {
			got, err := decodeChunk(back)
			if err != nil {
				t.Fatalf("%q: %v", b, err)
			}
			if !bytes.Equal(b, got) {
				t.Fatalf("%q read back as %q", b, got)
			}
		}
	})
}

// The Python service reads what this plugin writes: the real Python
// (oslo's jsonutils) reads the section as karbor's file-system bank and
// restore do (testdata/python-read.py) and gets the image's bytes.
func TestPythonReadsChunks(t *testing.T) {
	py := rpctest.PythonPath()
	if err := exec.Command(py, "-c", "import oslo_serialization").Run(); err != nil {
		rpctest.Unavailable(t, "%s with oslo.serialization: %v", py, err)
	}
	ctx := context.Background()
	// Python can only have UTF-8 text in a file-system bank; one object of
	// each kind: plain text, text that parses as JSON, and a short last one.
	text := append(bytes.Repeat([]byte("café ☃ text\n"), glanceChunk/15), '\n') // 15 bytes a line
	image := append(append(text, jsonText(glanceChunk)...), "{\"last\": true}"...)
	dir := t.TempDir()
	b := fsBankAt(t, dir)
	sec, err := b.Section(bank.ResourceDataPrefix("cp", "img"))
	require.NoError(t, err)
	h := md5.New() //nolint:gosec // Glance's checksum
	n, err := writeChunks(ctx, sec, bytes.NewReader(image), glanceChunk, h, func() {})
	require.NoError(t, err)
	require.NoError(t, sec.PutJSON(ctx, "metadata", metadata{ResourceID: "img", ChunksNum: &n}))
	sum := hex.EncodeToString(h.Sum(nil))
	require.Equal(t, md5hex(image), sum)
	require.Equal(t, 3, n)
	for name, jsonString := range map[string]bool{"data_1": false, "data_2": true, "data_3": true} {
		raw, err := sec.Get(ctx, name)
		require.NoError(t, err)
		assert.Equal(t, jsonString, raw[0] == '"', "%s stored as a JSON string", name)
	}

	secDir := filepath.Join(dir, "karbor", "checkpoints", "cp", "resource-data", "img")
	out, err := exec.Command(py, "testdata/python-read.py", secDir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, sum, strings.TrimSpace(string(out)))
}

// A bank that fails stops the copy: the read waiting on Glance is aborted,
// and the error is the bank's.
func TestWriteChunksBankFails(t *testing.T) {
	failed := errors.New("bank full")
	b := fsBank(t, func(p bank.Plugin) bank.Plugin {
		return putHook{Plugin: p, before: func(_ context.Context, key string) error {
			if strings.HasSuffix(key, "/data_2") {
				return failed
			}
			return nil
		}}
	})
	sec := section(t, b, "img")
	pr, pw := io.Pipe()
	go func() {
		// Two objects, then Glance stalls: only abort ends the read.
		_, _ = pw.Write(make([]byte, 2*glanceChunk))
	}()
	aborted := false
	_, err := writeChunks(context.Background(), sec, pr, glanceChunk, nil, func() {
		aborted = true
		_ = pw.CloseWithError(errors.New("download aborted"))
	})
	require.ErrorIs(t, err, failed)
	assert.True(t, aborted)
}

// Two objects are written at once: the write of data_1 waits here until
// the write of data_2 has begun, which a copy writing one object at a time
// would never reach.
func TestWriteChunksTwoWritesInFlight(t *testing.T) {
	second := make(chan struct{})
	b := fsBank(t, func(p bank.Plugin) bank.Plugin {
		return putHook{Plugin: p, before: func(ctx context.Context, key string) error {
			switch {
			case strings.HasSuffix(key, "/data_2"):
				close(second)
			case strings.HasSuffix(key, "/data_1"):
				select {
				case <-second:
				case <-time.After(30 * time.Second):
					return errors.New("data_2 was not written while data_1 was")
				}
			}
			return nil
		}}
	})
	sec := section(t, b, "img")
	image := randomBytes(t, 3*glanceChunk)
	h := md5.New() //nolint:gosec // Glance's checksum
	n, err := writeChunks(context.Background(), sec, bytes.NewReader(image), glanceChunk, h, func() {})
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, md5hex(image), hex.EncodeToString(h.Sum(nil)))
	var got []byte
	for _, name := range []string{"data_1", "data_2", "data_3"} {
		chunk, err := sec.Get(context.Background(), name)
		require.NoError(t, err)
		got = append(got, chunk...)
	}
	assert.True(t, bytes.Equal(image, got))
}
