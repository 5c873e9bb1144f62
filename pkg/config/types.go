package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// Type converts the text of an option into its value, with the rules of the
// oslo.config type of the same name. Values are string, bool, int64,
// float64 or []string; Int and Float give nil (Python None) for a blank text.
type Type interface {
	Parse(text string) (any, error)
	// Name is the type as the sample config file calls it.
	Name() string
}

// String accepts any text; with Choices, only one of them (exact match).
type String struct {
	Choices []string
}

// Bool accepts true/false, yes/no, on/off and 1/0 in any letter case, and
// nothing else (not even surrounding blanks).
type Bool struct{}

// Int is a decimal integer as Python's int() reads it (sign, blanks around,
// underscores between digits, any Unicode decimal digit), optionally bounded.
type Int struct {
	Min, Max int64
	Bounded  bool // Min and Max apply only when set
}

// Port is an Int between 0 and 65535.
var Port = Int{Min: 0, Max: 65535, Bounded: true}

// Float is a number as Python's float() reads it ("inf" and "nan" included).
type Float struct{}

// List splits on commas and strips each item; trailing commas are dropped
// and empty items in the middle kept, as oslo.config's List(String) does.
type List struct{}

// HostAddress is an IPv4 or IPv6 address (no zone) or a host name of
// letters, digits and hyphens; a trailing dot of a host name is dropped.
type HostAddress struct{}

func (String) Name() string      { return "string value" }
func (Bool) Name() string        { return "boolean value" }
func (Int) Name() string         { return "integer value" }
func (Float) Name() string       { return "floating point value" }
func (List) Name() string        { return "list value" }
func (HostAddress) Name() string { return "host address value" }

func (t String) Parse(text string) (any, error) {
	if t.Choices != nil && !slices.Contains(t.Choices, text) {
		return nil, fmt.Errorf("valid values are %s, but found %s", python.Repr(t.Choices), python.ReprString(text))
	}
	return text, nil
}

func (Bool) Parse(text string) (any, error) {
	switch strings.ToLower(text) {
	case "true", "1", "on", "yes":
		return true, nil
	case "false", "0", "off", "no":
		return false, nil
	}
	return nil, fmt.Errorf("unexpected boolean value %s", python.ReprString(text))
}

func (t Int) Parse(text string) (any, error) {
	if strings.TrimFunc(text, isPySpace) == "" {
		return nil, nil
	}
	n, err := parsePyInt(text)
	if err != nil {
		return nil, err
	}
	if t.Bounded && n < t.Min {
		return nil, fmt.Errorf("should be greater than or equal to %d", t.Min)
	}
	if t.Bounded && n > t.Max {
		return nil, fmt.Errorf("should be less than or equal to %d", t.Max)
	}
	return n, nil
}

func (Float) Parse(text string) (any, error) {
	if strings.TrimFunc(text, isPySpace) == "" {
		return nil, nil
	}
	f, err := parsePyFloat(text)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (List) Parse(text string) (any, error) {
	s := strings.TrimRight(strings.TrimFunc(text, isPySpace), ",")
	if s == "" {
		return []string{}, nil
	}
	items := strings.Split(s, ",")
	for i, item := range items {
		items[i] = strings.TrimFunc(item, isPySpace)
	}
	return items, nil
}

func (HostAddress) Parse(text string) (any, error) {
	if addr, err := netip.ParseAddr(text); err == nil && addr.Zone() == "" {
		return text, nil
	}
	name, err := checkHostname(text)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid host address", text)
	}
	return name, nil
}

// checkHostname is oslo.config's Hostname type: at most 253 characters, a
// trailing dot dropped, labels of 1 to 63 letters, digits or hyphens that
// neither start nor end with a hyphen, and a top-level label that is not
// all digits.
func checkHostname(text string) (string, error) {
	if text == "" || utf8.RuneCountInString(text) > 253 {
		return "", errors.New("bad length")
	}
	name := strings.TrimSuffix(text, ".")
	labels := strings.Split(name, ".")
	if !strings.ContainsFunc(labels[len(labels)-1], func(r rune) bool { return r == '-' || r < 0x80 && unicode.IsLetter(r) }) {
		return "", errors.New("numeric top-level label")
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", errors.New("bad label")
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return "", errors.New("bad character")
			}
		}
	}
	return name, nil
}

// parsePyInt is Python's int(text) in base 10, limited to int64.
func parsePyInt(text string) (int64, error) {
	invalid := fmt.Errorf("invalid literal for int() with base 10: %s", python.ReprString(text))
	digits, ok := pyDigits(strings.TrimFunc(text, isPySpace), false)
	if !ok {
		return 0, invalid
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("integer %s is out of range", digits)
	}
	return n, nil
}

// parsePyFloat is Python's float(text).
func parsePyFloat(text string) (float64, error) {
	invalid := fmt.Errorf("could not convert string to float: %s", python.ReprString(text))
	s := strings.TrimFunc(text, isPySpace)
	sign, body := 1, s
	if body != "" && (body[0] == '+' || body[0] == '-') {
		if body[0] == '-' {
			sign = -1
		}
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		return math.Inf(sign), nil
	case "nan":
		return math.NaN(), nil
	}
	ascii, ok := pyDigits(s, true)
	if !ok {
		return 0, invalid
	}
	f, err := strconv.ParseFloat(ascii, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, invalid
	}
	return f, nil
}

// pyDigits checks text against Python's grammar for a decimal integer (or,
// with fraction, a float literal without inf/nan) and returns it in ASCII
// digits without underscores, ready for strconv.
func pyDigits(text string, fraction bool) (string, bool) {
	var b strings.Builder
	rs := []rune(text)
	i := 0
	if i < len(rs) && (rs[i] == '+' || rs[i] == '-') {
		b.WriteRune(rs[i])
		i++
	}
	// digitpart reads digit (["_"] digit)* and reports how many digits.
	digitpart := func() int {
		count := 0
		for i < len(rs) {
			if rs[i] == '_' && count > 0 && i+1 < len(rs) && isPyDigit(rs[i+1]) {
				i++
				continue
			}
			d, ok := pyDigit(rs[i])
			if !ok {
				break
			}
			b.WriteByte(byte('0' + d))
			count++
			i++
		}
		return count
	}
	whole := digitpart()
	if !fraction {
		return b.String(), whole > 0 && i == len(rs)
	}
	frac := 0
	if i < len(rs) && rs[i] == '.' {
		b.WriteByte('.')
		i++
		frac = digitpart()
	}
	if whole+frac == 0 {
		return "", false
	}
	if i < len(rs) && (rs[i] == 'e' || rs[i] == 'E') {
		b.WriteByte('e')
		i++
		if i < len(rs) && (rs[i] == '+' || rs[i] == '-') {
			b.WriteRune(rs[i])
			i++
		}
		if digitpart() == 0 {
			return "", false
		}
	}
	return b.String(), i == len(rs)
}

func isPyDigit(r rune) bool {
	_, ok := pyDigit(r)
	return ok
}

// pyDigit is the value of a Unicode decimal digit (category Nd). Unicode
// assigns those only in runs of ten, 0 to 9, so the value is the distance
// from the start of the run, modulo ten.
func pyDigit(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if r < 0x80 || !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	start := r
	for unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10, true
}
