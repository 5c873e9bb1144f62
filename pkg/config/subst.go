package config

import (
	"fmt"
	"strings"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// substitute expands "$name" and "${name}" in text the way oslo.config does
// (string.Template with identifiers [_a-zA-Z][._a-zA-Z0-9]*): "$$" and "\$"
// give a literal "$", a "$" not followed by an identifier stays as it is.
// name is looked up as an option of group, then of DEFAULT; "group.option"
// names another group. The value is Python's str() of the option's value,
// and "" for None.
//
// Beyond oslo.config, a key that is not a registered option but is set in a
// file (same section, then DEFAULT) also resolves, so that plugin sections
// read through Get can refer to each other's keys.
//
// strict reports an unresolvable name as an error (as oslo.config does);
// otherwise it is left as written.
func (c *Config) substitute(text, group string, visiting map[Name]bool, strict bool) (string, error) {
	if !strings.Contains(text, "$") {
		return text, nil
	}
	text = strings.ReplaceAll(text, `\$`, "$$")
	var b strings.Builder
	for {
		i := strings.IndexByte(text, '$')
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		b.WriteString(text[:i])
		rest := text[i+1:]
		var key string
		var n int // bytes consumed after the '$'
		switch {
		case strings.HasPrefix(rest, "$"):
			b.WriteByte('$')
			text = rest[1:]
			continue
		case identLen(rest) > 0:
			n = identLen(rest)
			key = rest[:n]
		case strings.HasPrefix(rest, "{") && identLen(rest[1:]) > 0 && strings.HasPrefix(rest[1+identLen(rest[1:]):], "}"):
			n = identLen(rest[1:]) + 2
			key = rest[1 : n-1]
		default:
			b.WriteByte('$')
			text = rest
			continue
		}
		v, err := c.resolve(key, group, visiting)
		switch {
		case err == nil:
			b.WriteString(v)
		case strict:
			return "", err
		default:
			b.WriteString(text[i : i+1+n])
		}
		text = rest[n:]
	}
}

func identLen(s string) int {
	if s == "" || !(s[0] == '_' || isASCIILetter(s[0])) {
		return 0
	}
	n := 1
	for n < len(s) && (s[n] == '_' || s[n] == '.' || isASCIILetter(s[n]) || s[n] >= '0' && s[n] <= '9') {
		n++
	}
	return n
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// resolve is oslo.config's StrSubWrapper.__getitem__, plus the file-key
// fallback described at substitute.
func (c *Config) resolve(key, group string, visiting map[Name]bool) (string, error) {
	if g, opt, dotted := strings.Cut(key, "."); dotted {
		if !c.reg.HasGroup(g) && !c.hasSection(g) {
			return "", fmt.Errorf("$%s: %w: no group %q", key, ErrNoSuchOption, g)
		}
		return c.resolveIn(Name{normalizeGroup(g), opt}, key, visiting)
	}
	group = normalizeGroup(group)
	if group != DefaultGroup {
		if _, ok := c.reg.Lookup(group, key); ok {
			return c.registered(Name{group, key}, visiting)
		}
	}
	if c.reg.HasGroup(key) && key != DefaultGroup {
		return "", fmt.Errorf("$%s: substituting a group is not supported", key)
	}
	if _, ok := c.reg.Lookup(DefaultGroup, key); ok {
		return c.registered(Name{DefaultGroup, key}, visiting)
	}
	if v, ok, err := c.fromFiles(Name{group, key}, visiting); ok || err != nil {
		return v, err
	}
	return c.resolveIn(Name{DefaultGroup, key}, key, visiting)
}

func (c *Config) resolveIn(n Name, key string, visiting map[Name]bool) (string, error) {
	if _, ok := c.reg.Lookup(n.Group, n.Name); ok {
		return c.registered(n, visiting)
	}
	if v, ok, err := c.fromFiles(n, visiting); ok || err != nil {
		return v, err
	}
	return "", fmt.Errorf("$%s: %w", key, ErrNoSuchOption)
}

func (c *Config) registered(n Name, visiting map[Name]bool) (string, error) {
	v, err := c.value(n, visiting)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", nil // oslo.config substitutes None as ""
	}
	return python.Str(v), nil
}

// fromFiles resolves a key that no registry declares from what the sources
// set, expanding it in its own section.
func (c *Config) fromFiles(n Name, visiting map[Name]bool) (string, bool, error) {
	r, ok := c.rawValue(n.Group, n.Name)
	if !ok {
		return "", false, nil
	}
	if visiting[n] {
		return "", true, fmt.Errorf("%s refers to itself through $ substitution", n)
	}
	visiting[n] = true
	defer delete(visiting, n)
	v, err := c.substitute(r.text, n.Group, visiting, true)
	return v, true, err
}

func (c *Config) hasSection(name string) bool {
	norm := normalizeGroup(name)
	for _, f := range c.files {
		if _, ok := f.sections[norm]; ok {
			return true
		}
	}
	return false
}
