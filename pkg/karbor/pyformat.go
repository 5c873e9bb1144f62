package karbor

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// pyFormat is Python's "template % kwargs" for a dict argument, which is how
// KarborException builds its message. It supports what karbor's templates
// use and a little more: "%%" and "%(name)<flags><width><.precision><conv>"
// with conv one of s, r, a, d, i, u. Anything Python would reject (a missing
// key, an unnamed or unknown conversion, %d of a non-number) is an error, on
// which the caller falls back to the bare template as karbor does.
func pyFormat(template string, kwargs map[string]any) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(template, '%')
		if i < 0 {
			b.WriteString(template)
			return b.String(), nil
		}
		b.WriteString(template[:i])
		rest := template[i+1:]
		if strings.HasPrefix(rest, "%") {
			b.WriteByte('%')
			template = rest[1:]
			continue
		}
		spec, n, err := parseSpec(rest)
		if err != nil {
			return "", err
		}
		v, ok := kwargs[spec.key]
		if !ok {
			return "", fmt.Errorf("KeyError: %s", python.ReprString(spec.key))
		}
		text, err := spec.format(v)
		if err != nil {
			return "", err
		}
		b.WriteString(text)
		template = rest[n:]
	}
}

// maxFormatWidth bounds the padding a template may ask for; karbor's
// templates ask for none.
const maxFormatWidth = 1 << 12

type fmtSpec struct {
	key       string
	left      bool // '-' flag
	zero      bool // '0' flag
	sign      byte // '+' or ' ' flag, 0 if none
	width     int
	precision int // -1 if none
	conv      byte
}

// parseSpec reads "(key)flags width .precision [hlL] conv" and says how
// many bytes it used.
func parseSpec(s string) (fmtSpec, int, error) {
	spec := fmtSpec{precision: -1}
	if !strings.HasPrefix(s, "(") {
		return spec, 0, errors.New("TypeError: format requires a mapping")
	}
	depth, i := 1, 1
	for ; i < len(s) && depth > 0; i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		}
	}
	if depth > 0 {
		return spec, 0, errors.New("ValueError: incomplete format key")
	}
	spec.key = s[1 : i-1]
	for ; i < len(s) && strings.IndexByte("-+ #0", s[i]) >= 0; i++ {
		switch s[i] {
		case '-':
			spec.left = true
		case '0':
			spec.zero = true
		case '+':
			spec.sign = '+'
		case ' ':
			if spec.sign == 0 {
				spec.sign = ' '
			}
		}
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var err error
	if start < i {
		if spec.width, err = strconv.Atoi(s[start:i]); err != nil {
			return spec, 0, errors.New("ValueError: width too big")
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if spec.precision, err = strconv.Atoi(s[start:i]); err != nil && start < i {
			return spec, 0, errors.New("ValueError: precision too big")
		}
		if start == i {
			spec.precision = 0
		}
	}
	for i < len(s) && strings.IndexByte("hlL", s[i]) >= 0 {
		i++
	}
	if i >= len(s) {
		return spec, 0, errors.New("ValueError: incomplete format")
	}
	if spec.width > maxFormatWidth || spec.precision > maxFormatWidth {
		return spec, 0, errors.New("ValueError: width or precision too big")
	}
	spec.conv = s[i]
	return spec, i + 1, nil
}

func (s fmtSpec) format(v any) (string, error) {
	var text string
	switch s.conv {
	case 's':
		text = python.Str(v)
	case 'r', 'a':
		text = python.Repr(v)
	case 'd', 'i', 'u':
		n, ok := pyInt(v)
		if !ok {
			return "", fmt.Errorf("TypeError: %%%c format: a real number is required, not %s", s.conv, python.TypeName(v))
		}
		return s.pad(s.integer(n), true), nil
	default:
		return "", fmt.Errorf("ValueError: unsupported format character %q", s.conv)
	}
	if s.precision >= 0 && len([]rune(text)) > s.precision {
		text = string([]rune(text)[:s.precision])
	}
	return s.pad(text, false), nil
}

func (s fmtSpec) integer(n string) string {
	neg := strings.HasPrefix(n, "-")
	digits := strings.TrimPrefix(n, "-")
	if s.precision > len(digits) {
		digits = strings.Repeat("0", s.precision-len(digits)) + digits
	}
	switch {
	case neg:
		return "-" + digits
	case s.sign != 0:
		return string(s.sign) + digits
	}
	return digits
}

func (s fmtSpec) pad(text string, numeric bool) string {
	fill := s.width - len([]rune(text))
	switch {
	case fill <= 0:
		return text
	case s.left:
		return text + strings.Repeat(" ", fill)
	case s.zero && numeric:
		sign := ""
		if text != "" && (text[0] == '-' || text[0] == '+' || text[0] == ' ') {
			sign, text = text[:1], text[1:]
		}
		return sign + strings.Repeat("0", fill) + text
	}
	return strings.Repeat(" ", fill) + text
}

// pyInt is what "%d" accepts: integers, booleans (1/0) and floats
// (truncated), as decimal text.
func pyInt(v any) (string, bool) {
	switch v := v.(type) {
	case bool:
		if v {
			return "1", true
		}
		return "0", true
	case json.Number:
		if !strings.ContainsAny(string(v), ".eE") {
			return python.Repr(v), true // an int of any size
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return "", false
		}
		return truncFloat(f)
	case float64:
		return truncFloat(v)
	case float32:
		return truncFloat(float64(v))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	}
	return "", false
}

func truncFloat(f float64) (string, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", false
	}
	if t := math.Trunc(f); t != 0 {
		return strconv.FormatFloat(t, 'f', 0, 64), true
	}
	return "0", true
}
