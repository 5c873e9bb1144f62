package config

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// FuzzParseFile: any bytes either parse into well-formed sections and keys
// or give a *ParseError; reading the result through a Config never panics.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte("[DEFAULT]\nstate_path = /srv\n[database]\nconnection = sqlite:///$state_path/k.db\n"))
	f.Add([]byte("[provider]\nplugin = a\nplugin: b\nenabled = True\n  continued\n\n# c\n; c\n"))
	f.Add([]byte("[x]\na = \"q\"\nb = 'q\nc = ${a}$$\\$d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile("fuzz.conf", data)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		c := New(KarborRegistry(), []*File{file}, nil)
		for _, s := range file.Sections() {
			if s != normalizeGroup(s) {
				t.Fatalf("section %q not normalized", s)
			}
			for _, k := range file.Keys(s) {
				if k == "" || strings.ContainsAny(k, "=:") {
					t.Fatalf("bad key %q", k)
				}
				if len(file.Values(s, k)) == 0 {
					t.Fatalf("key %q without values", k)
				}
				c.Get(s, k)
				c.GetAll(s, k)
				_, _ = c.String(s, k, "")
			}
			_, _ = c.Section(s)
		}
		_, _ = NewKarbor(c)
	})
}

// FuzzTypes: every type either rejects a text or gives a value that reads
// back the same.
func FuzzTypes(f *testing.F) {
	for _, s := range []string{"", "0", "-7", "1_000", "٣", "1e5", ".5", "inf", "nan", "True", "off", "a, b,,", "::1", "host.example.", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if v, err := (Int{}).Parse(text); err == nil && v != nil {
			n := v.(int64)
			if back, err := parsePyInt(strconv.FormatInt(n, 10)); err != nil || back != n {
				t.Fatalf("int %q -> %d does not read back", text, n)
			}
		}
		if v, err := (Float{}).Parse(text); err == nil && v != nil {
			x := v.(float64)
			back, err := parsePyFloat(python.ReprFloat(x))
			if err != nil || (back != x && !(math.IsNaN(x) && math.IsNaN(back))) {
				t.Fatalf("float %q -> %v (%s) does not read back: %v", text, x, python.ReprFloat(x), err)
			}
		}
		if v, err := (Bool{}).Parse(text); err == nil {
			want := map[string]bool{"true": true, "1": true, "on": true, "yes": true, "false": false, "0": false, "off": false, "no": false}
			b, known := want[strings.ToLower(text)]
			if !known || b != v.(bool) {
				t.Fatalf("bool %q -> %v", text, v)
			}
		}
		v, err := (List{}).Parse(text)
		if err != nil {
			t.Fatalf("list %q: %v", text, err)
		}
		for _, item := range v.([]string) {
			if item != strings.TrimFunc(item, isPySpace) || strings.Contains(item, ",") {
				t.Fatalf("list %q gave item %q", text, item)
			}
		}
		if v, err := (HostAddress{}).Parse(text); err == nil {
			if s := v.(string); s == "" || strings.ContainsAny(s, " _/") {
				t.Fatalf("host %q accepted as %q", text, s)
			}
		}
	})
}
