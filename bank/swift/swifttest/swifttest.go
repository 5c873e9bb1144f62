// Package swifttest finds the Keystone and Swift the integration tests use
// (scripts/ensure-swift.sh starts them and exports the variables):
//
//	KARBOR_TEST_KEYSTONE_URL        http://127.0.0.1:5000/v3
//	KARBOR_TEST_KEYSTONE_USER       demo, a member of
//	KARBOR_TEST_KEYSTONE_PROJECT    demo, password
//	KARBOR_TEST_KEYSTONE_PASSWORD   password
//	KARBOR_TEST_KEYSTONE_ALT_*      DOMAIN, USER, PROJECT, PASSWORD: a user and project outside the default domain
//	CI                              "true": a missing service fails the test instead of skipping it
package swifttest

import (
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// Account is a Keystone user whose token's catalog has the object-store
// endpoint: what a provider file's [swift_client] names.
type Account struct {
	AuthURL, User, Password, Project string
	// Domain is the user's and project's domain name.
	Domain string
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Keystone returns the test account, after checking that Keystone answers;
// without it the test is skipped, or fails under CI=true.
func Keystone(t testing.TB) Account {
	t.Helper()
	a := Account{
		AuthURL:  env("KARBOR_TEST_KEYSTONE_URL", "http://127.0.0.1:5000/v3"),
		User:     env("KARBOR_TEST_KEYSTONE_USER", "demo"),
		Password: env("KARBOR_TEST_KEYSTONE_PASSWORD", "password"),
		Project:  env("KARBOR_TEST_KEYSTONE_PROJECT", "demo"),
		Domain:   "default",
	}
	check(t, a.AuthURL)
	return a
}

// AltDomain returns the account outside the default domain.
func AltDomain(t testing.TB) Account {
	t.Helper()
	a := Account{
		AuthURL:  env("KARBOR_TEST_KEYSTONE_URL", "http://127.0.0.1:5000/v3"),
		User:     env("KARBOR_TEST_KEYSTONE_ALT_USER", "alt"),
		Password: env("KARBOR_TEST_KEYSTONE_ALT_PASSWORD", "password"),
		Project:  env("KARBOR_TEST_KEYSTONE_ALT_PROJECT", "alt"),
		Domain:   env("KARBOR_TEST_KEYSTONE_ALT_DOMAIN", "karbor-test"),
	}
	check(t, a.AuthURL)
	return a
}

func check(t testing.TB, url string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		rpctest.Unavailable(t, "Keystone at %s: %v (scripts/ensure-swift.sh starts it)", url, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		rpctest.Unavailable(t, "Keystone at %s answers %s", url, resp.Status)
	}
}
