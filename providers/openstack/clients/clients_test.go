package clients_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
)

func conf(t *testing.T, text string) *config.Config {
	t.Helper()
	f, err := config.ParseFile("karbor.conf", []byte(text))
	require.NoError(t, err)
	return config.New(config.KarborRegistry(), []*config.File{f}, nil)
}

func trustee(f *ostest.Fake, password string) string {
	return "[trustee]\nauth_type = password\nauth_url = " + f.URL("keystone") + "/v3\nusername = karbor\npassword = " + password +
		"\nuser_domain_id = default\nproject_name = service\nproject_domain_id = default\n"
}

func factory(t *testing.T, text string) *clients.Factory {
	t.Helper()
	opts, err := clients.OptionsFrom(conf(t, text))
	require.NoError(t, err)
	c, err := clients.New(opts)
	require.NoError(t, err)
	return c
}

var future = time.Now().Add(time.Hour)

func TestOptionsFrom(t *testing.T) {
	o, err := clients.OptionsFrom(nil)
	require.NoError(t, err)
	assert.False(t, o.Configured(), "no [trustee]: karbor fails every client")
	assert.Equal(t, clients.ServiceOptions{CatalogInfo: "volumev3:cinderv3:publicURL", ServiceName: "cinderv3",
		ServiceType: "volumev3", RegionID: "RegionOne", Interface: "internal"}, o.Services[clients.Cinder])

	o, err = clients.OptionsFrom(conf(t, "[trustee]\nauth_type = password\nauth_url = http://k/v3\n"+
		"[nova_client]\nnova_endpoint = http://n/v2.1\nnova_ca_cert_file = /ca.pem\nnova_auth_insecure = true\nregion_id = R2\n"))
	require.NoError(t, err)
	assert.True(t, o.Configured())
	assert.Equal(t, clients.ServiceOptions{Endpoint: "http://n/v2.1", CatalogInfo: "compute:nova:publicURL", ServiceName: "nova",
		ServiceType: "compute", RegionID: "R2", Interface: "internal", CAFile: "/ca.pem", Insecure: true}, o.Services[clients.Nova])

	for _, bad := range []struct{ name, text, want string }{
		{"token auth", "[trustee]\nauth_type = token\nauth_url = http://k\n", `auth_type "token" is not supported`},
		{"no auth_url", "[trustee]\nauth_type = password\n", "auth_url is required"},
		{"bad bool", "[glance_client]\nglance_auth_insecure = maybe\n", "glance_auth_insecure"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := clients.OptionsFrom(conf(t, bad.text))
			require.Error(t, err)
			assert.Contains(t, err.Error(), bad.want)
		})
	}
}

func TestClientFromCatalogSendsBothTokensAndMicroversion(t *testing.T) {
	f := ostest.NewFake(t)
	c := factory(t, trustee(f, "password"))
	rc := f.Context(t, "user-token", future)
	ctx := context.Background()

	cinder, err := c.Client(ctx, &rc, clients.Cinder)
	require.NoError(t, err)
	_, err = volumes.Get(ctx, cinder, f.World.Volumes[0]).Extract()
	require.NoError(t, err)
	nova, err := c.Client(ctx, &rc, clients.Nova)
	require.NoError(t, err)
	_, err = servers.Get(ctx, nova, f.World.Server).Extract()
	require.NoError(t, err)
	assert.Empty(t, f.Unmatched())

	var auths, calls int
	for _, r := range f.Requests() {
		if r.Service == "keystone" {
			auths++
			continue
		}
		calls++
		assert.Equal(t, "user-token", r.Header.Get("X-Auth-Token"), r.URI)
		assert.Equal(t, "trustee-token", r.Header.Get("X-Service-Token"), r.URI)
		switch r.Service {
		case "cinder":
			assert.Equal(t, "volume 3.43", r.Header.Get("OpenStack-API-Version"))
		case "nova":
			assert.Empty(t, r.Header.Get("OpenStack-API-Version"), "nova at its base version, as novaclient '2'")
			assert.Empty(t, r.Header.Get("X-OpenStack-Nova-API-Version"))
		}
	}
	assert.Equal(t, 1, auths, "the trustee's token is reused")
	assert.Equal(t, 2, calls)
}

func TestClientFromConfiguredEndpointAppendsProject(t *testing.T) {
	f := ostest.NewFake(t)
	c := factory(t, trustee(f, "password")+"[cinder_client]\ncinder_endpoint = "+f.URL("cinder")+"/v3\n")
	rc := f.Context(t, "user-token", future)
	rc.ServiceCatalog = nil
	cinder, err := c.Client(context.Background(), &rc, clients.Cinder)
	require.NoError(t, err)
	assert.Equal(t, f.URL("cinder")+"/v3/"+f.World.ProjectID+"/", cinder.Endpoint)
}

func TestClientFromKeystoneLookup(t *testing.T) {
	f := ostest.NewFake(t)
	// A malformed catalog_info is passed over, as in karbor.
	c := factory(t, trustee(f, "password")+"[cinder_client]\ncinder_catalog_info = volumev3\n")
	rc := f.Context(t, "user-token", future)
	cinder, err := c.Client(context.Background(), &rc, clients.Cinder)
	require.NoError(t, err)
	assert.Equal(t, f.URL("cinder")+"/v3/"+f.World.ProjectID+"/", cinder.Endpoint, "the template's project filled in")
	_, err = volumes.Get(context.Background(), cinder, f.World.Volumes[0]).Extract()
	require.NoError(t, err)
	assert.Empty(t, f.Unmatched())
}

func TestClientNoEndpoint(t *testing.T) {
	f := ostest.NewFake(t)
	c := factory(t, trustee(f, "password"))
	rc := f.Context(t, "user-token", future)
	rc.ServiceCatalog = nil
	_, err := c.Client(context.Background(), &rc, clients.Glance) // Keystone's services list for glance was not captured
	require.ErrorIs(t, err, karbor.ExcKarborException)
	assert.Contains(t, err.Error(), "Couldn't find the endpoint of service(glance)")
	assert.Contains(t, err.Error(), "not in the request's service catalog")
}

func TestGlanceAndNeutronVersionedResourceBase(t *testing.T) {
	f := ostest.NewFake(t)
	c := factory(t, trustee(f, "password"))
	rc := f.Context(t, "user-token", future)
	g, err := c.Client(context.Background(), &rc, clients.Glance)
	require.NoError(t, err)
	assert.Equal(t, f.URL("glance")+"/v2/", g.ResourceBaseURL())
	n, err := c.Client(context.Background(), &rc, clients.Neutron)
	require.NoError(t, err)
	assert.Equal(t, f.URL("neutron")+"/v2.0/", n.ResourceBaseURL())

	c = factory(t, trustee(f, "password")+"[glance_client]\nglance_endpoint = "+f.URL("glance")+"/v2\n")
	g, err = c.Client(context.Background(), &rc, clients.Glance)
	require.NoError(t, err)
	assert.Equal(t, f.URL("glance")+"/v2/", g.ResourceBaseURL(), "a versioned endpoint is not versioned twice")
}

func TestTokenErrors(t *testing.T) {
	f := ostest.NewFake(t)
	c := factory(t, trustee(f, "password"))
	ctx := context.Background()

	t.Run("no token", func(t *testing.T) {
		rc := f.Context(t, "", future)
		_, err := c.Client(ctx, &rc, clients.Nova)
		require.ErrorIs(t, err, karbor.ExcAuthorizationFailure)
		assert.Equal(t, "Authorization for user="+rc.UserID+", project="+rc.ProjectID+" is failed ", err.Error())
	})
	t.Run("expired by its body", func(t *testing.T) {
		before := len(f.Requests())
		rc := f.Context(t, "user-token", time.Now().Add(-time.Minute))
		_, err := c.Client(ctx, &rc, clients.Nova)
		var te *clients.TokenError
		require.ErrorAs(t, err, &te)
		assert.Contains(t, err.Error(), "the token expired at")
		assert.Len(t, f.Requests(), before, "nothing is asked with an expired token")
	})
	for svc, call := range map[clients.Service]func(context.Context, *testing.T, *clients.Factory, *karbor.RequestContext) error{
		clients.Nova: func(ctx context.Context, t *testing.T, c *clients.Factory, rc *karbor.RequestContext) error {
			sc, err := c.Client(ctx, rc, clients.Nova)
			require.NoError(t, err)
			_, err = servers.List(sc, servers.ListOpts{}).AllPages(ctx)
			return err
		},
		clients.Cinder: func(ctx context.Context, t *testing.T, c *clients.Factory, rc *karbor.RequestContext) error {
			sc, err := c.Client(ctx, rc, clients.Cinder)
			require.NoError(t, err)
			_, err = volumes.List(sc, volumes.ListOpts{}).AllPages(ctx)
			return err
		},
	} {
		t.Run("refused by "+string(svc), func(t *testing.T) {
			rc := f.Context(t, ostest.ExpiredToken, future)
			err := call(ctx, t, c, &rc)
			var te *clients.TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, string(svc), te.Service)
			assert.Contains(t, err.Error(), "The request you have made requires authentication.")
		})
	}
}

func TestTrusteeFailures(t *testing.T) {
	f := ostest.NewFake(t)
	rc := f.Context(t, "user-token", future)

	c := factory(t, trustee(f, "wrong"))
	_, err := c.Client(context.Background(), &rc, clients.Nova)
	require.ErrorIs(t, err, karbor.ExcAuthorizationFailure)
	assert.True(t, strings.HasPrefix(err.Error(), "Authorization for trustee is failed : "), err.Error())
	assert.Contains(t, err.Error(), "The request you have made requires authentication", "Keystone's own words")
	assert.NotContains(t, err.Error(), "refused the request's token", "not the caller's token")

	c = factory(t, "")
	_, err = c.Client(context.Background(), &rc, clients.Nova)
	require.ErrorIs(t, err, karbor.ExcAuthorizationFailure)
	assert.Equal(t, "Authorization for trustee is failed ", err.Error())
}

func TestTimeoutNeverHangs(t *testing.T) {
	f := ostest.NewFake(t)
	f.Stall("nova")
	opts, err := clients.OptionsFrom(conf(t, trustee(f, "password")))
	require.NoError(t, err)
	opts.Timeout = 100 * time.Millisecond
	c, err := clients.New(opts)
	require.NoError(t, err)
	rc := f.Context(t, "user-token", future)
	nova, err := c.Client(context.Background(), &rc, clients.Nova)
	require.NoError(t, err)
	_, err = servers.Get(context.Background(), nova, f.World.Server).Extract()
	var timeout net.Error
	require.ErrorAs(t, err, &timeout)
	assert.True(t, timeout.Timeout(), err.Error())
}

// TestTimeoutIsIdleTime: the timeout bounds a request's time without
// progress, not its length. An answer trickling in, and a body sent
// slowly, outlast it; an answer that stops half-way is given up.
func TestTimeoutIsIdleTime(t *testing.T) {
	const timeout = 500 * time.Millisecond
	const pieces = 8 // one every timeout/5: 1.6 timeouts in all
	trickle := func(w http.ResponseWriter, r *http.Request, stopAfter int) {
		w.WriteHeader(http.StatusOK)
		tick := time.NewTicker(timeout / 5)
		defer tick.Stop()
		for i := range pieces {
			if i == stopAfter {
				<-r.Context().Done() // until the client goes away
				return
			}
			_, _ = w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			<-tick.C
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/trickle":
			trickle(w, r, -1)
		case "/v2/stall":
			trickle(w, r, 2)
		case "/v2/upload":
			n, _ := io.Copy(io.Discard, r.Body)
			_, _ = fmt.Fprint(w, n)
		}
	}))
	defer srv.Close()
	f := ostest.NewFake(t)
	opts, err := clients.OptionsFrom(conf(t, trustee(f, "password")+"[glance_client]\nglance_endpoint = "+srv.URL+"\n"))
	require.NoError(t, err)
	opts.Timeout = timeout
	c, err := clients.New(opts)
	require.NoError(t, err)
	rc := f.Context(t, "user-token", future)
	glance, err := c.Client(context.Background(), &rc, clients.Glance)
	require.NoError(t, err)
	get := func(path string) (string, error) {
		resp, err := glance.Request(context.Background(), http.MethodGet, glance.ServiceURL(path), &gophercloud.RequestOpts{KeepResponseBody: true})
		if err != nil {
			return "", err
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	t.Run("an answer that keeps coming", func(t *testing.T) {
		body, err := get("trickle")
		require.NoError(t, err)
		assert.Equal(t, strings.Repeat("x", pieces), body)
	})
	t.Run("an answer that stops", func(t *testing.T) {
		body, err := get("stall")
		var timeout net.Error
		require.ErrorAs(t, err, &timeout)
		assert.True(t, timeout.Timeout(), err.Error())
		assert.Contains(t, err.Error(), "no progress for 500ms")
		assert.Equal(t, "xx", body)
	})
	t.Run("a body sent slowly", func(t *testing.T) {
		resp, err := glance.Request(context.Background(), http.MethodPut, glance.ServiceURL("upload"), &gophercloud.RequestOpts{
			RawBody: &slowReader{left: pieces, every: timeout / 5}, KeepResponseBody: true, OkCodes: []int{http.StatusOK}})
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint(pieces), string(b))
	})
}

// slowReader gives a byte every interval, left times.
type slowReader struct {
	left  int
	every time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	<-time.After(r.every)
	r.left--
	p[0] = 'x'
	return 1, nil
}

func TestTLSOptions(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"server": {"id": "s", "name": "n", "status": "ACTIVE", "image": ""}}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	srv.StartTLS()
	defer srv.Close()
	f := ostest.NewFake(t)
	rc := f.Context(t, "user-token", future)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	notPEM := filepath.Join(dir, "bad.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("nope"), 0o600))

	get := func(extra string) error {
		c := factory(t, trustee(f, "password")+"[nova_client]\nnova_endpoint = "+srv.URL+"/v2.1\n"+extra)
		nova, err := c.Client(context.Background(), &rc, clients.Nova)
		require.NoError(t, err)
		_, err = servers.Get(context.Background(), nova, "s").Extract()
		return err
	}
	err := get("")
	var unknownCA x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknownCA, "the system roots do not know the test CA")
	require.NoError(t, get("nova_ca_cert_file = "+ca+"\n"))
	require.NoError(t, get("nova_auth_insecure = true\n"))

	for _, bad := range []string{filepath.Join(dir, "missing.pem"), notPEM} {
		opts, err := clients.OptionsFrom(conf(t, trustee(f, "password")+"[nova_client]\nnova_ca_cert_file = "+bad+"\n"))
		require.NoError(t, err)
		_, err = clients.New(opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "nova CA file")
		assert.False(t, errors.Is(err, karbor.ExcKarborException))
	}
}
