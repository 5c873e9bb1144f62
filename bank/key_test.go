package bank_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
)

const keyCharsMsg = `Only alphanumeric, underscore, dash, dots, at signs, and slashes are allowed. Key: "%s"`

func TestNormalizeKey(t *testing.T) {
	tests := []struct {
		key        string
		want       string
		wantReason string // InvalidKeyError → InvalidParameterValue(err=…)
		wantPath   string // InvalidPathError → InvalidInput("The path(…) is invalid.")
	}{
		{key: "/checkpoints/c1/index.json", want: "/checkpoints/c1/index.json"},
		{key: "checkpoints//c1///index.json", want: "/checkpoints/c1/index.json"},
		{key: "@", want: "/@"},
		{key: "a..b", want: "/a..b"}, // a valid key; the FS plugin refuses it, as Python's does
		{key: "", wantReason: strings.ReplaceAll(keyCharsMsg, "%s", "")},
		{key: "a b", wantReason: strings.ReplaceAll(keyCharsMsg, "%s", "a b")},
		{key: "dir/", wantReason: strings.ReplaceAll(keyCharsMsg, "%s", "dir/")},
		{key: "a\n", wantReason: strings.ReplaceAll(keyCharsMsg, "%s", "a\n")},
		{key: "a\x00b", wantReason: strings.ReplaceAll(keyCharsMsg, "%s", "a\x00b")},
		{key: "/a/./b", wantReason: `Invalid parameter: must not contain "." or ".." parts`},
		{key: "./a", wantReason: `Invalid parameter: must not contain "." or ".." parts`},
		{key: "../x", wantPath: "/../x"},
		{key: "/a/../../etc/passwd", wantPath: "/a/../../etc/passwd"},
		{key: "/a/..", wantPath: "/a/.."},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			got, err := bank.NormalizeKey(tc.key)
			switch {
			case tc.wantReason != "":
				var ik *bank.InvalidKeyError
				require.ErrorAs(t, err, &ik)
				assert.Equal(t, tc.wantReason, ik.Reason)
			case tc.wantPath != "":
				var ip *bank.InvalidPathError
				require.ErrorAs(t, err, &ip)
				assert.Equal(t, "The path("+tc.wantPath+") is invalid.", ip.Reason())
			default:
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

// FuzzNormalizeKey: whatever the input, an accepted key is absolute, made
// of key characters, has no empty, "." or ".." parts (so it can only name
// itself under a root), and normalising it again changes nothing; refused
// keys get a typed error.
func FuzzNormalizeKey(f *testing.F) {
	for _, s := range []string{"/checkpoints/c1/index.json", "a//b", "../x", "/a/./b", "a b", "", "/", "a..b", "\x00", "/indices/by-plan/p/q/2020-05-04/1588601234@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		got, err := bank.NormalizeKey(key)
		if err != nil {
			var ik *bank.InvalidKeyError
			var ip *bank.InvalidPathError
			if !errors.As(err, &ik) && !errors.As(err, &ip) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !strings.HasPrefix(got, "/") || strings.HasSuffix(got, "/") || !bank.ValidKeyChars(got) {
			t.Fatalf("%q normalised to %q", key, got)
		}
		for _, part := range strings.Split(got[1:], "/") {
			if part == "" || part == "." || part == ".." {
				t.Fatalf("%q normalised to %q with part %q", key, got, part)
			}
		}
		again, err := bank.NormalizeKey(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", key, got, again, err)
		}
	})
}

func TestSections(t *testing.T) {
	b, dir := newBank(t)
	ctx := context.Background()

	_, err := b.Section("")
	assert.EqualError(t, err, "bank: invalid key: Empty section")
	_, err = b.Section("a b")
	assert.EqualError(t, err, "bank: invalid key: Invalid section. Must begin and end with a slash, and contain valid characters")
	_, err = b.Section("/x/../y/")
	assert.EqualError(t, err, `bank: invalid key: Invalid parameter: must not contain "." or ".." parts`)

	s, err := b.Section("checkpoints/c1")
	require.NoError(t, err)
	assert.Equal(t, "/checkpoints/c1/", s.Prefix())
	require.NoError(t, s.PutString(ctx, "resource-data/r1/status", "available"))
	assert.FileExists(t, filepath.Join(dir, "karbor", "checkpoints", "c1", "resource-data", "r1", "status"))

	// Keys cannot climb out of a section.
	var ip *bank.InvalidPathError
	require.ErrorAs(t, s.PutString(ctx, "../c2/index.json", "x"), &ip)
	assert.Equal(t, "The path(/checkpoints/c1/../c2/index.json) is invalid.", ip.Reason())

	sub, err := s.Sub("resource-data/r1", false)
	require.NoError(t, err)
	assert.False(t, sub.Writable())
	got, err := sub.GetString(ctx, "status")
	require.NoError(t, err)
	assert.Equal(t, "available", got)
	assert.ErrorIs(t, sub.PutString(ctx, "status", "x"), bank.ErrReadOnly)
	assert.ErrorIs(t, sub.DeleteObject(ctx, "status"), bank.ErrReadOnly)
	_, err = sub.Sub("deeper", true)
	assert.ErrorIs(t, err, bank.ErrReadOnly, "a read-only section gives no writable sub-section")

	keys, err := s.ListObjects(ctx, bank.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"resource-data/r1/status"}, keys, "section prefix stripped")

	var ik *bank.InvalidKeyError
	_, err = s.GetObject(ctx, "a b")
	require.ErrorAs(t, err, &ik)
	assert.Equal(t, `Only alphanumeric, underscore, dash, dots, at signs, and slashes are allowed. Key: "/checkpoints/c1/a b"`, ik.Reason,
		"the message names the full key, as Python's does")
}

// TestObjectKindsRoundTrip writes every kind of object karbor keeps and
// reads it back, checking what lands on disk.
func TestObjectKindsRoundTrip(t *testing.T) {
	b, dir := newBank(t)
	ctx := context.Background()
	s, err := b.Section("/checkpoints/c1/resource-data/r1/")
	require.NoError(t, err)
	file := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, "karbor", "checkpoints", "c1", "resource-data", "r1", name))
		require.NoError(t, err)
		return string(data)
	}

	t.Run("status string, verbatim", func(t *testing.T) {
		require.NoError(t, s.PutString(ctx, "status", "available"))
		assert.Equal(t, "available", file("status"))
		got, err := s.GetString(ctx, "status")
		require.NoError(t, err)
		assert.Equal(t, "available", got)
	})
	t.Run("metadata, Python JSON", func(t *testing.T) {
		meta := map[string]any{"volume_id": "v1", "size": 1, "name": "café"}
		require.NoError(t, s.PutJSON(ctx, "metadata", meta))
		assert.Equal(t, `{"name": "caf\u00e9", "size": 1, "volume_id": "v1"}`, file("metadata"))
		var got map[string]any
		require.NoError(t, s.GetJSON(ctx, "metadata", &got))
		assert.Equal(t, map[string]any{"volume_id": "v1", "size": float64(1), "name": "café"}, got)
	})
	t.Run("data chunk, raw bytes", func(t *testing.T) {
		chunk := []byte{0, 1, 2, 0xfe, 0xff}
		require.NoError(t, s.Put(ctx, "data_1", chunk))
		got, err := s.Get(ctx, "data_1")
		require.NoError(t, err)
		assert.Equal(t, chunk, got)
	})
	t.Run("Python's JSON-encoded chunk reads as its string", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "karbor", "checkpoints", "c1", "resource-data", "r1", "data_2"), []byte(`"chunk \u00e9"`), 0o644))
		got, err := s.GetString(ctx, "data_2")
		require.NoError(t, err)
		assert.Equal(t, "chunk é", got)
	})
	t.Run("delete", func(t *testing.T) {
		require.NoError(t, s.DeleteObject(ctx, "data_1"))
		_, err := s.Get(ctx, "data_1")
		var oe *bank.ObjectError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, bank.OpGet, oe.Op)
		assert.Equal(t, "/checkpoints/c1/resource-data/r1/data_1", oe.Key)
		assert.Equal(t, "Object is not a file", oe.Reason())
		assert.ErrorIs(t, err, bank.ErrNotFound)
	})
	t.Run("bad JSON is a clear error", func(t *testing.T) {
		var v map[string]any
		err := s.GetJSON(ctx, "status", &v)
		assert.ErrorContains(t, err, "decode /checkpoints/c1/resource-data/r1/status")
	})
}
