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
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// Account is a Keystone user whose token's catalog has the object-store
// endpoint: what a provider file's [swift_client] names.
type Account struct {
	AuthURL, User, Password, Project string
	// Domain is the user's and project's domain name.
	Domain string
}

// Keystone returns the test account, after checking that Keystone answers;
// without it the test is skipped, or fails under CI=true.
func Keystone(t testing.TB) Account {
	t.Helper()
	a := Account{
		AuthURL:  rpctest.EnvOr("KARBOR_TEST_KEYSTONE_URL", "http://127.0.0.1:5000/v3"),
		User:     rpctest.EnvOr("KARBOR_TEST_KEYSTONE_USER", "demo"),
		Password: rpctest.EnvOr("KARBOR_TEST_KEYSTONE_PASSWORD", "password"),
		Project:  rpctest.EnvOr("KARBOR_TEST_KEYSTONE_PROJECT", "demo"),
		Domain:   "default",
	}
	check(t, a.AuthURL)
	return a
}

// AltDomain returns the account outside the default domain.
func AltDomain(t testing.TB) Account {
	t.Helper()
	a := Account{
		AuthURL:  rpctest.EnvOr("KARBOR_TEST_KEYSTONE_URL", "http://127.0.0.1:5000/v3"),
		User:     rpctest.EnvOr("KARBOR_TEST_KEYSTONE_ALT_USER", "alt"),
		Password: rpctest.EnvOr("KARBOR_TEST_KEYSTONE_ALT_PASSWORD", "password"),
		Project:  rpctest.EnvOr("KARBOR_TEST_KEYSTONE_ALT_PROJECT", "alt"),
		Domain:   rpctest.EnvOr("KARBOR_TEST_KEYSTONE_ALT_DOMAIN", "karbor-test"),
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

// Client is a Swift client for the account, from the catalog of its token.
func (a Account) Client(t testing.TB) *gophercloud.ServiceClient {
	t.Helper()
	ctx := context.Background()
	provider, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: a.AuthURL, Username: a.User, Password: a.Password, DomainName: a.Domain,
		Scope: &gophercloud.AuthScope{ProjectName: a.Project, DomainName: a.Domain},
	})
	if err != nil {
		t.Fatalf("swifttest: authenticate as %s: %v", a.User, err)
	}
	sc, err := openstack.NewObjectStorageV1(provider, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatalf("swifttest: object-store endpoint: %v", err)
	}
	return sc
}

// RemoveContainer deletes a container and every object in it; a missing
// container is fine.
func (a Account) RemoveContainer(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	sc := a.Client(t)
	for {
		pages, err := objects.List(sc, name, objects.ListOpts{Limit: 10000}).AllPages(ctx)
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("swifttest: list %s: %v", name, err)
		}
		names, err := objects.ExtractNames(pages)
		if err != nil {
			t.Fatalf("swifttest: list %s: %v", name, err)
		}
		if len(names) == 0 {
			break
		}
		for _, n := range names {
			if err := objects.Delete(ctx, sc, name, n, nil).Err; err != nil && !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
				t.Fatalf("swifttest: delete %s/%s: %v", name, n, err)
			}
		}
	}
	if err := containers.Delete(ctx, sc, name).Err; err != nil && !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("swifttest: delete container %s: %v", name, err)
	}
}
