package config

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// getter is the view bank and protection plugins receive.
type getter interface {
	Get(section, key string) (string, bool)
}

var _ getter = (*Config)(nil)

func mustParse(t *testing.T, path, text string) *File {
	t.Helper()
	f, err := ParseFile(path, []byte(text))
	require.NoError(t, err)
	return f
}

func TestGenericView(t *testing.T) {
	a := mustParse(t, "/p/a.conf", "[DEFAULT]\nstate_path = /srv\n[fs]\npath = $state_path/bank\n"+
		"container = karbor\nwindow = 120\nflag = yes\nratio = 0.5\nnames = a, b\nbad_int = ten\n"+
		"empty_int =\nref = ${container}-x\nunknown = $nowhere/x\nescaped = $$x\nplugin = p1\n")
	b := mustParse(t, "/p/b.conf", "[FS]\nwindow = 100\nplugin = p2\nplugin = p3\n")
	reg := NewRegistry()
	reg.Register(DefaultGroup, Opt{Name: "state_path", Type: String{}, Default: "/var/lib/karbor"})
	c := New(reg, []*File{a, b}, nil)

	get := func(key string) string {
		v, ok := c.Get("fs", key)
		require.True(t, ok, key)
		return v
	}
	assert.Equal(t, "/srv/bank", get("path"))
	assert.Equal(t, "100", get("window"), "the later file wins")
	assert.Equal(t, "karbor-x", get("ref"), "unregistered keys of the same section resolve")
	assert.Equal(t, "$nowhere/x", get("unknown"), "Get leaves what does not resolve")
	assert.Equal(t, "$x", get("escaped"))
	_, ok := c.Get("fs", "missing")
	assert.False(t, ok)
	_, ok = c.Get("DEFAULT", "state_path")
	assert.True(t, ok)
	assert.Equal(t, []string{"p1", "p2", "p3"}, c.GetAll("fs", "plugin"))
	assert.Empty(t, c.GetAll("fs", "missing"))

	n, err := c.Int("fs", "window", 600)
	require.NoError(t, err)
	assert.Equal(t, 100, n)
	n, err = c.Int("fs", "missing", 600)
	require.NoError(t, err)
	assert.Equal(t, 600, n)
	flag, err := c.Bool("fs", "flag", false)
	require.NoError(t, err)
	assert.True(t, flag)
	ratio, err := c.Float("fs", "ratio", 1)
	require.NoError(t, err)
	assert.Equal(t, 0.5, ratio)
	names, err := c.List("fs", "names", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, names)
	s, err := c.String("fs", "missing", "dflt")
	require.NoError(t, err)
	assert.Equal(t, "dflt", s)

	errorCases := []struct {
		name string
		read func() error
		key  string
	}{
		{"bad int", func() error { _, err := c.Int("fs", "bad_int", 1); return err }, "bad_int"},
		{"empty int", func() error { _, err := c.Int("fs", "empty_int", 1); return err }, "empty_int"},
		{"bad bool", func() error { _, err := c.Bool("fs", "container", false); return err }, "container"},
		{"bad float", func() error { _, err := c.Float("fs", "container", 0); return err }, "container"},
		{"unresolved reference", func() error { _, err := c.String("fs", "unknown", ""); return err }, "unknown"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.read()
			var ve *ValueError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "/p/a.conf", ve.Source)
			assert.Equal(t, "fs", ve.Section)
			assert.Equal(t, tc.key, ve.Key)
			assert.Contains(t, err.Error(), "/p/a.conf: [fs] "+tc.key+" = ")
		})
	}
	_, err = c.String("fs", "unknown", "")
	assert.ErrorIs(t, err, ErrNoSuchOption)
}

func TestPrecedence(t *testing.T) {
	reg := NewRegistry()
	reg.Register(DefaultGroup,
		Opt{Name: "host", Type: String{}, Default: "dflt"},
		Opt{Name: "debug", Type: Bool{}, Default: false},
		Opt{Name: "m", Type: String{}, Multi: true},
		Opt{Name: "new", Type: String{}, Deprecated: []Name{{Name: "old"}}},
	)
	f := mustParse(t, "k.conf", "[DEFAULT]\nhost = file\ndebug = false\nm = f1\nm = f2\nold = o\n")
	tests := []struct {
		name      string
		env       []string
		overrides []Override
		key       string
		want      string
	}{
		{"file over default", nil, nil, "host", "'file'"},
		{"environment over file", []string{"OS_DEFAULT__HOST=env", "PATH=/bin"}, nil, "host", "'env'"},
		{"command line over environment", []string{"OS_DEFAULT__HOST=env"}, []Override{{"", "host", "cli"}}, "host", "'cli'"},
		{"command line bool", nil, []Override{{DefaultGroup, "debug", "true"}}, "debug", "True"},
		{"multi from files", nil, nil, "m", "['f1', 'f2']"},
		{"multi: command line replaces files", nil, []Override{{"", "m", "c1"}, {"", "m", "c2"}}, "m", "['c1', 'c2']"},
		{"multi: environment is one value", []string{"OS_DEFAULT__M=e1"}, nil, "m", "['e1']"},
		{"deprecated name", nil, nil, "new", "'o'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(reg, []*File{f}, tt.env, tt.overrides...)
			v, err := c.Value(DefaultGroup, tt.key)
			require.NoError(t, err)
			assert.Equal(t, tt.want, python.Repr(v))
		})
	}
}

func TestIsSet(t *testing.T) {
	reg := KarborRegistry()
	c := New(reg, []*File{mustParse(t, "k.conf", "[DEFAULT]\nsql_connection = mysql://x\n")}, nil)
	assert.True(t, c.IsSet(DatabaseGroup, "connection"), "set through a deprecated name")
	assert.False(t, c.IsSet(DefaultGroup, "debug"))
	assert.False(t, c.IsSet(DefaultGroup, "not_registered"))
	c = New(reg, nil, []string{"OS_DEFAULT__DEBUG=1"})
	assert.True(t, c.IsSet(DefaultGroup, "debug"))
}

func TestValueErrors(t *testing.T) {
	reg := NewRegistry()
	reg.Register(DefaultGroup,
		Opt{Name: "a", Type: String{}, Default: "$b"},
		Opt{Name: "b", Type: String{}, Default: "$a"},
		Opt{Name: "n", Type: Int{}},
		Opt{Name: "d", Type: String{}, Default: "$missing"},
	)
	c := New(reg, nil, []string{"OS_DEFAULT__N=ten"})
	_, err := c.Value(DefaultGroup, "a")
	assert.ErrorContains(t, err, "refers to itself")
	_, err = c.Value(DefaultGroup, "n")
	var ve *ValueError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "environment variable OS_DEFAULT__N", ve.Source)
	assert.Equal(t, "ten", ve.Value)
	_, err = c.Value(DefaultGroup, "d")
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "default", ve.Source)
	assert.True(t, errors.Is(err, ErrNoSuchOption))
	_, err = c.Value(DefaultGroup, "nope")
	assert.ErrorIs(t, err, ErrNoSuchOption)
	_, err = c.Value("nogroup", "nope")
	assert.ErrorIs(t, err, ErrNoSuchOption)
}

func TestUnregisteredCycleAndGroups(t *testing.T) {
	f := mustParse(t, "x.conf", "[s]\nx = $y\ny = $x\nz = $t.u\nw = ${s.v}\nv = 1\n[t]\nu = 2\n")
	c := New(NewRegistry(), []*File{f}, nil)
	_, err := c.String("s", "x", "")
	assert.ErrorContains(t, err, "refers to itself")
	v, ok := c.Get("s", "x")
	assert.True(t, ok)
	assert.Equal(t, "$y", v, "Get keeps a reference that does not resolve")
	s, err := c.String("s", "z", "")
	require.NoError(t, err)
	assert.Equal(t, "2", s)
	s, err = c.String("s", "w", "")
	require.NoError(t, err)
	assert.Equal(t, "1", s)
	assert.Equal(t, []string{"s", "t"}, c.Sections())
	assert.Equal(t, []string{"x.conf"}, c.Files())
}

func TestSection(t *testing.T) {
	f := mustParse(t, "k.conf", "[DEFAULT]\nstate_path = /s\n[oslo_messaging_rabbit]\n"+
		"ssl_ca_file = $state_path/ca.pem\nrabbit_qos_prefetch_count = 10\nheartbeat_rate = 2\n")
	g := mustParse(t, "k2.conf", "[Oslo_Messaging_Rabbit]\nheartbeat_rate = 3\n")
	c := New(KarborRegistry(), []*File{f, g}, []string{"OS_OSLO_MESSAGING_RABBIT__AMQP_DURABLE_QUEUES=true"},
		Override{RabbitGroup, "kombu_reconnect_delay", "2.0"})
	kv, err := c.Section(RabbitGroup)
	require.NoError(t, err)
	assert.Equal(t, []KeyValue{
		{"amqp_durable_queues", "true"},
		{"heartbeat_rate", "3"},
		{"kombu_reconnect_delay", "2.0"},
		{"rabbit_qos_prefetch_count", "10"},
		{"ssl_ca_file", "/s/ca.pem"},
	}, kv)

	bad := New(KarborRegistry(), []*File{mustParse(t, "b.conf", "[oslo_messaging_rabbit]\nssl = $nope\n")}, nil)
	_, err = bad.Section(RabbitGroup)
	var ve *ValueError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "ssl", ve.Key)
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name string
		opt  Opt
	}{
		{"no name", Opt{Type: String{}}},
		{"no type", Opt{Name: "x"}},
		{"bad default", Opt{Name: "x", Type: Int{}, Default: "ten"}},
		{"wrong default type", Opt{Name: "x", Type: Bool{}, Default: 1}},
		{"out of bounds", Opt{Name: "x", Type: Port, Default: 70000}},
		{"list default for a string", Opt{Name: "x", Type: String{}, Default: []string{"a"}}},
		{"unsupported default", Opt{Name: "x", Type: String{}, Default: struct{}{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Panics(t, func() { NewRegistry().Register("", tt.opt) })
		})
	}
	r := NewRegistry()
	r.Register("g", Opt{Name: "x", Type: String{}, Default: "a"})
	assert.NotPanics(t, func() { r.Register("G", Opt{Name: "x", Type: String{}, Default: "a"}) }, "same declaration twice")
	assert.Panics(t, func() { r.Register("g", Opt{Name: "x", Type: String{}, Default: "b"}) })
	assert.Equal(t, []string{"g"}, r.Groups())
	assert.Len(t, r.Opts("g"), 1)
	assert.Nil(t, r.Opts("none"))
}
