package clients

import (
	"fmt"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/config"
)

// Service is an OpenStack service karbor's plugins call, by karbor's name
// for it (the <svc> of [<svc>_client]).
type Service string

// The services of the protectable and protection plugins.
const (
	Cinder  Service = "cinder"
	Glance  Service = "glance"
	Nova    Service = "nova"
	Neutron Service = "neutron"
)

// defaultTimeout bounds how long an HTTP request to a service or to
// Keystone may go without progress when Options.Timeout is zero. keystoneauth sets none, so a hung service held a
// Python plugin forever.
const defaultTimeout = 60 * time.Second

// serviceInfo is what karbor's clients/<svc>.py fix for a service.
type serviceInfo struct {
	catalogInfo string // default of <svc>_catalog_info
	name, typ   string // defaults of service_name and service_type
	// appendProject: an <svc>_endpoint gets "/<project_id>" appended.
	appendProject bool
	microversion  string
	// version is the API version path gophercloud's resource URLs need
	// under the catalog endpoint (glance and neutron list unversioned
	// endpoints).
	version string
}

var known = map[Service]serviceInfo{
	Cinder:  {catalogInfo: "volumev3:cinderv3:publicURL", name: "cinderv3", typ: "volumev3", appendProject: true, microversion: "3.43"},
	Nova:    {catalogInfo: "compute:nova:publicURL", name: "nova", typ: "compute", appendProject: true},
	Glance:  {catalogInfo: "image:glance:publicURL", name: "glance", typ: "image", version: "v2"},
	Neutron: {catalogInfo: "network:neutron:publicURL", name: "neutron", typ: "network", version: "v2.0"},
}

// ServiceOptions are a service's [<svc>_client] options in karbor.conf.
type ServiceOptions struct {
	Endpoint    string // <svc>_endpoint
	CatalogInfo string // <svc>_catalog_info: <service_type>:<service_name>:<endpoint_type>
	ServiceName string // service_name, for the Keystone lookup
	ServiceType string // service_type, for the Keystone lookup
	RegionID    string // region_id (RegionOne)
	Interface   string // interface (internal), for the Keystone lookup
	CAFile      string // <svc>_ca_cert_file
	Insecure    bool   // <svc>_auth_insecure
}

// Trustee is karbor.conf's [trustee]: karbor's own service user, whose
// token goes along every call as the service token. Only password
// authentication is supported.
type Trustee struct {
	AuthType          string
	AuthURL           string
	Username          string
	UserID            string
	Password          string
	UserDomainID      string
	UserDomainName    string
	ProjectName       string
	ProjectID         string
	ProjectDomainID   string
	ProjectDomainName string
	// CAFile and Insecure are [keystone_authtoken] cafile and insecure,
	// which karbor's Keystone client uses.
	CAFile   string
	Insecure bool
}

// Options configure a Factory.
type Options struct {
	Trustee  Trustee
	Services map[Service]ServiceOptions
	// Timeout bounds how long an HTTP request may go without progress
	// (connecting, sending, waiting for the answer, reading it); zero
	// means 60 s.
	Timeout time.Duration
}

// Configured reports whether karbor.conf names a [trustee] auth plugin.
// Without one, karbor's client factory fails every client with
// AuthorizationFailure(obj="trustee").
func (o Options) Configured() bool { return o.Trustee.AuthType != "" }

// OptionsFrom reads the options from karbor.conf (nil: every default).
func OptionsFrom(conf *config.Config) (Options, error) {
	r := reader{conf: conf}
	o := Options{
		Trustee: Trustee{
			AuthType:          r.str("trustee", "auth_type", ""),
			AuthURL:           r.str("trustee", "auth_url", ""),
			Username:          r.str("trustee", "username", ""),
			UserID:            r.str("trustee", "user_id", ""),
			Password:          r.str("trustee", "password", ""),
			UserDomainID:      r.str("trustee", "user_domain_id", ""),
			UserDomainName:    r.str("trustee", "user_domain_name", ""),
			ProjectName:       r.str("trustee", "project_name", ""),
			ProjectID:         r.str("trustee", "project_id", ""),
			ProjectDomainID:   r.str("trustee", "project_domain_id", ""),
			ProjectDomainName: r.str("trustee", "project_domain_name", ""),
			CAFile:            r.str("keystone_authtoken", "cafile", ""),
			Insecure:          r.boolean("keystone_authtoken", "insecure"),
		},
		Services: map[Service]ServiceOptions{},
	}
	for svc, info := range known {
		g := string(svc) + "_client"
		o.Services[svc] = ServiceOptions{
			Endpoint:    r.str(g, string(svc)+"_endpoint", ""),
			CatalogInfo: r.str(g, string(svc)+"_catalog_info", info.catalogInfo),
			ServiceName: r.str(g, "service_name", info.name),
			ServiceType: r.str(g, "service_type", info.typ),
			RegionID:    r.str(g, "region_id", "RegionOne"),
			Interface:   r.str(g, "interface", "internal"),
			CAFile:      r.str(g, string(svc)+"_ca_cert_file", ""),
			Insecure:    r.boolean(g, string(svc)+"_auth_insecure"),
		}
	}
	if r.err != nil {
		return Options{}, r.err
	}
	if o.Configured() && o.Trustee.AuthType != "password" {
		return Options{}, fmt.Errorf("clients: [trustee] auth_type %q is not supported (only password)", o.Trustee.AuthType)
	}
	if o.Configured() && o.Trustee.AuthURL == "" {
		return Options{}, fmt.Errorf("clients: [trustee] auth_url is required with auth_type = password")
	}
	return o, nil
}

// reader reads plain options, keeping the first error.
type reader struct {
	conf *config.Config
	err  error
}

func (r *reader) str(group, name, def string) string {
	if r.conf == nil {
		return def
	}
	v, err := r.conf.String(group, name, def)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("clients: [%s] %s: %w", group, name, err)
	}
	return v
}

func (r *reader) boolean(group, name string) bool {
	if r.conf == nil {
		return false
	}
	v, err := r.conf.Bool(group, name, false)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("clients: [%s] %s: %w", group, name, err)
	}
	return v
}
