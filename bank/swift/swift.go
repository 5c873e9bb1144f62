// Package swift is karbor's Swift bank, "karbor-swift-bank-plugin": bank key
// K is the object K (leading "/" kept) in the container
// bank_swift_object_container, with the header X-Object-Meta-Serialized,
// and each instance holds the lease object leases/<owner_id> with
// X-Delete-After, renewed while it lives: exactly what the Python plugin
// (karbor/services/protection/bank_plugins/swift_bank_plugin.py) writes, so
// either service reads the other's bank and sees the other's leases.
//
// It authenticates as the Python plugin does: a Keystone password from the
// provider file's [swift_client] (v3 or v2.0, found by discovery), the
// object-store endpoint from the token's catalog. Beyond Python: the token is
// renewed before it expires; listings page on the server (marker, limit,
// prefix, delimiter, reverse) instead of reading whole containers; a
// container deleted under the bank is created again; a lease that lapsed is
// taken again at the next renewal; and an unreachable Swift at start does
// not lose the provider: the plugin keeps trying in the background and
// bank calls fail with CreateContainerFailed until it connects.
package swift

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
)

// PluginName is the entry-point name provider files use.
const PluginName = "karbor-swift-bank-plugin"

// The provider-file sections the plugin reads.
const (
	ClientSection = "swift_client"
	ConfigSection = "swift_bank_plugin"
)

// Defaults, the Python plugin's.
const (
	DefaultContainer     = "karbor"
	DefaultDomain        = "default"
	DefaultRetryAttempts = 3
	DefaultRetryBackoff  = 2 * time.Second
)

// leasesContainer is the Python plugin's fixed lease container.
const leasesContainer = "leases"

// maxBackoff caps the doubling retry delay, as swiftclient does.
const maxBackoff = 64 * time.Second

func init() {
	bank.RegisterConfigured(PluginName, OptionsFromConfig, func(ctx context.Context, opts Options, holder bank.Holder, log *logrus.Entry) (*Plugin, error) {
		opts.Holder, opts.Log = holder, log
		return New(ctx, opts)
	})
}

// Options configure a Plugin.
type Options struct {
	// AuthURL is swift_auth_url, Keystone's URL, versioned (/v3, /v2.0) or
	// not (the version is discovered). Required.
	AuthURL string
	// User, Key and TenantName are swift_user, swift_key and
	// swift_tenant_name (the project).
	User, Key, TenantName string
	// UserDomainName, ProjectDomainName are swift_user_domain_name and
	// swift_project_domain_name; "" means "default".
	UserDomainName, ProjectDomainName string
	// RetryAttempts is swift_retry_attempts: how many times a request that
	// failed with a connection error or a 5xx is tried again.
	RetryAttempts int
	// RetryBackoff is swift_retry_backoff: the first delay before a retry,
	// doubled at each one; zero means the default.
	RetryBackoff time.Duration
	// CACertFile is swift_ca_cert_file, added to the system's CAs.
	CACertFile string
	// Insecure is swift_auth_insecure: no TLS certificate verification.
	Insecure bool

	// Container is bank_swift_object_container; "" means "karbor".
	Container string
	// Lease windows (lease_expire_window, lease_renew_window,
	// lease_validity_window); zero means the default.
	LeaseExpireWindow, LeaseRenewWindow, LeaseValidityWindow time.Duration
	// OwnerID is this instance's owner id; "" means a new random UUID.
	OwnerID string
	// Holder is recorded in the lease object's metadata.
	Holder bank.Holder

	// HTTPClient, when set, replaces the client built from CACertFile and
	// Insecure (tests).
	HTTPClient *http.Client
	// Log receives connection and renewal failures; nil means the standard
	// logger.
	Log *logrus.Entry
}

func configError(section, key, reason string) error {
	return &bank.ConfigError{Plugin: PluginName, Section: section, Key: key, Reason: reason}
}

// OptionsFromConfig reads [swift_client] and [swift_bank_plugin] of a
// provider file, with the Python plugin's option names and defaults.
func OptionsFromConfig(conf bank.Config) (Options, error) {
	get := func(section, key string) string {
		v, _ := conf.Get(section, key)
		return strings.TrimSpace(v)
	}
	opts := Options{
		AuthURL:           get(ClientSection, "swift_auth_url"),
		User:              get(ClientSection, "swift_user"),
		Key:               get(ClientSection, "swift_key"),
		TenantName:        get(ClientSection, "swift_tenant_name"),
		UserDomainName:    get(ClientSection, "swift_user_domain_name"),
		ProjectDomainName: get(ClientSection, "swift_project_domain_name"),
		CACertFile:        get(ClientSection, "swift_ca_cert_file"),
		Container:         get(ConfigSection, "bank_swift_object_container"),
		RetryAttempts:     DefaultRetryAttempts,
	}
	if v := get(ClientSection, "swift_retry_attempts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return opts, configError(ClientSection, "swift_retry_attempts", fmt.Sprintf("%q is not a number of retries", v))
		}
		opts.RetryAttempts = n
	}
	if v := get(ClientSection, "swift_retry_backoff"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return opts, configError(ClientSection, "swift_retry_backoff", fmt.Sprintf("%q is not a number of seconds", v))
		}
		opts.RetryBackoff = time.Duration(n) * time.Second
		if n == 0 {
			opts.RetryBackoff = time.Millisecond // "no wait", not "the default"
		}
	}
	if v := get(ClientSection, "swift_auth_insecure"); v != "" {
		b, ok := parseBool(v)
		if !ok {
			return opts, configError(ClientSection, "swift_auth_insecure", fmt.Sprintf("%q is not a boolean", v))
		}
		opts.Insecure = b
	}
	for _, w := range []struct {
		key string
		dst *time.Duration
	}{
		{"lease_expire_window", &opts.LeaseExpireWindow},
		{"lease_renew_window", &opts.LeaseRenewWindow},
		{"lease_validity_window", &opts.LeaseValidityWindow},
	} {
		v := get(ConfigSection, w.key)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return opts, configError(ConfigSection, w.key, fmt.Sprintf("%q is not a positive number of seconds", v))
		}
		*w.dst = time.Duration(n) * time.Second
	}
	return opts, nil
}

// parseBool is oslo.config's BoolOpt.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true", "1", "on", "yes":
		return true, true
	case "false", "0", "off", "no":
		return false, true
	}
	return false, false
}

func (o *Options) setDefaults() error {
	if o.AuthURL == "" {
		return configError(ClientSection, "swift_auth_url", "required option is not set (the swift bank authenticates with Keystone)")
	}
	if o.User == "" {
		return configError(ClientSection, "swift_user", "required option is not set")
	}
	if o.UserDomainName == "" {
		o.UserDomainName = DefaultDomain
	}
	if o.ProjectDomainName == "" {
		o.ProjectDomainName = DefaultDomain
	}
	if o.RetryAttempts < 0 {
		o.RetryAttempts = 0
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.Container == "" {
		o.Container = DefaultContainer
	}
	if !validContainer(o.Container) {
		return configError(ConfigSection, "bank_swift_object_container", fmt.Sprintf("%q is not a container name (1-256 characters, no \"/\")", o.Container))
	}
	for _, w := range []struct {
		key string
		d   time.Duration
	}{{"lease_expire_window", o.LeaseExpireWindow}, {"lease_renew_window", o.LeaseRenewWindow}, {"lease_validity_window", o.LeaseValidityWindow}} {
		if w.d%time.Second != 0 {
			return configError(ConfigSection, w.key, fmt.Sprintf("%v is not a whole number of seconds (X-Delete-After counts seconds)", w.d))
		}
	}
	if err := bank.SetLeaseWindows(PluginName, ConfigSection, &o.LeaseExpireWindow, &o.LeaseRenewWindow, &o.LeaseValidityWindow); err != nil {
		return err
	}
	if o.OwnerID != "" && !bank.ValidOwnerID(o.OwnerID) {
		return fmt.Errorf("swift bank: invalid owner id %q", o.OwnerID)
	}
	if o.HTTPClient == nil {
		c, err := httpClient(o.CACertFile, o.Insecure)
		if err != nil {
			return err
		}
		o.HTTPClient = c
	}
	if o.Log == nil {
		o.Log = logrus.NewEntry(logrus.StandardLogger())
	}
	return nil
}

// validContainer is Swift's rule for a container name.
func validContainer(c string) bool {
	return c != "" && len(c) <= 256 && !strings.Contains(c, "/") && c != "." && c != ".."
}

// httpClient is the client for Keystone and Swift: the system's CAs plus
// swift_ca_cert_file, or no verification with swift_auth_insecure.
func httpClient(caFile string, insecure bool) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 2 * time.Minute
	tr.MaxIdleConnsPerHost = 32
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, configError(ClientSection, "swift_ca_cert_file", err.Error())
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, configError(ClientSection, "swift_ca_cert_file", fmt.Sprintf("%s holds no PEM certificate", caFile))
		}
		tlsConf.RootCAs = pool
	}
	if insecure {
		tlsConf.InsecureSkipVerify = true // the operator asked for it: swift_auth_insecure
	}
	tr.TLSClientConfig = tlsConf
	return &http.Client{Transport: tr}, nil
}
