package swift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/sirupsen/logrus"
)

// reauthMargin is how long before its expiry the token is renewed, so no
// request goes out with a token about to lapse (keystoneauth renews 30 s
// before; a large upload may take longer than that).
const reauthMargin = 2 * time.Minute

// session is an authenticated connection to one Swift account: the
// ProviderClient holds the token (re-authenticating on a 401 and before the
// token expires), endpoint is the account URL from the catalog.
type session struct {
	provider *gophercloud.ProviderClient
	endpoint string // ends with "/"
}

// authenticate logs in to Keystone as the Python plugin's
// keystoneauth identity.Password does: discovery picks v3 or v2.0.
func authenticate(ctx context.Context, o *Options) (*session, error) {
	provider, err := openstack.NewClient(o.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("swift_auth_url %q: %w", o.AuthURL, err)
	}
	provider.HTTPClient = *o.HTTPClient
	provider.UserAgent.Prepend("karbor-protection")
	provider.ReauthBeforeTokenExpiration = reauthMargin
	ao := gophercloud.AuthOptions{
		IdentityEndpoint: o.AuthURL,
		Username:         o.User,
		Password:         o.Key,
		DomainName:       o.UserDomainName, // v3 only; v2.0 has no domains
		TenantName:       o.TenantName,
		AllowReauth:      true,
	}
	if o.TenantName != "" {
		ao.Scope = &gophercloud.AuthScope{ProjectName: o.TenantName, DomainName: o.ProjectDomainName}
	}
	if err := openstack.Authenticate(ctx, provider, ao); err != nil {
		return nil, authError(o, err)
	}
	sc, err := openstack.NewObjectStorageV1(provider, gophercloud.EndpointOpts{Availability: gophercloud.AvailabilityPublic})
	if err != nil {
		return nil, fmt.Errorf("no object-store endpoint in the catalog of user %q, project %q: %w", o.User, o.TenantName, err)
	}
	return &session{provider: provider, endpoint: sc.ResourceBaseURL()}, nil
}

// authError says why Keystone did not give a token.
func authError(o *Options, err error) error {
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		switch code.Actual {
		case http.StatusUnauthorized:
			return fmt.Errorf("keystone at %s refused the credentials of user %q (domain %q), project %q (domain %q): HTTP 401",
				o.AuthURL, o.User, o.UserDomainName, o.TenantName, o.ProjectDomainName)
		default:
			return fmt.Errorf("keystone at %s: authentication failed with HTTP %d: %s", o.AuthURL, code.Actual, snippet(code.Body))
		}
	}
	return fmt.Errorf("keystone at %s: %w", o.AuthURL, err)
}

// snippet is the start of a response body, for error messages.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// statusError is a Swift answer the caller did not expect.
type statusError struct {
	Method, Path string
	Code         int
	Body         string
	Attempts     int
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("swift %s %s: HTTP %d", e.Method, e.Path, e.Code)
	if e.Body != "" {
		s += ": " + e.Body
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// request is one Swift call; body is sent from the start at every attempt.
type request struct {
	method  string
	path    string // container[/object], relative to the account URL
	query   string
	header  map[string]string
	body    []byte
	okCodes []int
}

// retryable reports whether a failed attempt may be tried again: no
// answer, or an answer saying "later" (5xx, 408, 429, Swift's 498).
func retryable(code int) bool {
	return code == 0 || code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code == 498
}

// do sends a request with the plugin's retries: up to RetryAttempts more
// attempts after one that got no answer or a retryable status, waiting
// RetryBackoff, then twice as long each time. A 401 is handled by the
// ProviderClient (one re-authentication). On success the caller owns the
// response body.
func (c *conn) do(ctx context.Context, r request) (*http.Response, error) {
	url := c.sess.endpoint + r.path
	if r.query != "" {
		url += "?" + r.query
	}
	wait := c.opts.RetryBackoff
	reasked := false
	for attempt := 1; ; attempt++ {
		opts := &gophercloud.RequestOpts{
			MoreHeaders:      r.header,
			OkCodes:          r.okCodes,
			KeepResponseBody: true,
		}
		if r.body != nil || r.method == http.MethodPut {
			opts.RawBody = bytes.NewReader(r.body)
		}
		resp, err := c.sess.provider.Request(ctx, r.method, url, opts)
		if err == nil {
			return resp, nil
		}
		code := 0
		var uc gophercloud.ErrUnexpectedResponseCode
		if errors.As(err, &uc) {
			code = uc.Actual
			err = &statusError{Method: r.method, Path: r.path, Code: code, Body: snippet(uc.Body), Attempts: attempt}
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		} else {
			err = fmt.Errorf("swift %s %s: %w", r.method, r.path, err)
		}
		if code == http.StatusNotFound && !reasked && isObjectRead(r) {
			// One object server answers 404 for an object that exists
			// when a read lists the object's files just before a
			// concurrent write (a lease renewal's POST, an overwrite)
			// replaces them: the read then opens a file already gone.
			// With one replica nothing else answers for it, so a 404 is
			// believed only when a second look, at once, agrees. The
			// second look is not a retry: the attempts stay as they are.
			reasked = true
			attempt--
			continue
		}
		if !retryable(code) || attempt > c.opts.RetryAttempts {
			if code == 0 && attempt > 1 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return nil, err
		}
		c.log.WithError(err).Debugf("swift request failed; retrying in %v", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}

// isObjectRead reports whether r reads an object (not a container).
func isObjectRead(r request) bool {
	return (r.method == http.MethodGet || r.method == http.MethodHead) && strings.Contains(r.path, "/")
}

// drain reads and closes a response body so its connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// isStatus reports whether err is a Swift answer with that code.
func isStatus(err error, code int) bool {
	var se *statusError
	return errors.As(err, &se) && se.Code == code
}

// conn is the plugin's state once connected: the session and its options.
type conn struct {
	sess *session
	opts *Options
	log  *logrus.Entry
}

// putContainer creates a container (201) or finds it (202).
func (c *conn) putContainer(ctx context.Context, name string) error {
	resp, err := c.do(ctx, request{method: http.MethodPut, path: name, okCodes: []int{201, 202, 204}})
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

// decodeJSON decodes a response body.
func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
