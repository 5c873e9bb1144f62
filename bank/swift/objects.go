package swift

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gokarbor/karbor-protection/bank"
)

// serializedHeader is the Python plugin's marker of a JSON-encoded value.
const serializedHeader = "X-Object-Meta-Serialized"

// listingLimit is Swift's largest page (CONTAINER_LISTING_LIMIT).
const listingLimit = 10000

// errNotFound is Swift's 404 for an object; it is bank.ErrNotFound.
type errNotFound struct{ path string }

func (e errNotFound) Error() string        { return fmt.Sprintf("swift: %s: 404 Not Found", e.path) }
func (e errNotFound) Is(target error) bool { return target == bank.ErrNotFound }

// objectPath is the object of a bank key: the key, leading "/" kept, in
// the bank's container. Key characters need no escaping in a URL path.
func (p *Plugin) objectPath(key string) string { return p.opts.Container + "/" + key }

// PutObject writes the object with X-Object-Meta-Serialized "True" or
// "False" (Python's str(bool)). The body is sent as it is, with its length,
// never buffered again. A container deleted under the bank is created again.
func (p *Plugin) PutObject(ctx context.Context, key string, obj bank.Object) error {
	if err := bank.CheckPluginKey(key, false); err != nil {
		return err
	}
	c, err := p.conn(ctx)
	if err != nil {
		return err
	}
	serialized := "False"
	if obj.Serialized {
		serialized = "True"
	}
	r := request{
		method: http.MethodPut,
		path:   p.objectPath(key),
		header: map[string]string{serializedHeader: serialized, "Content-Type": "application/octet-stream"},
		body:   obj.Data,
		// 202: a concurrent PUT of the same object with a later timestamp
		// won; ours was accepted and superseded, as with any later write.
		okCodes: []int{201, 202},
	}
	resp, err := c.do(ctx, r)
	if isStatus(err, http.StatusNotFound) {
		if err := c.putContainer(ctx, p.opts.Container); err != nil {
			return &bank.ContainerError{Container: p.opts.Container, Err: err}
		}
		resp, err = c.do(ctx, r)
	}
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

// GetObject reads the object. Serialized is the header's value compared
// case-insensitively with "true", as Python does.
func (p *Plugin) GetObject(ctx context.Context, key string) (bank.Object, error) {
	if err := bank.CheckPluginKey(key, false); err != nil {
		return bank.Object{}, err
	}
	c, err := p.conn(ctx)
	if err != nil {
		return bank.Object{}, err
	}
	path := p.objectPath(key)
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, okCodes: []int{200}})
	if isStatus(err, http.StatusNotFound) {
		return bank.Object{}, errNotFound{path}
	}
	if err != nil {
		return bank.Object{}, err
	}
	defer resp.Body.Close()
	var data []byte
	if n := resp.ContentLength; n >= 0 {
		data = make([]byte, n)
		if _, err := io.ReadFull(resp.Body, data); err != nil {
			return bank.Object{}, fmt.Errorf("swift GET %s: reading %d bytes: %w", path, n, err)
		}
	} else if data, err = io.ReadAll(resp.Body); err != nil {
		return bank.Object{}, fmt.Errorf("swift GET %s: %w", path, err)
	}
	return bank.Object{Data: data, Serialized: strings.EqualFold(resp.Header.Get(serializedHeader), "true")}, nil
}

// DeleteObject deletes the object; a missing one is bank.ErrNotFound, as
// Python's 404 ClientException.
func (p *Plugin) DeleteObject(ctx context.Context, key string) error {
	if err := bank.CheckPluginKey(key, false); err != nil {
		return err
	}
	c, err := p.conn(ctx)
	if err != nil {
		return err
	}
	path := p.objectPath(key)
	resp, err := c.do(ctx, request{method: http.MethodDelete, path: path, okCodes: []int{204}})
	if isStatus(err, http.StatusNotFound) {
		return errNotFound{path}
	}
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

// ListObjects asks Swift for one page: prefix, marker, limit, delimiter
// and reverse go to the server, so a page costs one request of its size.
// Only "all keys" (Limit 0) or a limit above Swift's page size takes more
// than one request. Python's plugin reads the whole container for a
// descending listing and returns it ascending; this honours the contract.
func (p *Plugin) ListObjects(ctx context.Context, opts bank.ListOptions) ([]string, error) {
	if err := bank.CheckPluginKey(opts.Prefix, true); err != nil {
		return nil, err
	}
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	keys := []string{}
	marker := rollUpMarker(opts)
	for {
		page := listingLimit
		if opts.Limit > 0 {
			page = min(opts.Limit-len(keys), listingLimit)
		}
		names, n, last, err := p.listPage(ctx, c, opts, marker, page)
		if err != nil {
			return nil, err
		}
		keys = append(keys, names...)
		if n < page || opts.Limit > 0 && len(keys) >= opts.Limit {
			return keys, nil
		}
		marker = last
	}
}

// rollUpMarker is the marker to send Swift for a delimiter listing whose
// marker lies inside a roll-up R (prefix + "dir/"): the contract compares
// R itself with the marker, Swift compares the names under it. Ascending,
// R sorts before the marker and is skipped: marker R (Swift never returns
// the roll-up equal to the marker). Descending, R is included: the marker
// becomes R with its "/" raised to "0", the first name after all of R.
func rollUpMarker(opts bank.ListOptions) string {
	m := opts.Marker
	if !opts.Delimiter || !strings.HasPrefix(m, opts.Prefix) {
		return m
	}
	i := strings.IndexByte(m[len(opts.Prefix):], '/')
	if i < 0 || len(opts.Prefix)+i+1 == len(m) {
		return m
	}
	r := m[:len(opts.Prefix)+i+1]
	if opts.Desc {
		return r[:len(r)-1] + "0"
	}
	return r
}

type listEntry struct {
	Name   string `json:"name"`
	Subdir string `json:"subdir"`
}

// listPage returns the page's bank keys, how many entries Swift sent and
// the last one (the next page's marker).
func (p *Plugin) listPage(ctx context.Context, c *conn, opts bank.ListOptions, marker string, limit int) (names []string, n int, last string, err error) {
	q := url.Values{"format": {"json"}, "limit": {strconv.Itoa(limit)}, "prefix": {opts.Prefix}}
	if marker != "" {
		q.Set("marker", marker)
	}
	if opts.Delimiter {
		q.Set("delimiter", "/")
	}
	if opts.Desc {
		q.Set("reverse", "true")
	}
	r := request{method: http.MethodGet, path: p.opts.Container, query: q.Encode(), okCodes: []int{200, 204}}
	resp, err := c.do(ctx, r)
	if isStatus(err, http.StatusNotFound) {
		return nil, 0, "", nil // the container is gone, so are its objects
	}
	if err != nil {
		return nil, 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return nil, 0, "", nil
	}
	var entries []listEntry
	if err := decodeJSON(resp, &entries); err != nil {
		return nil, 0, "", fmt.Errorf("swift GET %s: listing: %w", p.opts.Container, err)
	}
	names = make([]string, 0, len(entries))
	for _, e := range entries {
		name := e.Name
		if e.Subdir != "" {
			name = e.Subdir
		}
		// Objects another client put that no bank key can name are left
		// out, as the file-system bank leaves out foreign files.
		if bank.ValidKeyChars(name) {
			names = append(names, name)
		}
		last = name
	}
	return names, len(entries), last, nil
}
