package python

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/gokarbor/karbor-protection/pkg/jsonscan"
)

// Member is one key of a JSON object with its value as written.
type Member struct {
	Key   string
	Value json.RawMessage
}

// ErrNotObject is Members' error for a JSON value that is not an object.
var ErrNotObject = errors.New("not a JSON object")

// Members reads a JSON object in the order of the dict json.loads makes of
// it: each key where it first appears, with the last value given for it.
// Anything but exactly one object is an error.
func Members(data []byte) ([]Member, error) {
	members, _, err := loadMembers(data)
	return members, err
}

// loadMembers is Members, with where each key stands.
func loadMembers(data []byte) ([]Member, map[string]int, error) {
	if out, at, ok := loadValidObject(data); ok {
		return out, at, nil
	}
	return decodeMembers(data)
}

// loadValidObject is loadMembers for a valid JSON object, nearly every
// input, read in one pass that validates it and finds its members, over
// one copy of data. json.Decoder's tokens cost an allocation per key and
// per value and an error value for every member they peek past, and
// json.Valid's per-byte state machine was a third of reading a page of
// index.json files. false for any other text, which decodeMembers reads
// and reports on.
func loadValidObject(data []byte) ([]Member, map[string]int, bool) {
	buf := bytes.Clone(data) // the values are copies, as json.Decoder makes them
	var held [32]jsonscan.Member
	raw, ok := jsonscan.Members(buf, held[:0])
	if !ok || buf[jsonscan.SkipSpace(buf, 0)] != '{' {
		return nil, nil, false
	}
	var out []Member
	at := make(map[string]int, len(raw))
	for _, m := range raw {
		key, v := unquoteKey(m.Key), json.RawMessage(m.Value)
		if j, seen := at[key]; seen {
			out[j].Value = v
		} else {
			at[key] = len(out)
			out = append(out, Member{Key: key, Value: v})
		}
	}
	return out, at, true
}

// unquoteKey is the text of a quoted key as json.Decoder gives it.
func unquoteKey(quoted []byte) string {
	inner := quoted[1 : len(quoted)-1]
	plain := bytes.IndexByte(inner, '\\') < 0
	for _, c := range inner {
		plain = plain && c < 0x80
	}
	if plain {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(quoted, &s) // valid: checked by jsonscan.Members
	return s
}

// decodeMembers is loadMembers through json.Decoder, whose errors it
// returns.
func decodeMembers(data []byte) ([]Member, map[string]int, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, ErrNotObject
	}
	var out []Member
	at := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, _ := tok.(string) // object keys are always strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if i, seen := at[key]; seen {
			out[i].Value = v
			continue
		}
		at[key] = len(out)
		out = append(out, Member{Key: key, Value: v})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, errors.New("trailing data after the JSON object")
	}
	return out, at, nil
}

// Dict is a JSON object held as a Python dict holds it: keys in the order
// they were first set, values as JSON text. Setting a key again replaces
// its value in place. The zero Dict is empty and ready to use; a Dict is not
// safe for concurrent writes.
type Dict struct {
	members []Member
	index   map[string]int
}

// LoadDict is json.loads of a JSON object (see Members).
func LoadDict(data []byte) (*Dict, error) {
	members, index, err := loadMembers(data)
	if err != nil {
		return nil, err
	}
	return &Dict{members: members, index: index}, nil
}

// Get returns the value of key.
func (d *Dict) Get(key string) (json.RawMessage, bool) {
	i, ok := d.index[key]
	if !ok {
		return nil, false
	}
	return d.members[i].Value, true
}

// Set sets key's value: in its place if the key is there, else last.
func (d *Dict) Set(key string, value json.RawMessage) {
	if i, ok := d.index[key]; ok {
		d.members[i].Value = value
		return
	}
	if d.index == nil {
		d.index = make(map[string]int)
	}
	d.index[key] = len(d.members)
	d.members = append(d.members, Member{Key: key, Value: value})
}

// Clone returns a copy that can be set without changing d.
func (d *Dict) Clone() *Dict {
	return &Dict{members: slices.Clone(d.members), index: maps.Clone(d.index)}
}

// AppendJSON appends json.dumps(d): values as AppendJSON writes them (a
// value that is not JSON is an error naming its key).
func (d *Dict) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, '{')
	for i, m := range d.members {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = AppendJSONString(dst, m.Key)
		dst = append(dst, ": "...)
		var err error
		if dst, err = AppendJSON(dst, m.Value); err != nil {
			return nil, fmt.Errorf("field %q: %w", m.Key, err)
		}
	}
	return append(dst, '}'), nil
}
