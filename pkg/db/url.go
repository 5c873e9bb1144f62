package db

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Dialect names the SQL engine behind a connection URL.
type Dialect string

// The engines karbor's migrations support.
const (
	MySQL      Dialect = "mysql" // MySQL and MariaDB
	PostgreSQL Dialect = "postgresql"
	SQLite     Dialect = "sqlite"
)

// ErrBadURL is wrapped by every error ParseURL returns.
var ErrBadURL = errors.New("bad [database] connection URL")

// Python drivers SQLAlchemy knows for each backend. The Go driver is the same
// whichever one the URL names; the name only changes a few defaults (see
// mysqlAddr).
var backendDrivers = map[string]struct {
	dialect Dialect
	drivers []string
}{
	"mysql":      {MySQL, []string{"", "pymysql", "mysqldb", "mysqlconnector", "mariadbconnector", "cymysql"}},
	"mariadb":    {MySQL, []string{"", "pymysql", "mysqldb", "mysqlconnector", "mariadbconnector", "cymysql"}},
	"postgresql": {PostgreSQL, []string{"", "psycopg2", "psycopg", "pg8000", "psycopg2cffi"}},
	"sqlite":     {SQLite, []string{"", "pysqlite"}},
}

// QueryParam is one name=value pair of a URL's query, decoded.
type QueryParam struct {
	Name, Value string
}

// Source is a parsed [database] connection URL, split exactly as SQLAlchemy's
// make_url splits it.
type Source struct {
	Dialect Dialect
	// Backend and Driver are the two halves of the scheme ("mysql",
	// "pymysql"); Driver is empty when the URL names none.
	Backend, Driver string
	Username        string // %-decoded
	Password        string // %-decoded
	HasPassword     bool   // the URL had "user:…@", even with an empty password
	Host            string // without the brackets of an IPv6 literal
	Port            int    // 0: the engine's default
	// Database is the path after the host, not %-decoded (SQLAlchemy does not
	// decode it either): a database name, or for SQLite a file path.
	Database string
	Query    []QueryParam // in URL order, blank values dropped as parse_qsl does
}

// sqlalchemyURL is the pattern SQLAlchemy's make_url matches a URL against
// (sqlalchemy/engine/url.py, _parse_rfc1738_args). Go's regexp picks the
// match a backtracking engine would, so a URL splits into the same parts as
// in the Python service.
var sqlalchemyURL = regexp.MustCompile(`^(?P<name>[\w+]+)://` +
	`(?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?` +
	`(?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?` +
	`(?:/(?P<database>[^?]*))?` +
	`(?:\?(?P<query>.*))?`)

// ParseURL parses a [database] connection value in SQLAlchemy's URL syntax:
// mysql+pymysql://user:pass@host:3306/karbor?charset=utf8,
// postgresql://user@host/karbor, sqlite:///relative.db, sqlite:////abs.db.
func ParseURL(raw string) (*Source, error) {
	for i, r := range raw {
		if r < 0x20 || r == 0x7f {
			return nil, fmt.Errorf("%w: control character %q at offset %d", ErrBadURL, r, i)
		}
	}
	if !utf8.ValidString(raw) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrBadURL)
	}
	idx := sqlalchemyURL.FindStringSubmatchIndex(raw)
	if idx == nil {
		return nil, fmt.Errorf("%w: %q does not have the form dialect+driver://user:password@host:port/database", ErrBadURL, redactRaw(raw))
	}
	// group returns a named part and whether it took part in the match
	// ("user:@host" has an empty password, "user@host" has none).
	group := func(name string) (string, bool) {
		i := sqlalchemyURL.SubexpIndex(name)
		if idx[2*i] < 0 {
			return "", false
		}
		return raw[idx[2*i]:idx[2*i+1]], true
	}
	src := &Source{}
	name, _ := group("name")
	if err := src.setScheme(name); err != nil {
		return nil, err
	}
	if u, ok := group("username"); ok {
		src.Username = unquote(u)
	}
	if p, ok := group("password"); ok {
		src.Password, src.HasPassword = unquote(p), true
	}
	src.Host, _ = group("ipv6host")
	if src.Host == "" {
		src.Host, _ = group("ipv4host")
	}
	if port, _ := group("port"); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("%w: port %q is not a number from 1 to 65535", ErrBadURL, port)
		}
		src.Port = n
	}
	src.Database, _ = group("database")
	query, _ := group("query")
	src.Query = parseQuery(query)
	return src, nil
}

func (s *Source) setScheme(name string) error {
	backend, driver, _ := strings.Cut(strings.ToLower(name), "+")
	b, ok := backendDrivers[backend]
	if !ok {
		return fmt.Errorf("%w: unsupported database %q (supported: mysql, mariadb, postgresql, sqlite)", ErrBadURL, backend)
	}
	if !slices.Contains(b.drivers, driver) {
		return fmt.Errorf("%w: unknown %s driver %q (known: %s)", ErrBadURL, backend, driver, strings.Join(b.drivers[1:], ", "))
	}
	s.Dialect, s.Backend, s.Driver = b.dialect, backend, driver
	return nil
}

// Param returns the value of a query parameter and whether it was given. A
// parameter given twice is an error, as no Go driver option takes a list.
func (s *Source) Param(name string) (string, bool, error) {
	var value string
	found := false
	for _, p := range s.Query {
		if p.Name != name {
			continue
		}
		if found {
			return "", false, fmt.Errorf("%w: option %q is given more than once", ErrBadURL, name)
		}
		value, found = p.Value, true
	}
	return value, found, nil
}

// AppendQuery adds oslo.db's connection_parameters ("a=1&b=2") to the query,
// as oslo.db appends them to the URL at connect time.
func (s *Source) AppendQuery(params string) {
	s.Query = append(s.Query, parseQuery(params)...)
}

// String renders the URL for logs, with the password masked as SQLAlchemy
// masks it in its repr.
func (s *Source) String() string { return s.render(true) }

func (s *Source) render(redact bool) string {
	var b strings.Builder
	b.WriteString(s.Backend)
	if s.Driver != "" {
		b.WriteString("+" + s.Driver)
	}
	b.WriteString("://")
	if s.Username != "" || s.HasPassword {
		b.WriteString(quote(s.Username))
		if s.HasPassword {
			b.WriteString(":")
			if redact {
				b.WriteString("***")
			} else {
				b.WriteString(quote(s.Password))
			}
		}
		b.WriteString("@")
	}
	if strings.Contains(s.Host, ":") {
		b.WriteString("[" + s.Host + "]")
	} else {
		b.WriteString(s.Host)
	}
	if s.Port != 0 {
		b.WriteString(":" + strconv.Itoa(s.Port))
	}
	if s.Database != "" {
		b.WriteString("/" + s.Database)
	}
	for i, p := range s.Query {
		if i == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("&")
		}
		b.WriteString(quoteQuery(p.Name) + "=" + quoteQuery(p.Value))
	}
	return b.String()
}

// redactRaw masks what looks like a password in a URL that did not parse.
func redactRaw(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return raw
	}
	return scheme + "://" + user + ":***" + rest[at:]
}

// parseQuery splits a query as Python's urllib.parse.parse_qsl does with its
// defaults: fields without "=" and fields with a blank value are dropped,
// "+" is a space, and bad %-escapes are kept as they are.
func parseQuery(q string) []QueryParam {
	var out []QueryParam
	for field := range strings.SplitSeq(q, "&") {
		name, value, ok := strings.Cut(field, "=")
		if !ok || value == "" {
			continue
		}
		out = append(out, QueryParam{
			Name:  unquote(strings.ReplaceAll(name, "+", " ")),
			Value: unquote(strings.ReplaceAll(value, "+", " ")),
		})
	}
	return out
}

// unquote decodes %XX escapes as Python's urllib.parse.unquote does: an
// escape that is not two hex digits stays as it is, and bytes that do not
// form UTF-8 become U+FFFD.
func unquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// quote escapes what would end or split the user or password part
// (SQLAlchemy's _rfc_1738_quote escapes the same set).
func quote(s string) string {
	return escapeBytes(s, func(c byte) bool { return c == ':' || c == '@' || c == '/' || c == '%' })
}

// quoteQuery escapes what would end or split a query name or value, and
// '@', which in a URL without a database would make the query before it
// read as a user name (SQLAlchemy's quote_plus escapes it too).
func quoteQuery(s string) string {
	return escapeBytes(s, func(c byte) bool {
		return c == '&' || c == '=' || c == '+' || c == '%' || c == '#' || c == ' ' || c == '@'
	})
}

// escapeBytes %-escapes the special bytes and everything outside printable
// ASCII, so a rendered URL parses back to the same parts.
func escapeBytes(s string, special func(byte) bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if special(s[i]) || s[i] < 0x20 || s[i] >= 0x7f {
			fmt.Fprintf(&b, "%%%02X", s[i])
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
