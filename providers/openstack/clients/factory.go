package clients

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/endpoints"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// trusteeRefresh is how long before its expiry the trustee's token is
// replaced, so that no request carries a service token about to expire.
const trusteeRefresh = 5 * time.Minute

// Factory makes service clients for request contexts. It is safe for
// concurrent use; the trustee's token is shared and renewed before it
// expires.
type Factory struct {
	opts     Options
	http     map[Service]*http.Client
	keystone *http.Client
	now      func() time.Time

	mu      sync.Mutex
	trustee string
	expires time.Time
}

// New returns a factory. A CA file that cannot be read is an error.
func New(opts Options) (*Factory, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	f := &Factory{opts: opts, http: map[Service]*http.Client{}, now: time.Now}
	var err error
	// Keystone's 401 answers a wrong trustee password, not a caller's
	// token: its own message says so, unchanged.
	if f.keystone, err = httpClient(opts.Trustee.CAFile, opts.Trustee.Insecure, opts.Timeout, ""); err != nil {
		return nil, err
	}
	for svc := range known {
		so := opts.Services[svc]
		if f.http[svc], err = httpClient(so.CAFile, so.Insecure, opts.Timeout, string(svc)); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// httpClient returns a client with the TLS options whose requests are
// given up after timeout without progress; with a service name, a 401
// from it is a *TokenError.
func httpClient(caFile string, insecure bool, timeout time.Duration, service string) (*http.Client, error) {
	who := service
	if who == "" {
		who = "keystone"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // the operator's choice (<svc>_auth_insecure)
	if caFile != "" && !insecure {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("clients: %s CA file: %w", who, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("clients: %s CA file %s holds no PEM certificate", who, caFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	idle := &idleTimeout{next: tr, d: timeout}
	if service == "" {
		return &http.Client{Transport: idle}, nil
	}
	return &http.Client{Transport: &refusal{next: idle, service: service}}, nil
}

// TokenError is a request a service refused with 401: the caller's token
// (or karbor's service token) is expired, revoked or not valid for it.
type TokenError struct {
	Service string
	Detail  string
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("%s refused the request's token (expired, revoked or invalid): %s", e.Service, e.Detail)
}

// refusal turns a 401 into a *TokenError, so that no caller retries or
// re-authenticates with a token that will not become valid.
type refusal struct {
	next    http.RoundTripper
	service string
}

func (r *refusal) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_ = resp.Body.Close()
	detail := strings.TrimSpace(string(body))
	if detail == "" {
		detail = resp.Status
	}
	return nil, &TokenError{Service: r.service, Detail: detail}
}

// Client returns a client of svc acting as the caller of rc. Errors:
// AuthorizationFailure when the context carries no token or the trustee
// cannot authenticate, a *TokenError when the caller's token has expired,
// KarborException when no endpoint is found.
func (f *Factory) Client(ctx context.Context, rc *karbor.RequestContext, svc Service) (*gophercloud.ServiceClient, error) {
	info, ok := known[svc]
	if !ok {
		return nil, karbor.KarborException(fmt.Sprintf("Unknown service(%s)", svc))
	}
	if rc.AuthToken == "" {
		return nil, karbor.AuthorizationFailure(fmt.Sprintf("user=%s, project=%s", rc.UserID, rc.ProjectID))
	}
	if exp, ok := tokenExpiry(rc.AuthTokenInfo); ok && !f.now().Before(exp) {
		return nil, &TokenError{Service: string(svc), Detail: "the token expired at " + exp.UTC().Format(time.RFC3339)}
	}
	service, err := f.trusteeToken(ctx)
	if err != nil {
		return nil, err
	}
	endpoint, err := f.endpoint(ctx, rc, svc, service)
	if err != nil {
		return nil, err
	}
	pc := &gophercloud.ProviderClient{HTTPClient: *f.http[svc]}
	pc.UserAgent.Prepend("karbor-protection")
	pc.SetToken(rc.AuthToken)
	sc := &gophercloud.ServiceClient{
		ProviderClient: pc,
		Endpoint:       withSlash(endpoint),
		Type:           info.typ,
		Microversion:   info.microversion,
		MoreHeaders:    map[string]string{"X-Service-Token": service},
	}
	if info.version != "" && !strings.HasSuffix(strings.TrimSuffix(endpoint, "/"), "/"+info.version) {
		sc.ResourceBase = sc.Endpoint + info.version + "/"
	}
	return sc, nil
}

func withSlash(u string) string {
	if strings.HasSuffix(u, "/") {
		return u
	}
	return u + "/"
}

// tokenExpiry reads expires_at from a Keystone token body (v3 "token" or v2
// "access"), as karbor-api passes it in auth_token_info.
func tokenExpiry(info json.RawMessage) (time.Time, bool) {
	if len(info) == 0 {
		return time.Time{}, false
	}
	var body struct {
		Token *struct {
			ExpiresAt string `json:"expires_at"`
		} `json:"token"`
		Access *struct {
			Token struct {
				Expires string `json:"expires"`
			} `json:"token"`
		} `json:"access"`
	}
	if json.Unmarshal(info, &body) != nil {
		return time.Time{}, false
	}
	var s string
	switch {
	case body.Token != nil:
		s = body.Token.ExpiresAt
	case body.Access != nil:
		s = body.Access.Token.Expires
	}
	t, err := karbor.ParseISOTime(s)
	if s == "" || err != nil {
		return time.Time{}, false
	}
	return t, true
}

// identity returns a Keystone v3 client with the given token.
func (f *Factory) identity(token string) *gophercloud.ServiceClient {
	u := strings.TrimSuffix(f.opts.Trustee.AuthURL, "/")
	if !strings.HasSuffix(u, "/v3") {
		u += "/v3"
	}
	pc := &gophercloud.ProviderClient{HTTPClient: *f.keystone}
	pc.UserAgent.Prepend("karbor-protection")
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: u + "/", Type: "identity"}
}

// trusteeToken returns a valid token of the [trustee] user, authenticating
// when the cached one is missing or near its expiry. Failure is karbor's
// AuthorizationFailure(obj="trustee"), wrapping the cause.
func (f *Factory) trusteeToken(ctx context.Context) (string, error) {
	if !f.opts.Configured() {
		return "", karbor.AuthorizationFailure("trustee")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.trustee != "" && f.now().Add(trusteeRefresh).Before(f.expires) {
		return f.trustee, nil
	}
	t := f.opts.Trustee
	opts := tokens.AuthOptions{
		UserID: t.UserID, Username: t.Username, Password: t.Password,
		DomainID: t.UserDomainID, DomainName: t.UserDomainName,
	}
	if t.ProjectID != "" || t.ProjectName != "" {
		opts.Scope = tokens.Scope{ProjectID: t.ProjectID, ProjectName: t.ProjectName,
			DomainID: t.ProjectDomainID, DomainName: t.ProjectDomainName}
	}
	res := tokens.Create(ctx, f.identity(""), &opts)
	tok, err := res.Extract()
	if err == nil {
		f.trustee, f.expires = tok.ID, tok.ExpiresAt
		return tok.ID, nil
	}
	return "", fmt.Errorf("%w: %w", karbor.AuthorizationFailure("trustee"), err)
}

// endpoint finds svc's URL for the caller, in karbor's order: the
// configured endpoint, the context's catalog, Keystone.
func (f *Factory) endpoint(ctx context.Context, rc *karbor.RequestContext, svc Service, trustee string) (string, error) {
	so := f.opts.Services[svc]
	if so.Endpoint != "" {
		if known[svc].appendProject {
			return strings.TrimSuffix(so.Endpoint, "/") + "/" + rc.ProjectID, nil
		}
		return so.Endpoint, nil
	}
	var why []string
	u, err := fromCatalog(rc.ServiceCatalog, so.CatalogInfo)
	if err == nil && u != "" {
		return u, nil
	}
	if err != nil {
		why = append(why, err.Error())
	} else {
		why = append(why, "not in the request's service catalog")
	}
	u, err = f.fromKeystone(ctx, so, trustee)
	if err == nil && u != "" {
		return substituteProject(u, rc.ProjectID), nil
	}
	if err != nil {
		why = append(why, "keystone: "+err.Error())
	} else {
		why = append(why, "keystone lists no such endpoint")
	}
	return "", fmt.Errorf("%w (%s)", karbor.KarborException(fmt.Sprintf("Couldn't find the endpoint of service(%s)", svc)),
		strings.Join(why, "; "))
}

// fromCatalog is karbor's catalog match: the first entry of the type, its
// first endpoint's URL of the endpoint type (publicURL, internalURL, …).
func fromCatalog(catalog []json.RawMessage, catalogInfo string) (string, error) {
	parts := strings.Split(catalogInfo, ":")
	if len(parts) != 3 {
		return "", fmt.Errorf("the catalog info option %q is not <service_type>:<service_name>:<endpoint_type>", catalogInfo)
	}
	for _, raw := range catalog {
		var e struct {
			Type      string              `json:"type"`
			Endpoints []map[string]string `json:"endpoints"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Type != parts[0] {
			continue
		}
		if len(e.Endpoints) == 0 {
			return "", fmt.Errorf("the catalog's %s entry has no endpoint", parts[0])
		}
		return e.Endpoints[0][parts[2]], nil
	}
	return "", nil
}

// fromKeystone looks the endpoint up in Keystone's service and endpoint
// lists, as the trustee.
func (f *Factory) fromKeystone(ctx context.Context, so ServiceOptions, trustee string) (string, error) {
	id := f.identity(trustee)
	pages, err := services.List(id, services.ListOpts{Name: so.ServiceName, ServiceType: so.ServiceType}).AllPages(ctx)
	if err != nil {
		return "", err
	}
	svcs, err := services.ExtractServices(pages)
	if err != nil || len(svcs) == 0 {
		return "", err
	}
	pages, err = endpoints.List(id, endpoints.ListOpts{ServiceID: svcs[0].ID,
		Availability: gophercloud.Availability(so.Interface), RegionID: so.RegionID}).AllPages(ctx)
	if err != nil {
		return "", err
	}
	eps, err := endpoints.ExtractEndpoints(pages)
	if err != nil || len(eps) == 0 {
		return "", err
	}
	return eps[0].URL, nil
}

// substituteProject fills the project placeholders Keystone's catalog
// fills for a scoped token ("%(project_id)s", "$(tenant_id)s", …).
func substituteProject(u, project string) string {
	for _, k := range []string{"project_id", "tenant_id"} {
		u = strings.ReplaceAll(u, "%("+k+")s", project)
		u = strings.ReplaceAll(u, "$("+k+")s", project)
	}
	return u
}
