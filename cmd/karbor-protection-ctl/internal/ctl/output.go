package ctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Output follows the openstack client (cliff): a list is a table of rows
// under column headers, one object is a table of Field/Value; -f json
// writes a list of objects keyed by the column headers (or one object),
// indented by 2; -f yaml the same in YAML; -f value only the values, a row
// per line separated by spaces (a field per line for one object). -c keeps
// the named columns, in the order given. In table and value output null is
// "None", booleans are "True"/"False" and nested values are compact JSON,
// as the Python client prints them.

// printList writes rows (each as long as columns).
func (s *session) printList(columns []string, rows [][]any) error {
	keep, err := s.selectColumns(columns)
	if err != nil {
		return err
	}
	columns = pick(columns, keep)
	for i, r := range rows {
		rows[i] = pick(r, keep)
	}
	w := s.env.Stdout
	switch s.g.format {
	case "json":
		objs := make([]orderedObject, len(rows))
		for i, r := range rows {
			objs[i] = orderedObject{columns, r}
		}
		return writeJSON(w, objs)
	case "yaml":
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range rows {
			n, err := yamlObject(columns, r)
			if err != nil {
				return err
			}
			seq.Content = append(seq.Content, n)
		}
		return writeYAML(w, seq)
	case "value":
		for _, r := range rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = cell(v)
			}
			fmt.Fprintln(w, strings.Join(cells, " "))
		}
		return nil
	}
	if len(rows) == 0 {
		return nil // cliff prints nothing for an empty list
	}
	return writeTable(w, columns, rows)
}

// printRecord writes one object: fields and their values.
func (s *session) printRecord(fields []string, values []any) error {
	keep, err := s.selectColumns(fields)
	if err != nil {
		return err
	}
	fields, values = pick(fields, keep), pick(values, keep)
	w := s.env.Stdout
	switch s.g.format {
	case "json":
		return writeJSON(w, orderedObject{fields, values})
	case "yaml":
		n, err := yamlObject(fields, values)
		if err != nil {
			return err
		}
		return writeYAML(w, n)
	case "value":
		for _, v := range values {
			fmt.Fprintln(w, cell(v))
		}
		return nil
	}
	rows := make([][]any, len(fields))
	for i := range fields {
		rows[i] = []any{fields[i], values[i]}
	}
	return writeTable(w, []string{"Field", "Value"}, rows)
}

// selectColumns maps -c names to indexes of columns (nil: all).
func (s *session) selectColumns(columns []string) ([]int, error) {
	if len(s.g.columns) == 0 {
		return nil, nil
	}
	var keep []int
	for _, c := range s.g.columns {
		i := slices.Index(columns, c)
		if i < 0 {
			return nil, usagef("no column %q (columns: %s)", c, strings.Join(columns, ", "))
		}
		keep = append(keep, i)
	}
	return keep, nil
}

func pick[T any](row []T, keep []int) []T {
	if keep == nil {
		return row
	}
	out := make([]T, len(keep))
	for i, k := range keep {
		out[i] = row[k]
	}
	return out
}

// cell is a value as table and value output show it.
func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case json.Number:
		return v.String()
	case fmt.Stringer:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// writeTable draws a prettytable as cliff does.
func writeTable(w io.Writer, header []string, rows [][]any) error {
	text := make([][]string, len(rows))
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for r, row := range rows {
		text[r] = make([]string, len(row))
		for i, v := range row {
			// One row is one line: a newline would break the frame.
			s := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(cell(v))
			text[r][i] = s
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	var b bytes.Buffer
	rule := func() {
		for _, wd := range widths {
			b.WriteString("+" + strings.Repeat("-", wd+2))
		}
		b.WriteString("+\n")
	}
	line := func(cells []string) {
		for i, c := range cells {
			b.WriteString("| " + c + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)) + " ")
		}
		b.WriteString("|\n")
	}
	rule()
	line(header)
	rule()
	for _, r := range text {
		line(r)
	}
	rule()
	_, err := w.Write(b.Bytes())
	return err
}

// orderedObject is a JSON object whose keys keep their order.
type orderedObject struct {
	keys   []string
	values []any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.values[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func yamlObject(keys []string, values []any) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i, k := range keys {
		var v yaml.Node
		if err := v.Encode(plain(values[i])); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &v)
	}
	return n, nil
}

func writeYAML(w io.Writer, n *yaml.Node) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}

// plain turns json.Number into numbers, recursively, for the YAML encoder.
func plain(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	}
	return v
}
