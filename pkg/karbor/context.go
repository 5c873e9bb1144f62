package karbor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// ContextKeys are the context keys karbor's RequestContext.from_dict keeps;
// every other "_context_*" key of a request is dropped.
var ContextKeys = []string{
	"user_id", "project_id", "project_name", "domain", "read_deleted", "remote_address",
	"timestamp", "quota_class", "service_catalog", "request_id", "is_admin", "roles",
	"auth_token", "user_domain", "project_domain", "auth_token_info",
}

// catalogTypes are the service types karbor keeps from a service catalog.
var catalogTypes = []string{
	"identity", "compute", "object-store", "image", "volume", "volumev2", "network",
	"volumev3", "orchestration", "share", "sharev2", "database",
}

// RequestContext is the caller's context as the protection service rebuilds
// it from a request (karbor.context.RequestContext.from_dict). JSON null and
// a missing key both read as the zero value.
type RequestContext struct {
	UserID        string
	ProjectID     string
	ProjectName   string
	Domain        string
	UserDomain    string
	ProjectDomain string
	// ReadDeleted is "no", "yes" or "only" ("no" when absent).
	ReadDeleted   string
	RemoteAddress string
	// Timestamp is when the API made the request; the time of decoding when
	// the request has none, as in Python.
	Timestamp  time.Time
	QuotaClass string
	// ServiceCatalog keeps the catalog entries (raw JSON objects) whose
	// "type" is one karbor uses, in order.
	ServiceCatalog []json.RawMessage
	// RequestID is the API's request id, or a new "req-<uuid>" when the
	// request carries none (as oslo.context does).
	RequestID string
	// IsAdmin is the caller's admin flag; when the request does not say,
	// it is whether the roles include "admin" (karbor's default
	// context_is_admin policy). An admin context always has the role.
	IsAdmin       bool
	Roles         []string
	AuthToken     string
	AuthTokenInfo json.RawMessage // nil when absent or null
}

// ContextError is a context value of the wrong JSON type.
type ContextError struct {
	Key  string
	Want string
	Got  json.RawMessage
}

func (e *ContextError) Error() string {
	got := string(e.Got)
	if len(got) > 64 {
		got = got[:61] + "..."
	}
	return fmt.Sprintf("request context: %q must be %s, got %s", e.Key, e.Want, got)
}

// FromDict rebuilds the context from the request's "_context_*" values (the
// prefix already stripped). Unknown keys are ignored and null reads as
// absent. Errors: a *ContextError for a value of the wrong JSON type; the
// TypeError or ValueError (a *BuiltinError, for the reply) Python raises for
// a missing user_id/project_id, a bad read_deleted or an unparsable
// timestamp.
func FromDict(d map[string]json.RawMessage) (RequestContext, error) {
	var v ContextValues
	for k, raw := range d {
		v.Add(k, raw)
	}
	return FromValues(&v)
}

// ContextValues gathers the members of a request context karbor keeps, as
// they come: a caller holding them in a list builds no map of them. Of a
// key added twice the last value counts, as in the dict Python builds.
type ContextValues struct {
	raw [16]json.RawMessage // by keyIndex, ContextKeys' order
	set [16]bool
}

// Add files the member key (prefix already stripped); a key karbor drops is
// ignored.
func (d *ContextValues) Add(key string, value json.RawMessage) {
	if i := keyIndex(key); i >= 0 {
		d.raw[i], d.set[i] = value, true
	}
}

// FromValues is FromDict for the members gathered in d.
func FromValues(d *ContextValues) (RequestContext, error) {
	var missing []string
	for _, k := range []string{"user_id", "project_id"} {
		if _, ok := d.get(k); !ok {
			missing = append(missing, python.ReprString(k))
		}
	}
	if len(missing) > 0 {
		return RequestContext{}, missingArgs(missing)
	}
	// A copy: a reader's error flows to the result, and escape analysis
	// would move the caller's values to the heap with it.
	r := dictReader{d: *d}
	var c RequestContext
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"user_id", &c.UserID}, {"project_id", &c.ProjectID}, {"project_name", &c.ProjectName},
		{"domain", &c.Domain}, {"user_domain", &c.UserDomain}, {"project_domain", &c.ProjectDomain},
		{"remote_address", &c.RemoteAddress}, {"quota_class", &c.QuotaClass},
		{"request_id", &c.RequestID}, {"auth_token", &c.AuthToken},
	} {
		r.str(f.key, f.dst)
	}
	c.Roles = r.strList("roles")
	isAdmin, adminGiven := r.boolean("is_admin")
	catalog := r.list("service_catalog")
	if raw, ok := d.get("auth_token_info"); ok && !isNull(raw) {
		c.AuthTokenInfo = slices.Clone(raw)
	}
	var ts string
	r.str("timestamp", &ts)
	tsRaw, _ := d.get("timestamp")
	tsGiven := !isNull(tsRaw)
	r.strings.fill()
	if r.err != nil {
		return RequestContext{}, r.err
	}
	if err := c.setReadDeleted(d); err != nil {
		return RequestContext{}, err
	}
	if err := c.setCatalog(catalog); err != nil {
		return RequestContext{}, err
	}
	c.Timestamp = time.Now().UTC()
	if tsGiven && ts != "" {
		t, err := ParseISOTime(ts)
		if err != nil {
			return RequestContext{}, err
		}
		c.Timestamp = t
	}
	if c.RequestID == "" {
		c.RequestID = "req-" + uuid.NewString()
	}
	if c.Roles == nil {
		c.Roles = []string{}
	}
	c.IsAdmin = isAdmin
	if !adminGiven {
		c.IsAdmin = slices.ContainsFunc(c.Roles, func(r string) bool { return strings.EqualFold(r, "admin") })
	} else if isAdmin && !slices.Contains(c.Roles, "admin") {
		c.Roles = append(c.Roles, "admin")
	}
	return c, nil
}

// FromMap is FromDict for an already decoded JSON object.
func FromMap(m map[string]any) (RequestContext, error) {
	d := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		raw, err := json.Marshal(v)
		if err != nil {
			return RequestContext{}, fmt.Errorf("request context: %q: %w", k, err)
		}
		d[k] = raw
	}
	return FromDict(d)
}

func missingArgs(names []string) error {
	if len(names) == 1 {
		return TypeError("RequestContext.__init__() missing 1 required positional argument: " + names[0])
	}
	return TypeError("RequestContext.__init__() missing 2 required positional arguments: " + names[0] + " and " + names[1])
}

func (c *RequestContext) setReadDeleted(d *ContextValues) error {
	raw, ok := d.get("read_deleted")
	if !ok {
		c.ReadDeleted = "no"
		return nil
	}
	s, ok := readDeletedValue(raw)
	if !ok {
		s, ok = unmarshalString(raw)
	}
	if !ok || (s != "no" && s != "yes" && s != "only") {
		return ValueError("read_deleted can only be one of 'no', 'yes' or 'only', not " + python.ReprJSON(raw))
	}
	c.ReadDeleted = s
	return nil
}

// readDeletedValue reads the common values of read_deleted without
// allocating; false for any other text.
func readDeletedValue(raw json.RawMessage) (string, bool) {
	for _, v := range []string{"no", "yes", "only"} {
		if len(raw) == len(v)+2 && raw[0] == '"' && string(raw[1:len(raw)-1]) == v {
			return v, true
		}
	}
	return plainString(raw)
}

// unmarshalString is raw decoded as a JSON string; false if it is not one.
func unmarshalString(raw json.RawMessage) (string, bool) {
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// setCatalog keeps the entries of the types karbor uses; an entry that is
// not an object is an error (Python fails on entry.get).
func (c *RequestContext) setCatalog(entries []json.RawMessage) error {
	c.ServiceCatalog = []json.RawMessage{}
	for i, e := range entries {
		var entry map[string]json.RawMessage
		if json.Unmarshal(e, &entry) != nil || entry == nil {
			return &ContextError{Key: fmt.Sprintf("service_catalog[%d]", i), Want: "an object", Got: e}
		}
		var typ string
		if json.Unmarshal(entry["type"], &typ) == nil && slices.Contains(catalogTypes, typ) {
			c.ServiceCatalog = append(c.ServiceCatalog, slices.Clone(e))
		}
	}
	return nil
}

// Admin is the admin half of karbor's default admin_or_owner rule
// (karbor/policies/base.py): "is_admin:True or (role:admin and
// is_admin_project:True)". oslo.policy compares roles case-insensitively,
// and is_admin_project is not among the keys the service keeps, so it is
// True: a context whose roles include "admin" in any case is an admin even
// when the request says is_admin false.
func (c RequestContext) Admin() bool {
	return c.IsAdmin || slices.ContainsFunc(c.Roles, func(r string) bool { return strings.EqualFold(r, "admin") })
}

// IsAdminOrOwner is the protection service's access rule, karbor's default
// admin_or_owner: an admin context (Admin), or one of the project that owns
// the thing.
func (c RequestContext) IsAdminOrOwner(projectID string) bool {
	return c.Admin() || c.ProjectID == projectID
}

// ToDict is the context as the karbor API sends it: oslo.context's to_dict
// plus karbor's keys, each value as the API would put it on the wire. It is
// meant for building requests in tests and clients.
func (c RequestContext) ToDict() map[string]any {
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	catalog := make([]any, len(c.ServiceCatalog))
	for i, e := range c.ServiceCatalog {
		catalog[i] = json.RawMessage(e)
	}
	var tokenInfo any
	if c.AuthTokenInfo != nil {
		tokenInfo = json.RawMessage(c.AuthTokenInfo)
	}
	roles := slices.Clone(c.Roles)
	if roles == nil {
		roles = []string{}
	}
	readDeleted := c.ReadDeleted
	if readDeleted == "" {
		readDeleted = "no"
	}
	return map[string]any{
		"user":              orNil(c.UserID),
		"project_id":        orNil(c.ProjectID),
		"system_scope":      nil,
		"project":           orNil(c.ProjectID),
		"domain":            orNil(c.Domain),
		"user_domain":       orNil(c.UserDomain),
		"project_domain":    orNil(c.ProjectDomain),
		"is_admin":          c.IsAdmin,
		"read_only":         false,
		"show_deleted":      false,
		"auth_token":        orNil(c.AuthToken),
		"request_id":        orNil(c.RequestID),
		"global_request_id": nil,
		"resource_uuid":     nil,
		"roles":             roles,
		"user_identity":     strings.Join([]string{dash(c.UserID), dash(c.ProjectID), dash(c.Domain), dash(c.UserDomain), dash(c.ProjectDomain)}, " "),
		"is_admin_project":  true,
		"user_id":           orNil(c.UserID),
		"project_name":      orNil(c.ProjectName),
		"read_deleted":      readDeleted,
		"remote_address":    orNil(c.RemoteAddress),
		"timestamp":         pyIsoformat(c.Timestamp),
		"quota_class":       orNil(c.QuotaClass),
		"service_catalog":   catalog,
		"auth_token_info":   tokenInfo,
	}
}

// DictKeys are the keys of ToDict in the order the karbor API emits them.
var DictKeys = []string{
	"user", "project_id", "system_scope", "project", "domain", "user_domain", "project_domain",
	"is_admin", "read_only", "show_deleted", "auth_token", "request_id", "global_request_id",
	"resource_uuid", "roles", "user_identity", "is_admin_project", "user_id", "project_name",
	"read_deleted", "remote_address", "timestamp", "quota_class", "service_catalog", "auth_token_info",
}

// pyIsoformat is datetime.isoformat() of a naive UTC time: microseconds
// only when not zero.
func pyIsoformat(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04:05.000000")
}

// keyIndex is key's place in ContextKeys, -1 for a key karbor drops.
func keyIndex(key string) int {
	switch key {
	case "user_id":
		return 0
	case "project_id":
		return 1
	case "project_name":
		return 2
	case "domain":
		return 3
	case "read_deleted":
		return 4
	case "remote_address":
		return 5
	case "timestamp":
		return 6
	case "quota_class":
		return 7
	case "service_catalog":
		return 8
	case "request_id":
		return 9
	case "is_admin":
		return 10
	case "roles":
		return 11
	case "auth_token":
		return 12
	case "user_domain":
		return 13
	case "project_domain":
		return 14
	case "auth_token_info":
		return 15
	}
	return -1
}

// get is key's value and whether it was given (nil, false for a key
// karbor drops).
func (d *ContextValues) get(key string) (json.RawMessage, bool) {
	i := keyIndex(key)
	if i < 0 {
		return nil, false
	}
	return d.raw[i], d.set[i]
}

// dictReader reads typed values from a context's values, keeping the first
// type error.
type dictReader struct {
	d       ContextValues
	err     error
	strings stringArena
}

// stringArena gathers the plain string values of a context into one
// allocation: a request's context has a dozen of them, and one allocation
// per value was most of what a call that reads nothing else allocated.
// The strings are set by fill.
type stringArena struct {
	dst   [24]*string
	src   [24][]byte
	n     int
	total int
}

// add has fill set *dst to the text src.
func (a *stringArena) add(dst *string, src []byte) {
	if a.n == len(a.dst) {
		*dst = string(src)
		return
	}
	a.dst[a.n], a.src[a.n] = dst, src
	a.n++
	a.total += len(src)
}

// fill sets every string added, as substrings of one.
func (a *stringArena) fill() {
	var b strings.Builder
	b.Grow(a.total)
	for _, s := range a.src[:a.n] {
		b.Write(s)
	}
	all := b.String()
	off := 0
	for i, s := range a.src[:a.n] {
		*a.dst[i] = all[off : off+len(s)]
		off += len(s)
	}
	a.n, a.total = 0, 0
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// value is key's value, nil when absent.
func (r *dictReader) value(key string) json.RawMessage {
	raw, _ := r.d.get(key)
	return raw
}

// Every request carries a context of some twenty members, read here before
// its method runs; the common shapes of a value (ASCII strings without
// escapes, true, false, a list of such strings) are read directly, the rest
// by encoding/json.

// str reads a string value into *dst; a plain one is set by
// r.strings.fill.
func (r *dictReader) str(key string, dst *string) {
	if inner, ok := plainStringText(r.value(key)); ok {
		r.strings.add(dst, inner)
		return
	}
	if s, ok := decoded[string](r, key, "a string"); ok {
		*dst = s
	}
}

// decoded is key's value as encoding/json decodes it into a T; false when
// it is absent, null or not a T, the first such type error kept as r.err.
// Decoding into a variable of its own keeps the caller's destination off
// the heap: encoding/json's pointer would move it there on every request,
// not only on the rare ones that get here.
func decoded[T any](r *dictReader, key, want string) (T, bool) {
	var zero T
	raw := r.value(key)
	if isNull(raw) {
		return zero, false
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		if r.err == nil {
			r.err = &ContextError{Key: key, Want: want, Got: raw}
		}
		return zero, false
	}
	return *v, true
}

func (r *dictReader) boolean(key string) (value, given bool) {
	switch string(r.value(key)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return decoded[bool](r, key, "a boolean")
}

// strList reads a list of strings; plain ones are set by r.strings.fill.
func (r *dictReader) strList(key string) []string {
	raw := r.value(key)
	if n, ok := eachPlainString(raw, nil); ok {
		l := make([]string, n)
		eachPlainString(raw, func(i int, inner []byte) { r.strings.add(&l[i], inner) })
		return l
	}
	l, _ := decoded[[]string](r, key, "a list of strings")
	return l
}

// plainString is the value of a JSON string of printable ASCII without
// escapes; false for any other text.
func plainString(raw json.RawMessage) (string, bool) {
	inner, ok := plainStringText(raw)
	return string(inner), ok
}

// plainStringText is plainString's text, within raw.
func plainStringText(raw json.RawMessage) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return nil, false
		}
	}
	return inner, true
}

// plainStringList is a JSON list of plainString values, as json.Unmarshal
// would give it (an empty list is not nil); false for any other text.
func plainStringList(raw json.RawMessage) ([]string, bool) {
	n, ok := eachPlainString(raw, nil)
	if !ok {
		return nil, false
	}
	l := make([]string, n)
	eachPlainString(raw, func(i int, inner []byte) { l[i] = string(inner) })
	return l, true
}

// eachPlainString checks that raw is a JSON list of plainString values and
// counts them, calling fn (when not nil) with each one's text.
func eachPlainString(raw json.RawMessage, fn func(i int, inner []byte)) (int, bool) {
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return 0, false
	}
	n := 0
	rest := trimJSONSpace(raw[1 : len(raw)-1])
	for len(rest) > 0 {
		if rest[0] != '"' {
			return 0, false
		}
		end := bytes.IndexByte(rest[1:], '"') + 2
		if end < 2 {
			return 0, false
		}
		inner, ok := plainStringText(rest[:end])
		if !ok {
			return 0, false
		}
		if fn != nil {
			fn(n, inner)
		}
		n++
		rest = trimJSONSpace(rest[end:])
		if len(rest) == 0 {
			break
		}
		if rest[0] != ',' {
			return 0, false
		}
		if rest = trimJSONSpace(rest[1:]); len(rest) == 0 {
			return 0, false // a trailing comma
		}
	}
	return n, true
}

// trimJSONSpace trims the whitespace JSON allows between tokens.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

func (r *dictReader) list(key string) []json.RawMessage {
	if string(r.value(key)) == "[]" {
		return []json.RawMessage{}
	}
	l, _ := decoded[[]json.RawMessage](r, key, "a list")
	return l
}
