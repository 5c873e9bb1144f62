package s3

import (
	"strings"
	"testing"

	"github.com/gokarbor/karbor-protection/bank"
)

// FuzzCheckKey: every key the plugin sends to the server is a key Bank
// would have produced (normalising it changes nothing) and its parts are
// plain names, so no key can address another bucket or a relative path.
func FuzzCheckKey(f *testing.F) {
	for _, k := range []string{"/checkpoints/c/index.json", "/indices/by-plan/p/x/2026-12-05/1764912345@id", "/a//b", "/a/../b", "/.", "/a/", "", "/é", "/a%2Fb"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if checkKey(key, false) != nil {
			return
		}
		norm, err := bank.NormalizeKey(key)
		if err != nil || norm != key {
			t.Fatalf("plugin accepts %q, which Bank normalises to %q (%v)", key, norm, err)
		}
		for _, part := range strings.Split(key[1:], "/") {
			if part == "" || part == "." || part == ".." {
				t.Fatalf("plugin accepts %q with part %q", key, part)
			}
		}
	})
}
