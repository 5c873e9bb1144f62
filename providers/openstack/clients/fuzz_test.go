package clients

import (
	"encoding/json"
	"os"
	"testing"
)

// FuzzRequestContext feeds the request context's auth_token_info and service
// catalog, which come from the RPC caller, to their decoders: neither may
// panic, and an error never comes with a URL.
func FuzzRequestContext(f *testing.F) {
	token, err := os.ReadFile("../ostest/testdata/keystone-token-demo.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(token, []byte(`[{"type": "volumev3", "name": "cinderv3", "endpoints": [{"publicURL": "http://c/v3/p", "region": "RegionOne"}]}]`), "volumev3:cinderv3:publicURL")
	f.Add([]byte(`{"access": {"token": {"expires": "2026-01-01T00:00:00Z"}}}`), []byte(`[{"type": "image", "endpoints": []}]`), "image:glance:publicURL")
	f.Add([]byte(`{"token": null}`), []byte(`[1, "x", {"type": 3}]`), "a:b")
	f.Fuzz(func(t *testing.T, info, catalog []byte, catalogInfo string) {
		tokenExpiry(info)
		var entries []json.RawMessage
		if json.Unmarshal(catalog, &entries) != nil {
			return
		}
		u, err := fromCatalog(entries, catalogInfo)
		if err != nil && u != "" {
			t.Fatalf("an error and a URL %q", u)
		}
	})
}
