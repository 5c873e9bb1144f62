package ostest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// Peers are the real services' coordinates, from the environment
// scripts/ensure-openstack.sh exports (with its defaults).
type Peers struct {
	AuthURL                         string
	User, Password, Project         string
	TrusteeUser, TrusteePassword    string
	AdminUser, AdminPass, AdminProj string
}

// RealPeers returns the peers' coordinates, skipping the test (failing it
// under CI=true) when Keystone or one of the services does not answer.
func RealPeers(t testing.TB) Peers {
	t.Helper()
	p := Peers{
		AuthURL:         rpctest.EnvOr("KARBOR_TEST_OS_AUTH_URL", "http://127.0.0.1:5000/v3"),
		User:            rpctest.EnvOr("KARBOR_TEST_OS_USER", "demo"),
		Password:        rpctest.EnvOr("KARBOR_TEST_OS_PASSWORD", "password"),
		Project:         rpctest.EnvOr("KARBOR_TEST_OS_PROJECT", "demo"),
		TrusteeUser:     rpctest.EnvOr("KARBOR_TEST_OS_TRUSTEE_USER", "karbor"),
		TrusteePassword: rpctest.EnvOr("KARBOR_TEST_OS_TRUSTEE_PASSWORD", "password"),
		AdminUser:       rpctest.EnvOr("KARBOR_TEST_OS_ADMIN_USER", "admin"),
		AdminPass:       rpctest.EnvOr("KARBOR_TEST_OS_ADMIN_PASSWORD", "admin"),
		AdminProj:       rpctest.EnvOr("KARBOR_TEST_OS_ADMIN_PROJECT", "admin"),
	}
	c := &http.Client{Timeout: 10 * time.Second}
	for _, u := range []string{p.AuthURL, "http://127.0.0.1:8774/", "http://127.0.0.1:8776/", "http://127.0.0.1:9292/", "http://127.0.0.1:9696/"} {
		resp, err := c.Get(u)
		if err == nil {
			_ = resp.Body.Close()
		}
		if err != nil || resp.StatusCode >= 500 {
			rpctest.Unavailable(t, "OpenStack service %s does not answer: %v (scripts/ensure-openstack.sh starts them)", u, err)
		}
	}
	return p
}

// Token authenticates user with password, scoped to project, and returns
// the token and its body.
func (p Peers) Token(t testing.TB, user, password, project string) (string, map[string]any) {
	t.Helper()
	req := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": user, "password": password, "domain": map[string]any{"id": "default"}}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]any{"id": "default"}}},
	}}
	raw, _ := json.Marshal(req)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Post(p.AuthURL+"/auth/tokens", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("keystone: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("keystone: token for %s: HTTP %d %v", user, resp.StatusCode, err)
	}
	return resp.Header.Get("X-Subject-Token"), body
}

// Context is the demo user's request context as karbor-api sends it, with
// a fresh token from the real Keystone.
func (p Peers) Context(t testing.TB) karbor.RequestContext {
	t.Helper()
	tok, body := p.Token(t, p.User, p.Password, p.Project)
	return ContextFromToken(t, tok, body)
}

// KarborConf is the [trustee] section of a karbor.conf for these peers.
func (p Peers) KarborConf() string {
	return fmt.Sprintf("[trustee]\nauth_type = password\nauth_url = %s\nusername = %s\npassword = %s\nuser_domain_id = default\nproject_name = service\nproject_domain_id = default\n",
		p.AuthURL, p.TrusteeUser, p.TrusteePassword)
}
