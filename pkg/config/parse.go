package config

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultGroup is the name of the section that holds ungrouped options.
const DefaultGroup = "DEFAULT"

// File is one configuration file as oslo.config's INI parser reads it: every
// value of every key, in file order, by section.
type File struct {
	Path     string
	sections map[string]*section // by normalized name (see normalizeGroup)
	order    []string            // normalized names, first appearance first
}

type section struct {
	keys  map[string][]string
	order []string // keys, first appearance first
}

// ParseError is a syntax error in a configuration file.
type ParseError struct {
	Path string
	Line int
	Msg  string
	Text string // the offending line, as written
}

func (e *ParseError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %q", e.Path, e.Line, e.Msg, e.Text)
}

// ParseFile parses the text of one configuration file with the rules of
// oslo.config's iniparser (see the package documentation for why this is not
// gopkg.in/ini.v1):
//
//   - a line starting with space or tab continues the previous value (joined
//     with "\n" after stripping its indentation); a blank line ends it;
//   - '#' and ';' start a comment only in the first column;
//   - a section line must end with ']'; an assignment needs a section first;
//   - key and value split at the first '=' or ':', both stripped, and one
//     pair of matching surrounding quotes removed from the value;
//   - every occurrence of a key is kept, in order.
//
// Lines end at "\n", "\r\n" or "\r", as Python's universal newlines do. A
// leading UTF-8 byte-order mark is skipped (Python would treat it as part of
// the first line and reject the file).
func ParseFile(path string, data []byte) (*File, error) {
	if !utf8.Valid(data) {
		return nil, &ParseError{Path: path, Line: invalidUTF8Line(data), Msg: "not valid UTF-8"}
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	if strings.HasSuffix(text, "\n") {
		lines = lines[:len(lines)-1]
	}
	p := &iniParser{file: &File{Path: path, sections: map[string]*section{}}}
	for i, line := range lines {
		if err := p.line(i+1, line); err != nil {
			return nil, err
		}
	}
	if err := p.flush(); err != nil {
		return nil, err
	}
	return p.file, nil
}

type iniParser struct {
	file    *File
	current *section
	key     string // pending assignment, "" when none
	value   []string
	keyLine int
	keyText string
}

func (p *iniParser) errorf(line int, text, msg string) error {
	return &ParseError{Path: p.file.Path, Line: line, Msg: msg, Text: text}
}

func (p *iniParser) line(n int, raw string) error {
	line := strings.TrimRightFunc(raw, isPySpace)
	if line == "" {
		return p.flush()
	}
	if line[0] == ' ' || line[0] == '\t' {
		if p.key == "" {
			return p.errorf(n, line, "unexpected continuation line")
		}
		p.value = append(p.value, strings.TrimLeftFunc(line, isPySpace))
		return nil
	}
	if err := p.flush(); err != nil {
		return err
	}
	switch line[0] {
	case '[':
		if !strings.HasSuffix(line, "]") {
			return p.errorf(n, line, "invalid section (must end with ])")
		}
		if len(line) <= 2 {
			return p.errorf(n, line, "empty section name")
		}
		p.newSection(line[1 : len(line)-1])
	case '#', ';':
	default:
		key, value, ok := splitKeyValue(line)
		if !ok {
			return p.errorf(n, line, "no ':' or '=' found in assignment")
		}
		if key == "" {
			return p.errorf(n, line, "key cannot be empty")
		}
		p.key, p.value, p.keyLine, p.keyText = key, []string{value}, n, line
	}
	return nil
}

func (p *iniParser) newSection(name string) {
	norm := normalizeGroup(name)
	s, ok := p.file.sections[norm]
	if !ok {
		s = &section{keys: map[string][]string{}}
		p.file.sections[norm] = s
		p.file.order = append(p.file.order, norm)
	}
	p.current = s
}

// flush records the pending assignment, if any.
func (p *iniParser) flush() error {
	if p.key == "" {
		return nil
	}
	if p.current == nil {
		return p.errorf(p.keyLine, p.keyText, "section must be started before assignment")
	}
	s := p.current
	if _, seen := s.keys[p.key]; !seen {
		s.order = append(s.order, p.key)
	}
	s.keys[p.key] = append(s.keys[p.key], strings.Join(p.value, "\n"))
	p.key, p.value = "", nil
	return nil
}

func splitKeyValue(line string) (key, value string, ok bool) {
	colon := strings.IndexByte(line, ':')
	equal := strings.IndexByte(line, '=')
	if colon < 0 && equal < 0 {
		return "", "", false
	}
	cut := colon
	if colon < 0 || (equal >= 0 && equal < colon) {
		cut = equal
	}
	key = strings.TrimFunc(line[:cut], isPySpace)
	return key, stripQuotes(strings.TrimFunc(line[cut+1:], isPySpace)), true
}

// stripQuotes removes one pair of surrounding quotes the way oslo.config
// does: only the first and last characters are looked at, so `"a"b"` gives
// `a"b` and a lone `"` gives the empty string.
func stripQuotes(v string) string {
	if v == "" || (v[0] != '"' && v[0] != '\'') || v[len(v)-1] != v[0] {
		return v
	}
	if len(v) == 1 {
		return ""
	}
	return v[1 : len(v)-1]
}

// normalizeGroup is oslo.config's _normalize_group_name: section names are
// compared in lower case, except DEFAULT, which must be written so.
func normalizeGroup(name string) string {
	if name == "" || name == DefaultGroup {
		return DefaultGroup
	}
	return strings.ToLower(name)
}

// isPySpace reports what Python's str.isspace does: Go's unicode.IsSpace plus
// the four ASCII separator controls U+001C..U+001F.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func invalidUTF8Line(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

// Sections returns the normalized names of the file's sections in the order
// they first appear.
func (f *File) Sections() []string {
	return append([]string(nil), f.order...)
}

// Keys returns the keys of a section in the order they first appear.
func (f *File) Keys(sectionName string) []string {
	s := f.sections[normalizeGroup(sectionName)]
	if s == nil {
		return nil
	}
	return append([]string(nil), s.order...)
}

// Values returns every value given to key in the section, in file order.
func (f *File) Values(sectionName, key string) []string {
	s := f.sections[normalizeGroup(sectionName)]
	if s == nil {
		return nil
	}
	return s.keys[key]
}
