package bank

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// IndexVersion is the only index.json version karbor writes and reads.
const IndexVersion = "0.9"

// document is a JSON object with its keys in file order, as a Python dict
// keeps them. index.json is rewritten from it, so fields this service does
// not interpret keep their places and exact values.
type document struct{ *python.Dict }

func newDocument() *document { return &document{&python.Dict{}} }

// parseDocument reads a top-level JSON object as json.loads makes a dict of
// it.
func parseDocument(data []byte) (*document, error) {
	d, err := python.LoadDict(data)
	if err != nil {
		return nil, err
	}
	return &document{d}, nil
}

func (d *document) setString(key, value string) {
	d.Set(key, python.AppendJSONString(nil, value))
}

// stringField reads a field that must be a JSON string; null reads as "".
// required says a missing key is an error (Python would raise KeyError).
func (d *document) stringField(key string, required bool) (string, error) {
	raw, ok := d.Get(key)
	if !ok {
		if required {
			return "", fmt.Errorf("missing %q", key)
		}
		return "", nil
	}
	return rawString(key, raw)
}

func rawString(key string, raw json.RawMessage) (string, error) {
	if bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if s, ok := plainString(raw); ok {
		return s, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%q is not a string", key)
	}
	return s, nil
}

// plainString reads a JSON string of printable ASCII without escapes, the
// form of nearly every field of index.json, without encoding/json's
// reflection: a listing page decodes hundreds of them. False for any other
// text.
func plainString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(inner), true
}

// Plan is the protection_plan of a checkpoint.
type Plan struct {
	ID         string
	Name       string
	ProviderID string
	// Resources is the plan's resource list exactly as the Plan primitive
	// carried it.
	Resources json.RawMessage
}

func decodePlan(raw json.RawMessage) (Plan, error) {
	doc, err := parseDocument(raw)
	if err != nil {
		return Plan{}, fmt.Errorf("protection_plan: %w", err)
	}
	var p Plan
	if p.ID, err = doc.stringField("id", true); err != nil {
		return Plan{}, fmt.Errorf("protection_plan: %w", err)
	}
	if p.Name, err = doc.stringField("name", false); err != nil {
		return Plan{}, fmt.Errorf("protection_plan: %w", err)
	}
	if p.ProviderID, err = doc.stringField("provider_id", true); err != nil {
		return Plan{}, fmt.Errorf("protection_plan: %w", err)
	}
	p.Resources, _ = doc.Get("resources")
	return p, nil
}

// Checkpoint is one checkpoint's index.json
// (docs/karbor-behaviour.md#indexjson), decoded.
type Checkpoint struct {
	// ID is the id the checkpoint was read by (Python reports that one,
	// not the "id" field).
	ID         string
	Status     string
	OwnerID    string
	ProviderID string
	ProjectID  string
	Plan       Plan
	// ExtraInfo is the raw JSON value: normally a JSON string holding
	// JSON, {} for a copy in progress, null; nil when the key is absent.
	ExtraInfo json.RawMessage
	// CreatedAt is the UTC creation date, YYYY-MM-DD.
	CreatedAt string
	// Timestamp is the creation time in epoch seconds.
	Timestamp int64
	// ResourceGraph is the packed graph string, nil until set.
	ResourceGraph *string

	doc *document
}

// DecodeIndex decodes an index.json read for checkpoint id. Errors are
// UnsupportedVersionError or IndexDecodeError.
func DecodeIndex(id string, data []byte) (*Checkpoint, error) {
	doc, err := parseDocument(data)
	if err != nil {
		return nil, &IndexDecodeError{CheckpointID: id, Reason: err.Error()}
	}
	cp, err := checkpointFromDocument(id, doc)
	if err != nil {
		var uv *UnsupportedVersionError
		if errors.As(err, &uv) {
			return nil, err
		}
		return nil, &IndexDecodeError{CheckpointID: id, Reason: err.Error()}
	}
	return cp, nil
}

func checkpointFromDocument(id string, doc *document) (*Checkpoint, error) {
	v, ok := doc.Get("version")
	if !ok {
		return nil, errors.New(`missing "version"`)
	}
	if !bytes.Equal(v, []byte(`"`+IndexVersion+`"`)) {
		return nil, &UnsupportedVersionError{CheckpointID: id, Version: string(v)}
	}
	cp := &Checkpoint{ID: id, doc: doc}
	fields := []struct {
		key      string
		dst      *string
		required bool
	}{
		{"status", &cp.Status, true},
		{"owner_id", &cp.OwnerID, false},
		{"provider_id", &cp.ProviderID, false},
		{"project_id", &cp.ProjectID, true},
		{"created_at", &cp.CreatedAt, false},
	}
	for _, f := range fields {
		s, err := doc.stringField(f.key, f.required)
		if err != nil {
			return nil, err
		}
		*f.dst = s
	}
	raw, ok := doc.Get("protection_plan")
	if !ok {
		return nil, errors.New(`missing "protection_plan"`)
	}
	plan, err := decodePlan(raw)
	if err != nil {
		return nil, err
	}
	cp.Plan = plan
	if raw, ok := doc.Get("timestamp"); ok {
		ts, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf(`"timestamp" %s is not an integer`, raw)
		}
		cp.Timestamp = ts
	}
	cp.ExtraInfo, _ = doc.Get("extra_info")
	if raw, ok := doc.Get("resource_graph"); ok && !bytes.Equal(raw, []byte("null")) {
		g, err := rawString("resource_graph", raw)
		if err != nil {
			return nil, err
		}
		cp.ResourceGraph = &g
	}
	return cp, nil
}

// EncodeIndex returns the index.json text: the document as read (or
// created), with status, owner_id, extra_info and resource_graph taken from
// the struct, formatted as Python writes it.
func (c *Checkpoint) EncodeIndex() ([]byte, error) {
	doc := c.document()
	doc.setString("status", c.Status)
	doc.setString("owner_id", c.OwnerID)
	if c.ExtraInfo != nil {
		doc.Set("extra_info", c.ExtraInfo)
	}
	if c.ResourceGraph != nil {
		doc.setString("resource_graph", *c.ResourceGraph)
	}
	return doc.AppendJSON(nil) // as json.dumps writes it
}

// document returns a copy of the backing document, building one with
// index.json's keys in the order karbor's create writes them
// (docs/karbor-behaviour.md#indexjson) for a Checkpoint made by hand.
func (c *Checkpoint) document() *document {
	if c.doc != nil {
		return &document{c.doc.Clone()}
	}
	doc := newDocument()
	doc.setString("version", IndexVersion)
	doc.setString("id", c.ID)
	doc.setString("status", c.Status)
	doc.setString("owner_id", c.OwnerID)
	doc.setString("provider_id", c.ProviderID)
	doc.setString("project_id", c.ProjectID)
	doc.Set("protection_plan", c.Plan.encode())
	extra := c.ExtraInfo
	if extra == nil {
		extra = json.RawMessage("null")
	}
	doc.Set("extra_info", extra)
	doc.setString("created_at", c.CreatedAt)
	doc.Set("timestamp", strconv.AppendInt(nil, c.Timestamp, 10))
	return doc
}

// encode writes the plan object in Python's key order. Resources go in
// as given; document.encode reformats (and so validates) them.
func (p Plan) encode() json.RawMessage {
	res := p.Resources
	if res == nil {
		res = json.RawMessage("null")
	}
	out := append([]byte(`{"id": `), python.AppendJSONString(nil, p.ID)...)
	out = append(append(out, `, "name": `...), python.AppendJSONString(nil, p.Name)...)
	out = append(append(out, `, "provider_id": `...), python.AppendJSONString(nil, p.ProviderID)...)
	out = append(append(out, `, "resources": `...), res...)
	return append(out, '}')
}

// Dict is the checkpoint as show_checkpoint and list_checkpoints return it
// (karbor's Checkpoint.to_dict): exactly these seven keys; values absent
// from index.json are null (docs/karbor-behaviour.md#checkpoint-dict).
type Dict struct {
	ID             string          `json:"id"`
	Status         json.RawMessage `json:"status"`
	ProtectionPlan json.RawMessage `json:"protection_plan"`
	ExtraInfo      json.RawMessage `json:"extra_info"`
	ProjectID      json.RawMessage `json:"project_id"`
	ResourceGraph  json.RawMessage `json:"resource_graph"`
	CreatedAt      json.RawMessage `json:"created_at"`
}

// Dict returns the RPC view of the checkpoint, values as stored.
func (c *Checkpoint) Dict() Dict {
	doc := c.document()
	val := func(k string) json.RawMessage {
		if v, ok := doc.Get(k); ok {
			return v
		}
		return json.RawMessage("null")
	}
	d := Dict{
		ID:             c.ID,
		Status:         python.AppendJSONString(nil, c.Status),
		ProtectionPlan: val("protection_plan"),
		ExtraInfo:      val("extra_info"),
		ProjectID:      val("project_id"),
		ResourceGraph:  val("resource_graph"),
		CreatedAt:      val("created_at"),
	}
	if c.ExtraInfo != nil {
		d.ExtraInfo = c.ExtraInfo
	}
	if c.ResourceGraph != nil {
		d.ResourceGraph = python.AppendJSONString(nil, *c.ResourceGraph)
	}
	return d
}
