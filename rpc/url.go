package rpc

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultPort is the AMQP port used when a transport URL host names none.
const DefaultPort = 5672

// TransportURL is an oslo.messaging transport_url, parsed as
// oslo_messaging.TransportURL.parse does.
type TransportURL struct {
	// Transport is the scheme: "rabbit", "kombu" or "kombu+<kombu transport>".
	Transport string
	// Hosts in the order written; the connector shuffles them as oslo does.
	Hosts []TransportHost
	// VirtualHost is the percent-decoded path after the first "/". Empty
	// (no path, "/") means the broker's default vhost "/".
	VirtualHost string
	// Query holds the query parameters (values of a repeated key joined by
	// ","); they override [oslo_messaging_rabbit] options of the same name.
	Query map[string]string
	// TLS is true for the kombu+amqps transport.
	TLS bool
}

// TransportHost is one broker of a transport URL.
type TransportHost struct {
	Hostname string
	Port     int // 0 means DefaultPort
	Username string
	Password string
}

// Addr is host:port, with IPv6 addresses bracketed.
func (h TransportHost) Addr() string {
	port := h.Port
	if port == 0 {
		port = DefaultPort
	}
	host := h.Hostname
	if host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Vhost is the virtual host actually opened: "/" when the URL names none.
func (u TransportURL) Vhost() string {
	if u.VirtualHost == "" {
		return "/"
	}
	return u.VirtualHost
}

// String renders the URL with passwords hidden, for logs.
func (u TransportURL) String() string {
	var hosts []string
	for _, h := range u.Hosts {
		s := h.Addr()
		if h.Username != "" {
			s = url.PathEscape(h.Username) + ":***@" + s
		}
		hosts = append(hosts, s)
	}
	return u.Transport + "://" + strings.Join(hosts, ",") + "/" + url.PathEscape(u.VirtualHost)
}

// ParseTransportURL parses an oslo.messaging transport URL:
//
//	rabbit://[user[:pass]@]host[:port][,[user[:pass]@]host[:port]...]/[vhost][?option=value...]
//
// Credentials and the vhost are percent-decoded; a missing port is 5672;
// "rabbit://" alone means guest:guest@localhost:5672, vhost "/". "amqp://" is
// refused: in oslo it selects the AMQP 1.0 driver, not RabbitMQ.
func ParseTransportURL(raw string) (TransportURL, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || scheme == "" {
		return TransportURL{}, fmt.Errorf("rpc: invalid transport URL: no scheme specified")
	}
	u := TransportURL{Transport: strings.ToLower(scheme), Query: map[string]string{}}
	switch u.Transport {
	case "rabbit", "kombu", "kombu+amqp", "kombu+pyamqp":
	case "kombu+amqps":
		u.TLS = true
	case "amqp":
		return TransportURL{}, fmt.Errorf("rpc: transport %q is oslo's AMQP 1.0 driver, not RabbitMQ; use rabbit://", scheme)
	default:
		return TransportURL{}, fmt.Errorf("rpc: unsupported transport %q (want rabbit://)", scheme)
	}

	// Python's urlsplit ends the netloc at the first "/", "?" or "#".
	rest, _, _ = strings.Cut(rest, "#")
	netloc, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		netloc, tail = rest[:i], rest[i:]
	}
	path, query, _ := strings.Cut(tail, "?")
	if strings.HasPrefix(path, "/") {
		vh, err := url.PathUnescape(path[1:])
		if err != nil {
			return TransportURL{}, fmt.Errorf("rpc: invalid virtual host %q: %w", path[1:], err)
		}
		u.VirtualHost = vh
	}
	if err := parseQuery(query, u.Query); err != nil {
		return TransportURL{}, err
	}
	for _, entry := range strings.Split(netloc, ",") {
		if entry == "" {
			continue
		}
		h, err := parseHost(entry)
		if err != nil {
			return TransportURL{}, err
		}
		u.Hosts = append(u.Hosts, h)
	}
	if len(u.Hosts) == 0 {
		u.Hosts = []TransportHost{{Hostname: "localhost", Username: "guest", Password: "guest"}}
	}
	return u, nil
}

func parseQuery(query string, into map[string]string) error {
	if query == "" {
		return nil
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("rpc: invalid transport URL query %q: %w", query, err)
	}
	for k, vs := range values {
		// parse_qs drops blank values.
		var kept []string
		for _, v := range vs {
			if v != "" {
				kept = append(kept, v)
			}
		}
		if len(kept) > 0 {
			into[k] = strings.Join(kept, ",")
		}
	}
	return nil
}

func parseHost(entry string) (TransportHost, error) {
	var h TransportHost
	hostport := entry
	if i := strings.LastIndex(entry, "@"); i >= 0 {
		cred := entry[:i]
		hostport = entry[i+1:]
		user, pass, _ := strings.Cut(cred, ":")
		var err error
		if h.Username, err = url.PathUnescape(user); err != nil {
			return h, fmt.Errorf("rpc: invalid user name in transport URL: %w", err)
		}
		if h.Password, err = url.PathUnescape(pass); err != nil {
			return h, fmt.Errorf("rpc: invalid password in transport URL: %w", err)
		}
	}
	port := ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.Index(hostport, "]")
		if end < 0 {
			return h, fmt.Errorf("rpc: invalid IPv6 host %q in transport URL", hostport)
		}
		h.Hostname = hostport[1:end]
		if _, p, ok := strings.Cut(hostport[end:], ":"); ok {
			port = p
		}
	} else {
		h.Hostname, port, _ = strings.Cut(hostport, ":")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return h, fmt.Errorf("rpc: invalid port %q in transport URL", port)
		}
		h.Port = n
	}
	return h, nil
}
