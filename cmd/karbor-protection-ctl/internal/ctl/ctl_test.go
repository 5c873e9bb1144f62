package ctl

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		f    string
		wait bool
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, "table", false},
		{[]string{"a", "-f", "json", "b", "--wait"}, []string{"a", "b"}, "json", true},
		{[]string{"--wait", "a", "--", "-f", "b"}, []string{"a", "-f", "b"}, "table", true},
	} {
		fs := newFlagSet("t")
		f := fs.String("f", "table", "")
		wait := fs.Bool("wait", false, "")
		pos, err := parseInterleaved(fs, tc.args)
		require.NoError(t, err, "%v", tc.args)
		assert.Equal(t, tc.pos, pos, "%v", tc.args)
		assert.Equal(t, tc.f, *f)
		assert.Equal(t, tc.wait, *wait)
	}
	fs := newFlagSet("t")
	_, err := parseInterleaved(fs, []string{"a", "--nope"})
	assert.Error(t, err)
	_, err = parseInterleaved(newFlagSet("t"), []string{"-h"})
	assert.True(t, errors.Is(err, flag.ErrHelp))
}

func TestFindCommand(t *testing.T) {
	c, rest := findCommand([]string{"protectable", "instance", "list", "T"})
	require.NotNil(t, c)
	assert.Equal(t, "protectable instance list", c.words, "the longest match")
	assert.Equal(t, []string{"T"}, rest)
	c, _ = findCommand([]string{"protectable", "list"})
	assert.Equal(t, "protectable list", c.words)
	c, _ = findCommand([]string{"nothing"})
	assert.Nil(t, c)
}

func TestCell(t *testing.T) {
	assert.Equal(t, "None", cell(nil))
	assert.Equal(t, "True", cell(true))
	assert.Equal(t, "False", cell(false))
	assert.Equal(t, "x", cell("x"))
	assert.Equal(t, `{"a":[1,"b"]}`, cell(map[string]any{"a": []any{1, "b"}}))
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeTable(&b, []string{"Id", "Név"}, [][]any{{"1", "é\nx"}, {nil, true}}))
	assert.Equal(t, `+------+------+
| Id   | Név  |
+------+------+
| 1    | é x  |
| None | True |
+------+------+
`, b.String(), "widths in characters; a newline does not break the frame")
}

// TestViews: plain lines only on change; the bar redraws in place, fills
// to Done/Total and ends at 100%.
func TestViews(t *testing.T) {
	var b bytes.Buffer
	lv := &lineView{w: &b, what: "restore r"}
	for _, p := range []Progress{{Status: "in_progress", Total: 2}, {Status: "in_progress", Total: 2}, {Status: "in_progress", Done: 1, Total: 2}, {Status: "success", Done: 2, Total: 2}} {
		lv.update(p)
	}
	assert.Equal(t, "restore r: in_progress (0/2 done)\nrestore r: in_progress (1/2 done)\nrestore r: success (2/2 done)\n", b.String())

	b.Reset()
	bv := &barView{w: &b, what: "checkpoint c", start: time.Now(), width: 10}
	bv.update(Progress{Status: "protecting", Done: 1, Total: 2})
	assert.Equal(t, "\r\x1b[2K[#####     ]  50% checkpoint c: protecting 0s", b.String())
	b.Reset()
	bv.update(Progress{Status: "protecting"})
	assert.Contains(t, b.String(), "<=>")
	assert.Contains(t, b.String(), "   ? checkpoint c")
	b.Reset()
	bv.end(Progress{Status: "available"}, nil)
	assert.Equal(t, "\r\x1b[2K[##########] 100% checkpoint c: available 0s\n", b.String())
}

func TestWaitFails(t *testing.T) {
	var stderr bytes.Buffer
	s := &session{env: Env{Stderr: &stderr, IsTerminal: func(io.Writer) bool { return false }}}
	statuses := []string{"protecting", "error"}
	src := &statusPoller{interval: time.Millisecond, final: checkpointFinal, poll: func(context.Context) (Progress, error) {
		st := statuses[0]
		if len(statuses) > 1 {
			statuses = statuses[1:]
		}
		return Progress{Status: st}, nil
	}}
	err := s.wait(context.Background(), "checkpoint c", src, oneOf("available"))
	var wf *waitFailedError
	require.True(t, errors.As(err, &wf))
	assert.Equal(t, "checkpoint c ended in status error", err.Error())
	assert.Equal(t, "checkpoint c: protecting\ncheckpoint c: error\n", stderr.String())
}
