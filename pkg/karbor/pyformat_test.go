package karbor

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expectations printed by Python 3.11 ("template % kwargs").
func TestPyFormat(t *testing.T) {
	tests := []struct {
		template string
		kwargs   map[string]any
		want     string
	}{
		{"%(a)s and %(b)s", map[string]any{"a": "x", "b": 5}, "x and 5"},
		{"100%% of %(a)s", map[string]any{"a": "x"}, "100% of x"},
		{"%(n)d items", map[string]any{"n": 3.9}, "3 items"},
		{"%(n)d items", map[string]any{"n": true}, "1 items"},
		{"%(n)5d|%(n)-5d|%(n)05d|%(n)+d", map[string]any{"n": 42}, "   42|42   |00042|+42"},
		{"%(s)10s|%(s)-10s|%(s).2s", map[string]any{"s": "abcdef"}, "    abcdef|abcdef    |ab"},
		{"%(v)s %(v)r", map[string]any{"v": nil}, "None None"},
		{"%(v)s %(v)r", map[string]any{"v": []any{1, "a", nil, true}}, "[1, 'a', None, True] [1, 'a', None, True]"},
		{"%(v)s", map[string]any{"v": map[string]any{"k": "v"}}, "{'k': 'v'}"},
		{"%(v)r", map[string]any{"v": "it's"}, `"it's"`},
		{"%(n).3d", map[string]any{"n": -5}, "-005"},
		{"%(n)d", map[string]any{"n": -0.5}, "0"},
		{"%(f)s", map[string]any{"f": 1e22}, "1e+22"},
		{"%(n)s", map[string]any{"n": json.Number("1E5")}, "100000.0"},
		{"%(e)s", map[string]any{"e": errors.New("boom")}, "boom"},
		{"%(e)s|%(e)r", map[string]any{"e": KeyError("k")}, "'k'|KeyError('k')"},
		{"no specs", map[string]any{"x": 1}, "no specs"},
	}
	for _, tt := range tests {
		got, err := pyFormat(tt.template, tt.kwargs)
		require.NoError(t, err, tt.template)
		assert.Equal(t, tt.want, got, tt.template)
	}
	for _, bad := range []struct {
		template string
		kwargs   map[string]any
	}{
		{"%(a)s", map[string]any{}},
		{"%s", map[string]any{"a": 1}},
		{"%(a)d", map[string]any{"a": "x"}},
		{"%(a)d", map[string]any{"a": nil}},
		{"%(a)z", map[string]any{"a": 1}},
		{"%(a", map[string]any{"a": 1}},
		{"%(a)", map[string]any{"a": 1}},
	} {
		_, err := pyFormat(bad.template, bad.kwargs)
		assert.Error(t, err, bad.template)
	}
}

func TestParseISOTime(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, us int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, us*1000, time.UTC)
	}
	good := map[string]time.Time{
		"2026-11-22T01:57:50.245873":  utc(2026, 11, 22, 1, 57, 50, 245873),
		"2026-11-22T01:57:50Z":        utc(2026, 11, 22, 1, 57, 50, 0),
		"2026-11-22 01:57":            utc(2026, 11, 22, 1, 57, 0, 0),
		"2026-11-22":                  utc(2026, 11, 22, 0, 0, 0, 0),
		"20261122T0157":               utc(2026, 11, 22, 1, 57, 0, 0),
		"2026-11-22T01:57:50+02:00":   utc(2026, 11, 21, 23, 57, 50, 0),
		"2026-11-22T01:57:50-0130":    utc(2026, 11, 22, 3, 27, 50, 0),
		"2026-11-22T01:57:50,5":       utc(2026, 11, 22, 1, 57, 50, 500000),
		"2026-11-22T01:57:50.1234567": utc(2026, 11, 22, 1, 57, 50, 123456),
		"2026":                        utc(2026, 1, 1, 0, 0, 0, 0),
		"2026-11":                     utc(2026, 11, 1, 0, 0, 0, 0),
		"2026-11-22T01":               utc(2026, 11, 22, 1, 0, 0, 0),
		"2026-1-2T03:04:05":           utc(2026, 1, 2, 3, 4, 5, 0),
	}
	for in, want := range good {
		got, err := ParseISOTime(in)
		if assert.NoError(t, err, in) {
			assert.True(t, want.Equal(got), "%s: %v", in, got)
		}
	}
	bad := map[string]string{
		"x":                   "Unable to parse date string 'x'",
		"2026-13-01":          "month must be in 1..12",
		"2026-11-22T25:00":    "hour must be in 0..23",
		"2026-11-22t01:57":    "Unable to parse date string",
		"2026-11-22T01:57:60": "second must be in 0..59",
		"2026-02-30":          "day is out of range for month",
		"0000-01-01":          "year 0 is out of range",
		"202611":              "Unable to parse date string",
		"2026-11-22T01:61":    "minute must be in 0..59",
		"2026-11-22T00:00+24": "offset must be a timedelta",
	}
	for in, want := range bad {
		_, err := ParseISOTime(in)
		var b *BuiltinError
		if assert.ErrorAs(t, err, &b, in) {
			assert.Equal(t, "ValueError", b.Class)
			assert.Contains(t, b.Error(), want, in)
		}
	}
}

// Expectations from Python's datetime.strptime(value, "%Y-%m-%d").
func TestParseDate(t *testing.T) {
	good := map[string]time.Time{
		"2020-01-01": time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		"2020-1-1":   time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		"2020-01- 1": time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		"2020-02-29": time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC),
	}
	for in, want := range good {
		got, err := ParseDate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	bad := map[string]string{
		"2020/01/01":  "time data '2020/01/01' does not match format '%Y-%m-%d'",
		"2020-01-01x": "unconverted data remains: x",
		"2020-13-01":  "time data '2020-13-01' does not match format '%Y-%m-%d'",
		"2020-02-30":  "day is out of range for month",
		"2021-02-29":  "day is out of range for month",
		"0000-01-01":  "year 0 is out of range",
		"2020-12-31 ": "unconverted data remains:  ",
		"2020-01-010": "unconverted data remains: 0",
		"":            "time data '' does not match format '%Y-%m-%d'",
	}
	for in, want := range bad {
		_, err := ParseDate(in)
		require.Error(t, err, in)
		assert.Equal(t, want, err.Error(), in)
	}
}

func TestBuiltinErrors(t *testing.T) {
	tests := []struct {
		err        *BuiltinError
		class, str string
		repr       string
		args       []any
	}{
		{KeyError("properties"), "KeyError", "'properties'", "KeyError('properties')", []any{"properties"}},
		{ValueError("too many values to unpack (expected 2)"), "ValueError", "too many values to unpack (expected 2)",
			"ValueError('too many values to unpack (expected 2)')", []any{"too many values to unpack (expected 2)"}},
		{NoneAttributeError("get"), "AttributeError", "'NoneType' object has no attribute 'get'",
			`AttributeError("'NoneType' object has no attribute 'get'")`, []any{"'NoneType' object has no attribute 'get'"}},
		{UnsupportedCheckpointVersion(), "RuntimeError", "Checkpoint was created in an unsupported version",
			"RuntimeError('Checkpoint was created in an unsupported version')", []any{"Checkpoint was created in an unsupported version"}},
		{TypeError("x"), "TypeError", "x", "TypeError('x')", []any{"x"}},
		{NewBuiltin("ValueError", "bad value", 42), "ValueError", "('bad value', 42)", "ValueError('bad value', 42)", []any{"bad value", 42}},
		{NewBuiltin("ValueError"), "ValueError", "", "ValueError()", []any{}},
		{NewBuiltin("OSError", KeyError("k")), "OSError", "'k'", "OSError(KeyError('k'))", []any{"KeyError('k')"}},
	}
	for _, tt := range tests {
		assert.Equal(t, BuiltinModule, tt.err.PythonModule())
		assert.Equal(t, tt.class, tt.err.PythonClass())
		assert.Equal(t, tt.str, tt.err.Error())
		assert.Equal(t, tt.repr, tt.err.PythonRepr())
		assert.Equal(t, tt.args, tt.err.PythonArgs())
		assert.Empty(t, tt.err.PythonKwargs())
	}
}
