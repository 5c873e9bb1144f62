package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/config"
)

// osloJSONKeys are the keys, in order, of a line of oslo.log's
// JSONFormatter (python3-oslo.log 5, Debian bookworm).
var osloJSONKeys = []string{"message", "asctime", "name", "msg", "args", "levelname", "levelno", "pathname",
	"filename", "module", "lineno", "funcname", "created", "msecs", "relative_created", "thread", "thread_name",
	"process_name", "process", "traceback", "hostname", "error_summary", "context", "extra"}

// keysInOrder returns the top-level keys of a JSON object in their order.
func keysInOrder(t *testing.T, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

func TestJSONFormatter(t *testing.T) {
	at := time.Date(2026, 11, 22, 4, 18, 17, 136_900_000, time.Local)
	f := &jsonFormatter{pid: 4314, hostname: "node1", dateFormat: "%Y-%m-%d %H:%M:%S", start: at.Add(-1500 * time.Millisecond)}
	l := logrus.New()
	for _, tc := range []struct {
		name    string
		level   logrus.Level
		fields  logrus.Fields
		msg     string
		want    map[string]any // keys checked
		context map[string]any
		extra   map[string]any
	}{
		{"outside a request", logrus.InfoLevel, logrus.Fields{"logger": "karbor.services.protection.manager"}, "Starting protection service",
			map[string]any{"message": "Starting protection service", "msg": "Starting protection service", "asctime": "2026-11-22 04:18:17",
				"name": "karbor.services.protection.manager", "module": "manager", "levelname": "INFO", "levelno": 20.0, "msecs": 136.0,
				"relative_created": 1500.0, "process": 4314.0, "hostname": "node1", "error_summary": "", "traceback": nil, "thread": nil},
			map[string]any{}, map[string]any{}},
		{"inside a request", logrus.WarnLevel, logrus.Fields{"logger": "oslo_messaging.rpc.server", "request_id": "req-611b",
			"user_identity": "a1b2 f0e1 - - -", "project_id": "f0e1", "checkpoint_id": "c1", "error": errors.New("bad thing")}, "failed",
			map[string]any{"levelname": "WARNING", "levelno": 30.0, "error_summary": "bad thing", "module": "server"},
			map[string]any{"request_id": "req-611b", "user_identity": "a1b2 f0e1 - - -", "project_id": "f0e1"},
			map[string]any{"checkpoint_id": "c1", "error": "bad thing"}},
		{"forged lines", logrus.ErrorLevel, logrus.Fields{"request_id": "req-1\n{\"forged\": 1}"}, "a\nb\u2028c",
			map[string]any{"message": "a\nb\u2028c", "name": "karbor", "levelno": 40.0},
			map[string]any{"request_id": "req-1\n{\"forged\": 1}"}, map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := logrus.NewEntry(l).WithFields(tc.fields)
			e.Time, e.Level, e.Message = at, tc.level, tc.msg
			line, err := f.Format(e)
			require.NoError(t, err)
			assert.Equal(t, 1, bytes.Count(line, []byte("\n")), "one entry, one line")
			assert.True(t, bytes.HasSuffix(line, []byte("\n")))
			assert.Equal(t, osloJSONKeys, keysInOrder(t, line))
			var got map[string]any
			require.NoError(t, json.Unmarshal(line, &got))
			for k, v := range tc.want {
				assert.Equal(t, v, got[k], k)
			}
			assert.Equal(t, tc.context, got["context"])
			assert.Equal(t, tc.extra, got["extra"])
			assert.Equal(t, []any{}, got["args"])
			assert.InDelta(t, float64(at.UnixNano())/1e9, got["created"], 1e-3)
		})
	}
}

// TestJSONFormatterKeysMatchPython compares the key order with a line the
// real oslo.log writes, when Python and oslo.log are there.
func TestJSONFormatterKeysMatchPython(t *testing.T) {
	py := os.Getenv("KARBOR_TEST_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	out, err := exec.Command(py, "-c", `
import logging, sys
from oslo_log import formatters
h = logging.StreamHandler(sys.stdout)
h.setFormatter(formatters.JSONFormatter(datefmt="%Y-%m-%d %H:%M:%S"))
l = logging.getLogger("karbor.x"); l.addHandler(h); l.setLevel(logging.INFO)
l.info("hello")
`).Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with oslo.log: %v", err)
		}
		t.Skipf("python3 with oslo.log: %v", err)
	}
	assert.Equal(t, keysInOrder(t, out), osloJSONKeys)
}

func TestUseJSONLogging(t *testing.T) {
	var out bytes.Buffer
	l, warnings, err := newLogging(config.Log{UseJSON: true}, &out, &out)
	require.NoError(t, err)
	assert.Empty(t, warnings, "use_json is supported")
	l.entry("karbor.service").WithField("n", 3).Info("hello")
	l.rpcEntry().Info("from rpc")
	require.NoError(t, l.Close())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)
	var first map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	assert.Equal(t, "hello", first["message"])
	assert.Equal(t, "karbor.service", first["name"])
	assert.Equal(t, map[string]any{"n": 3.0}, first["extra"])
	assert.Contains(t, lines[1], `"name":"oslo_messaging.rpc.server"`)
}
