package bank

import (
	"encoding/json"
	"testing"
)

// FuzzPlainString: whatever the direct reader of index.json's strings
// accepts, encoding/json reads the same.
func FuzzPlainString(f *testing.F) {
	for _, s := range []string{`"available"`, `""`, `"a\"b"`, `"é"`, `"tab	"`, `"\u0041"`, `1`, `null`, `"unterminated`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, ok := plainString(raw)
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil || want != s {
			t.Fatalf("%q: direct %q, encoding/json %q (%v)", raw, s, want, err)
		}
	})
}
