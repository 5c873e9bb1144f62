package swift

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
	"github.com/gokarbor/karbor-protection/bank/swift/swifttest"
)

// realOptions are options for the real Swift behind Keystone, with a
// container of the test's own.
func realOptions(t testing.TB, container string) Options {
	a := swifttest.Keystone(t)
	return Options{
		AuthURL: a.AuthURL, User: a.User, Key: a.Password, TenantName: a.Project,
		Container: container, RetryBackoff: 100 * time.Millisecond,
	}
}

// testContainer is a fresh container name, emptied and deleted when the
// test ends.
func testContainer(t testing.TB) string {
	name := "karbor-test-" + uuid.NewString()[:8]
	t.Cleanup(func() { swifttest.Keystone(t).RemoveContainer(t, name) })
	return name
}

// openReal opens a plugin on the real Swift, closed when the test ends.
func openReal(t testing.TB, opts Options) *Plugin {
	t.Helper()
	p, err := New(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close()) })
	_, err = p.conn(context.Background())
	require.NoError(t, err, "connecting to the real Swift")
	return p
}

func TestConformance(t *testing.T) {
	swifttest.Keystone(t)
	var mu sync.Mutex
	containers := map[string]string{}
	banktest.Run(t, func(t *testing.T, store string, w banktest.Options) banktest.Instance {
		mu.Lock()
		c, ok := containers[store]
		if !ok {
			c = testContainer(t)
			containers[store] = c
		}
		mu.Unlock()
		opts := realOptions(t, c)
		opts.LeaseExpireWindow, opts.LeaseRenewWindow, opts.LeaseValidityWindow, opts.Holder = w.Expire, w.Renew, w.Validity, w.Holder
		p := openReal(t, opts)
		var once sync.Once
		return banktest.Instance{Plugin: p, Crash: func() {
			once.Do(func() {
				p.renewal.Stop()
			})
		}}
	})
}

func TestLeaseObjectIsPythons(t *testing.T) {
	p := openReal(t, realOptions(t, testContainer(t)))
	ctx := context.Background()
	c, err := p.conn(ctx)
	require.NoError(t, err)
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "leases/" + p.OwnerID(), okCodes: []int{200}})
	require.NoError(t, err)
	defer drain(resp)
	body := make([]byte, 100)
	n, _ := resp.Body.Read(body)
	assert.Equal(t, p.OwnerID(), string(body[:n]), "the body is the owner id")
	deleteAt := resp.Header.Get("X-Delete-At")
	require.NotEmpty(t, deleteAt, "Swift expires the lease")
	assert.True(t, strings.TrimSpace(deleteAt) > "0")
}

// TestDomains: a user and project outside the default domain, named by
// swift_user_domain_name and swift_project_domain_name; with the default
// domains the same user is refused.
func TestDomains(t *testing.T) {
	a := swifttest.AltDomain(t)
	container := "karbor-test-" + uuid.NewString()[:8]
	t.Cleanup(func() { a.RemoveContainer(t, container) })
	opts := Options{AuthURL: a.AuthURL, User: a.User, Key: a.Password, TenantName: a.Project,
		UserDomainName: a.Domain, ProjectDomainName: a.Domain, Container: container, RetryBackoff: 100 * time.Millisecond}
	p := openReal(t, opts)
	require.NoError(t, p.PutObject(context.Background(), "/d", bank.Object{Data: []byte("x")}))

	opts.UserDomainName, opts.ProjectDomainName = "", ""
	q, err := New(context.Background(), opts)
	require.NoError(t, err)
	defer q.Close()
	err = q.PutObject(context.Background(), "/d", bank.Object{Data: []byte("x")})
	var ce *bank.ContainerError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "HTTP 401")
}
