package bank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// Bank is a plugin behind key validation and normalisation (Python's
// bank_plugin.Bank). Every key is checked before the plugin sees it.
type Bank struct {
	plugin Plugin
}

// New wraps a plugin.
func New(p Plugin) *Bank { return &Bank{plugin: p} }

// OwnerID is the plugin's owner id.
func (b *Bank) OwnerID() string { return b.plugin.OwnerID() }

// Ping checks that the bank can be reached now (Plugin.Ping).
func (b *Bank) Ping(ctx context.Context) error { return b.plugin.Ping(ctx) }

// Close closes the plugin.
func (b *Bank) Close() error { return b.plugin.Close() }

// PutObject writes obj at key.
func (b *Bank) PutObject(ctx context.Context, key string, obj Object) error {
	k, err := NormalizeKey(key)
	if err != nil {
		return err
	}
	return b.wrap(OpUpdate, k, b.plugin.PutObject(ctx, k, obj))
}

// GetObject reads the object at key.
func (b *Bank) GetObject(ctx context.Context, key string) (Object, error) {
	k, err := NormalizeKey(key)
	if err != nil {
		return Object{}, err
	}
	obj, err := b.plugin.GetObject(ctx, k)
	return obj, b.wrap(OpGet, k, err)
}

// DeleteObject removes the object at key.
func (b *Bank) DeleteObject(ctx context.Context, key string) error {
	k, err := NormalizeKey(key)
	if err != nil {
		return err
	}
	return b.wrap(OpDelete, k, b.plugin.DeleteObject(ctx, k))
}

// ListObjects lists full keys (see ListOptions); Prefix "" lists "/".
// Marker is a full key.
func (b *Bank) ListObjects(ctx context.Context, opts ListOptions) ([]string, error) {
	p, err := normalizePrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	opts.Prefix = p
	if opts.Marker != "" {
		opts.Marker = absolute(opts.Marker)
	}
	keys, err := b.plugin.ListObjects(ctx, opts)
	return keys, b.wrap(OpList, p, err)
}

// wrap turns a plugin error into an ObjectError unless it already says
// what is wrong with the key, or the caller gave up (a cancelled request
// must not read as a missing checkpoint).
func (b *Bank) wrap(op Op, key string, err error) error {
	if err == nil {
		return nil
	}
	var ik *InvalidKeyError
	var ip *InvalidPathError
	var oe *ObjectError
	if errors.As(err, &ik) || errors.As(err, &ip) || errors.As(err, &oe) || errors.Is(err, ErrReadOnly) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &ObjectError{Op: op, Key: key, Err: err}
}

// Section returns a writable view of the keys under prefix (Python's
// get_sub_section).
func (b *Bank) Section(prefix string) (*Section, error) {
	p, err := normalizeSection(prefix)
	if err != nil {
		return nil, err
	}
	return &Section{bank: b, prefix: p, writable: true}, nil
}

// Section is a prefix-scoped, optionally read-only view of a bank (Python's
// BankSection): keys are relative to the prefix and listings return keys
// with the prefix stripped. Plugins get a section of
// /checkpoints/<cid>/resource-data/<resource_id>/.
type Section struct {
	bank     *Bank
	prefix   string // absolute, ends with "/"
	writable bool
}

// Prefix is the section's absolute prefix, ending in "/".
func (s *Section) Prefix() string { return s.prefix }

// Writable reports whether writes are allowed.
func (s *Section) Writable() bool { return s.writable }

// OwnerID is the bank plugin's owner id.
func (s *Section) OwnerID() string { return s.bank.OwnerID() }

// ReadOnly returns a read-only view of the same keys.
func (s *Section) ReadOnly() *Section {
	return &Section{bank: s.bank, prefix: s.prefix, writable: false}
}

// Sub returns the section under prefix (relative to s). Asking a read-only
// section for a writable sub-section is ErrReadOnly, as in Python.
func (s *Section) Sub(prefix string, writable bool) (*Section, error) {
	if writable && !s.writable {
		return nil, ErrReadOnly
	}
	p, err := normalizeSection(s.prefix + "/" + prefix)
	if err != nil {
		return nil, err
	}
	return &Section{bank: s.bank, prefix: p, writable: writable}, nil
}

// key joins a relative key to the prefix; Bank validates the result, so
// messages name the full key as Python's do.
func (s *Section) key(key string) string { return s.prefix + key }

// PutObject writes obj at key.
func (s *Section) PutObject(ctx context.Context, key string, obj Object) error {
	if !s.writable {
		return ErrReadOnly
	}
	return s.bank.PutObject(ctx, s.key(key), obj)
}

// Put writes data verbatim (a raw, unserialized object).
func (s *Section) Put(ctx context.Context, key string, data []byte) error {
	return s.PutObject(ctx, key, Object{Data: data})
}

// PutString writes a string verbatim, as Python stores a str (a status, an
// index entry).
func (s *Section) PutString(ctx context.Context, key, value string) error {
	return s.PutObject(ctx, key, Object{Data: []byte(value)})
}

// PutJSON writes v as JSON text formatted as Python's json.dumps would
// (", " and ": " separators, non-ASCII escaped), flagged serialized.
func (s *Section) PutJSON(ctx context.Context, key string, v any) error {
	data, err := python.MarshalJSON(v)
	if err != nil {
		return fmt.Errorf("bank: encode %s: %w", key, err)
	}
	return s.PutObject(ctx, key, Object{Data: data, Serialized: true})
}

// GetObject reads the object at key.
func (s *Section) GetObject(ctx context.Context, key string) (Object, error) {
	return s.bank.GetObject(ctx, s.key(key))
}

// Get reads the stored bytes of key.
func (s *Section) Get(ctx context.Context, key string) ([]byte, error) {
	obj, err := s.GetObject(ctx, key)
	return obj.Data, err
}

// GetString reads a string value: a serialized JSON string is decoded (as
// Python would), anything else is returned as stored.
func (s *Section) GetString(ctx context.Context, key string) (string, error) {
	obj, err := s.GetObject(ctx, key)
	if err != nil {
		return "", err
	}
	if obj.Serialized {
		var str string
		if json.Unmarshal(obj.Data, &str) == nil {
			return str, nil
		}
	}
	return string(obj.Data), nil
}

// GetJSON decodes a JSON value into v.
func (s *Section) GetJSON(ctx context.Context, key string, v any) error {
	data, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("bank: decode %s%s: %w", s.prefix, key, err)
	}
	return nil
}

// DeleteObject removes key.
func (s *Section) DeleteObject(ctx context.Context, key string) error {
	if !s.writable {
		return ErrReadOnly
	}
	return s.bank.DeleteObject(ctx, s.key(key))
}

// ListObjects lists keys relative to the section. opts.Prefix is relative
// to the section ("" = the whole section) and opts.Marker relative to that
// listing prefix, as in Python.
func (s *Section) ListObjects(ctx context.Context, opts ListOptions) ([]string, error) {
	prefix := s.prefix
	if opts.Prefix != "" {
		prefix = collapseSlashes(s.prefix + opts.Prefix)
	}
	opts.Prefix = prefix
	if opts.Marker != "" {
		opts.Marker = collapseSlashes(prefix + opts.Marker)
	}
	keys, err := s.bank.ListObjects(ctx, opts)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, s.prefix)
	}
	return keys, nil
}
