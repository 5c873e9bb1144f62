package karbor

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gokarbor/karbor-protection/pkg/karbortest"
)

// FuzzFromDict: any JSON object either gives a context or a clear error;
// a context survives ToDict and back.
func FuzzFromDict(f *testing.F) {
	f.Add([]byte(`{"user_id": "u", "project_id": "p", "is_admin": true, "roles": ["member"], "timestamp": "2026-11-22T01:57:50.245873"}`))
	f.Add([]byte(`{"user_id": null, "project_id": "p", "read_deleted": "yes", "service_catalog": [{"type": "compute"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d map[string]json.RawMessage
		if json.Unmarshal(data, &d) != nil {
			return
		}
		c, err := FromDict(d)
		if err != nil {
			var b *BuiltinError
			var ce *ContextError
			if !errors.As(err, &b) && !errors.As(err, &ce) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if c.RequestID == "" || c.ReadDeleted == "" || c.Roles == nil {
			t.Fatalf("defaults not applied: %+v", c)
		}
		if c.IsAdmin && !containsFold(c.Roles, "admin") {
			t.Fatalf("admin without the role: %+v", c)
		}
		back, err := FromMap(c.ToDict())
		if err != nil {
			t.Fatalf("ToDict does not read back: %v", err)
		}
		if back.UserID != c.UserID || back.ProjectID != c.ProjectID || back.IsAdmin != c.IsAdmin || back.RequestID != c.RequestID {
			t.Fatalf("round trip changed the context: %+v -> %+v", c, back)
		}
	})
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// FuzzDecodeObject: any bytes decode as a Plan, Restore or Verification or
// give an *ObjectError; decoded plans re-encode their resources. The
// recorded session's objects are seeds too.
func FuzzDecodeObject(f *testing.F) {
	for _, x := range karbortest.Session(f) {
		for which, name := range []string{"plan", "restore", "verification"} {
			if raw, ok := x.Args[name]; ok {
				f.Add(uint8(which), []byte(raw))
			}
		}
	}
	f.Add(uint8(0), []byte(primitive("Plan", `{"id": "i", "name": "n", "resources": [{"id": "a", "type": "t", "name": "n", "extra_info": null}], "parameters": {"t": {"k": true}}}`)))
	f.Add(uint8(1), []byte(primitive("Restore", `{"id": "r", "parameters": {}, "resources_status": {}, "created_at": "2026-11-22T01:57:50Z"}`)))
	f.Add(uint8(2), []byte(primitive("Verification", `{"id": "v", "parameters": null, "deleted": 1}`)))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		var err error
		switch which % 3 {
		case 0:
			var p *Plan
			if p, err = DecodePlan(data); err == nil {
				if _, merr := json.Marshal(p.Resources); merr != nil {
					t.Fatalf("resources do not encode: %v", merr)
				}
				for k := range p.Parameters {
					_ = p.Parameters.For(k, "x")
				}
			}
		case 1:
			_, err = DecodeRestore(data)
		case 2:
			_, err = DecodeVerification(data)
		}
		var oe *ObjectError
		if err != nil && !errors.As(err, &oe) {
			t.Fatalf("error of type %T: %v", err, err)
		}
	})
}

// FuzzPyFormat: formatting a template never panics, and a template without
// '%' comes back unchanged.
func FuzzPyFormat(f *testing.F) {
	f.Add("Flow: %(flow)s, Error: %(error)s", "protect")
	f.Add("%(allowed)05d %% %(x)-3.1r", "5")
	f.Fuzz(func(t *testing.T, template, value string) {
		kwargs := map[string]any{"flow": value, "error": value, "allowed": json.Number("5"), "x": []any{value, nil}}
		got, err := pyFormat(template, kwargs)
		if err == nil && !strings.Contains(template, "%") && got != template {
			t.Fatalf("%q changed to %q", template, got)
		}
		e := ExcFlowError.New(Kwarg{"flow", value}, Kwarg{"error", template})
		if !utf8.ValidString(value) || !utf8.ValidString(template) {
			return
		}
		if !strings.Contains(e.Error(), value) {
			t.Fatalf("message %q lost the flow %q", e.Error(), value)
		}
	})
}

// FuzzParseISOTime: parsing never panics and accepted times are real dates.
func FuzzParseISOTime(f *testing.F) {
	for _, s := range []string{"2026-11-22T01:57:50.245873", "20261122T0157", "2026-11-22 01:57:50+02:00", "2026", "2020-1-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tm, err := ParseISOTime(s); err == nil && (tm.Year() < 1 || tm.Year() > 9999) {
			t.Fatalf("%q parsed to %v", s, tm)
		}
		if tm, err := ParseDate(s); err == nil && (tm.Hour() != 0 || tm.Year() < 1) {
			t.Fatalf("%q parsed to %v", s, tm)
		}
	})
}

// FuzzParseISOTimeForms: whatever the common form's reader accepts, the
// pattern reads the same time or the same error.
func FuzzParseISOTimeForms(f *testing.F) {
	for _, s := range []string{"2026-11-22T01:57:50.245873", "2026-11-22 01:57:50", "2026-11-22T01:57:50,5", "2026-02-30T01:57:50",
		"2026-11-22T24:00:00", "0000-01-01T00:00:00", "2026-11-22T01:57:50.", "2026-11-22T01:57:50.1234567", "2026-11-22T01:57:50Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, fastErr, ok := parseCommonISOTime(s)
		if !ok {
			return
		}
		slow, slowErr := parseISOTimePattern(s)
		if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) || !fast.Equal(slow) || fast.Location().String() != slow.Location().String() {
			t.Fatalf("%q: common form %v (%v), pattern %v (%v)", s, fast, fastErr, slow, slowErr)
		}
	})
}

// FuzzContextValueReaders: whatever the direct readers of context values
// accept, encoding/json reads the same.
func FuzzContextValueReaders(f *testing.F) {
	for _, s := range []string{`"member"`, `["member", "reader"]`, `[]`, `[ ]`, `["a",]`, `["a" "b"]`, `"a\"b"`, `"é"`, "[\"a\"\v]", `[""]`, `["a",  "b" ]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if s, ok := plainString(raw); ok {
			var want string
			if err := json.Unmarshal(raw, &want); err != nil || want != s {
				t.Fatalf("%q: direct %q, encoding/json %q (%v)", raw, s, want, err)
			}
		}
		if l, ok := plainStringList(raw); ok {
			var want []string
			if err := json.Unmarshal(raw, &want); err != nil || want == nil || !slices.Equal(want, l) {
				t.Fatalf("%q: direct %q, encoding/json %q (%v)", raw, l, want, err)
			}
		}
	})
}
