package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// goldenCase is one case of testdata/oslo-golden.json: files, options and
// what oslo.config 9.0 gave for each read (frozen by make_oslo_golden.py).
type goldenCase struct {
	Name  string `json:"name"`
	Files []struct {
		Name string `json:"name"`
		Text string `json:"text"`
	} `json:"files"`
	Sources []struct {
		File string `json:"file"`
		Dir  string `json:"dir"`
	} `json:"sources"`
	Opts []struct {
		Group      string      `json:"group"`
		Name       string      `json:"name"`
		Type       string      `json:"type"`
		Default    any         `json:"default"`
		Deprecated [][2]string `json:"deprecated"`
		Choices    []string    `json:"choices"`
		Min        *int64      `json:"min"`
		Max        *int64      `json:"max"`
	} `json:"opts"`
	Env    map[string]string `json:"env"`
	Reads  [][2]string       `json:"reads"`
	Expect struct {
		LoadError string `json:"load_error"`
		Reads     map[string]struct {
			Repr  *string `json:"repr"`
			Error string  `json:"error"`
		} `json:"reads"`
	} `json:"expect"`
}

func loadGoldenCases(t *testing.T) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "oslo-golden.json"))
	require.NoError(t, err)
	var cases []goldenCase
	require.NoError(t, json.Unmarshal(data, &cases))
	require.NotEmpty(t, cases)
	return cases
}

func (c goldenCase) registry(t *testing.T) *Registry {
	t.Helper()
	reg := NewRegistry()
	for _, o := range c.Opts {
		opt := Opt{Name: o.Name, Default: jsonDefault(o.Default)}
		switch o.Type {
		case "str":
			opt.Type = String{Choices: o.Choices}
		case "bool":
			opt.Type = Bool{}
		case "int":
			it := Int{}
			if o.Min != nil && o.Max != nil {
				it = Int{Min: *o.Min, Max: *o.Max, Bounded: true}
			}
			opt.Type = it
		case "float":
			opt.Type = Float{}
		case "list":
			opt.Type = List{}
		case "multistr":
			opt.Type, opt.Multi = String{}, true
		case "host":
			opt.Type = HostAddress{}
		case "port":
			opt.Type = Port
		default:
			t.Fatalf("unknown type %q", o.Type)
		}
		for _, d := range o.Deprecated {
			opt.Deprecated = append(opt.Deprecated, Name{Group: d[0], Name: d[1]})
		}
		reg.Register(o.Group, opt)
	}
	return reg
}

// jsonDefault turns a JSON-decoded default into the Go form Opt expects.
func jsonDefault(v any) any {
	switch v := v.(type) {
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
		return v
	case []any:
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = s.(string)
		}
		return out
	}
	return v
}

// TestOsloGolden replays every case frozen from oslo.config: same files, same
// sources order, same environment; each value must have the same Python
// repr, each error must be an error.
func TestOsloGolden(t *testing.T) {
	for _, c := range loadGoldenCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range c.Files {
				p := filepath.Join(dir, f.Name)
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, []byte(f.Text), 0o644))
			}
			opts := LoadOptions{}
			for _, s := range c.Sources {
				if s.Dir != "" {
					opts.Sources = append(opts.Sources, Source{Path: filepath.Join(dir, s.Dir), Dir: true})
				} else {
					opts.Sources = append(opts.Sources, Source{Path: filepath.Join(dir, s.File)})
				}
			}
			for k, v := range c.Env {
				opts.Environ = append(opts.Environ, k+"="+v)
			}
			cfg, err := Load(c.registry(t), opts)
			if c.Expect.LoadError != "" {
				var pe *ParseError
				assert.ErrorAs(t, err, &pe, "oslo.config: %s", c.Expect.LoadError)
				return
			}
			require.NoError(t, err)
			for _, r := range c.Reads {
				key := r[0] + "." + r[1]
				want := c.Expect.Reads[key]
				got, err := cfg.Value(r[0], r[1])
				if want.Error != "" {
					assert.Error(t, err, "%s: oslo.config raised %s, got %s", key, want.Error, python.Repr(got))
					continue
				}
				if assert.NoError(t, err, key) {
					assert.Equal(t, *want.Repr, python.Repr(got), key)
				}
			}
		})
	}
}
