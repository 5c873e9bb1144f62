package config

// ProviderGroup is the section of a provider file that describes the provider.
const ProviderGroup = "provider"

// ProviderRegistry declares the [provider] options of a provider file
// (providers.d/*.conf). The Python service gives every provider file its own
// configuration object; do the same: one registry and one Config per file,
// e.g.
//
//	c, err := config.Load(config.ProviderRegistry(), config.LoadOptions{
//		Sources: []config.Source{{Path: path}}, Environ: os.Environ()})
//
// Bank and protection plugins then read their own sections of c through Get
// (or declare their options in c.Registry()).
func ProviderRegistry() *Registry {
	r := NewRegistry()
	r.Register(ProviderGroup,
		Opt{Name: "plugin", Type: String{}, Multi: true, Default: "", Help: "plugins to use for protection"},
		Opt{Name: "bank", Type: String{}, Default: "", Help: "bank plugin to use for storage"},
		Opt{Name: "description", Type: String{}, Default: "", Help: "the description of provider"},
		Opt{Name: "name", Type: String{}, Default: "", Help: "the name of provider"},
		Opt{Name: "id", Type: String{}, Default: "", Help: "the provider id"},
		Opt{Name: "enabled", Type: Bool{}, Default: false, Help: "enabled or not"},
	)
	return r
}

// Provider is the [provider] section of a provider file.
type Provider struct {
	ID          string
	Name        string
	Description string
	// Bank is the bank plugin name; the Python service rejects a provider
	// whose bank is empty.
	Bank string
	// Plugins are the protection plugin names, in order; every "plugin"
	// line of the file counts. The Python service rejects a provider with
	// an empty name among them.
	Plugins []string
	// Enabled is false unless the file says otherwise; disabled providers
	// are skipped.
	Enabled bool
}

// NewProvider reads the [provider] section of c (built with
// ProviderRegistry), reporting every bad value at once.
func NewProvider(c *Config) (*Provider, error) {
	f := &filler{c: c}
	p := &Provider{
		ID:          f.str(ProviderGroup, "id"),
		Name:        f.str(ProviderGroup, "name"),
		Description: f.str(ProviderGroup, "description"),
		Bank:        f.str(ProviderGroup, "bank"),
		Enabled:     f.boolean(ProviderGroup, "enabled"),
	}
	p.Plugins, _ = f.value(ProviderGroup, "plugin").([]string)
	if p.Plugins == nil {
		p.Plugins = []string{}
	}
	if f.err != nil {
		return nil, f.err
	}
	return p, nil
}
