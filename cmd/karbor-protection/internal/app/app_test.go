package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/config"
)

// TestFormatterMatchesOsloLog: lines as oslo.log 5's ContextFormatter
// writes them with its default format strings (the expected lines have the
// shape of lines printed by Debian's python3-oslo.log for the same records).
func TestFormatterMatchesOsloLog(t *testing.T) {
	at := time.Date(2026, 11, 22, 4, 18, 17, 136_900_000, time.Local)
	f := &osloFormatter{pid: 4314, dateFormat: "%Y-%m-%d %H:%M:%S"}
	l := logrus.New()
	for _, tc := range []struct {
		name   string
		level  logrus.Level
		fields logrus.Fields
		msg    string
		want   string
	}{
		{"outside a request", logrus.InfoLevel, logrus.Fields{"logger": "karbor.services.protection.manager"}, "Starting protection service",
			"2026-11-22 04:18:17.136 4314 INFO karbor.services.protection.manager [-] Starting protection service\n"},
		{"inside a request", logrus.WarnLevel, logrus.Fields{"logger": "karbor.services.protection.manager", "request_id": "req-611b",
			"global_request_id": "None", "user_identity": "a1b2 f0e1 - - - -"}, "with arg",
			"2026-11-22 04:18:17.136 4314 WARNING karbor.services.protection.manager [None req-611b a1b2 f0e1 - - - -] with arg\n"},
		{"request without identity", logrus.ErrorLevel, logrus.Fields{"logger": "oslo_messaging.rpc.server", "request_id": "req-1"}, "x",
			"2026-11-22 04:18:17.136 4314 ERROR oslo_messaging.rpc.server [None req-1 -] x\n"},
		{"extra fields", logrus.DebugLevel, logrus.Fields{"checkpoint_id": "c1", "error": errors.New("bad thing"), "n": 3}, "m",
			"2026-11-22 04:18:17.136 4314 DEBUG karbor [-] m checkpoint_id=c1 error=\"bad thing\" n=3\n"},
		{"critical", logrus.FatalLevel, nil, "boom", "2026-11-22 04:18:17.136 4314 CRITICAL karbor [-] boom\n"},
		// Values from the wire cannot forge lines: controls are escaped.
		{"forged request id", logrus.InfoLevel, logrus.Fields{"logger": "oslo_messaging.rpc.server",
			"request_id": "req-1\n2026-11-22 04:18:17.136 4314 CRITICAL karbor [-] forged", "user_identity": "u\r\np - - - -"},
			"Exception during message handling: Endpoint does not support RPC method a\nb\u2028c\x1b[31m",
			"2026-11-22 04:18:17.136 4314 INFO oslo_messaging.rpc.server [None req-1\\n2026-11-22 04:18:17.136 4314 CRITICAL karbor [-] forged u\\r\\np - - - -] " +
				"Exception during message handling: Endpoint does not support RPC method a\\nb\\u2028c\\x1b[31m\n"},
		{"forged fields", logrus.WarnLevel, logrus.Fields{"method": "m\u0085x", "msg_id": "a\x00b", "k\ney": "v"}, "tab\there",
			"2026-11-22 04:18:17.136 4314 WARNING karbor [-] tab\\there k\\ney=v method=\"m\\u0085x\" msg_id=\"a\\x00b\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := logrus.NewEntry(l).WithFields(tc.fields)
			e.Time, e.Level, e.Message = at, tc.level, tc.msg
			got, err := f.Format(e)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
			assert.Equal(t, 1, strings.Count(string(got), "\n"), "one entry, one line")
		})
	}
}

func TestStrftime(t *testing.T) {
	at := time.Date(2026, 3, 5, 14, 7, 9, 123456000, time.UTC)
	for format, want := range map[string]string{
		"%Y-%m-%d %H:%M:%S": "2026-03-05 14:07:09",
		"%y%j %I%p %f %%":   "26064 02PM 123456 %",
		"%a %b %e %A %B %Z": "Thu Mar  5 Thursday March UTC",
		"%Q trailing %":     "%Q trailing %",
	} {
		assert.Equal(t, want, strftime(at, format), format)
	}
}

func TestLogFilePath(t *testing.T) {
	assert.Equal(t, "", logFilePath("", ""))
	assert.Equal(t, "a.log", logFilePath("a.log", ""))
	assert.Equal(t, "/var/log/karbor/a.log", logFilePath("a.log", "/var/log/karbor"))
	assert.Equal(t, "/var/log/karbor/karbor-protection.log", logFilePath("", "/var/log/karbor"))
}

// TestWatchedFileReopens: a log file moved away (logrotate) is reopened at
// its path before the next line, as Python's WatchedFileHandler does.
func TestWatchedFileReopens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "karbor-protection.log")
	w, err := openWatchedFile(path)
	require.NoError(t, err)
	defer w.Close()
	_, err = w.Write([]byte("one\n"))
	require.NoError(t, err)
	require.NoError(t, os.Rename(path, path+".1"))
	_, err = w.Write([]byte("two\n"))
	require.NoError(t, err)
	rotated, err := os.ReadFile(path + ".1")
	require.NoError(t, err)
	current, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "one\n", string(rotated))
	assert.Equal(t, "two\n", string(current))
}

func TestNewLoggingDestinations(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name               string
		opts               config.Log
		toStdout, toStderr bool
		file               string
	}{
		{"default is standard output", config.Log{}, true, false, ""},
		{"use_stderr", config.Log{UseStderr: true}, false, true, ""},
		{"log_file", config.Log{File: filepath.Join(dir, "a.log")}, false, false, filepath.Join(dir, "a.log")},
		{"log_dir and use_stderr", config.Log{Dir: dir, UseStderr: true}, false, true, filepath.Join(dir, "karbor-protection.log")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			l, warnings, err := newLogging(tc.opts, &stdout, &stderr)
			require.NoError(t, err)
			assert.Empty(t, warnings)
			l.entry("karbor.service").Info("hello " + tc.name)
			l.entry("karbor.service").Debug("hidden at INFO")
			require.NoError(t, l.Close())
			assert.Equal(t, tc.toStdout, strings.Contains(stdout.String(), "hello"))
			assert.Equal(t, tc.toStderr, strings.Contains(stderr.String(), "hello"))
			assert.NotContains(t, stdout.String()+stderr.String(), "hidden")
			if tc.file != "" {
				data, err := os.ReadFile(tc.file)
				require.NoError(t, err)
				assert.Contains(t, string(data), "INFO karbor.service [-] hello "+tc.name)
			}
		})
	}
	var out bytes.Buffer
	l, warnings, err := newLogging(config.Log{Debug: true, UseJournal: true, UseSyslog: true}, &out, &out)
	require.NoError(t, err)
	assert.Len(t, warnings, 2, "unsupported options are named")
	l.entry("karbor.service").Debug("shown at DEBUG")
	l.rpcEntry().Debug("oslo.messaging stays at INFO")
	assert.Contains(t, out.String(), "DEBUG karbor.service [-] shown at DEBUG")
	assert.NotContains(t, out.String(), "oslo.messaging stays")
	_, _, err = newLogging(config.Log{File: filepath.Join(dir, "missing", "a.log")}, &out, &out)
	assert.Error(t, err, "a log file that cannot be opened stops the start")
}

func TestParseFlags(t *testing.T) {
	var help bytes.Buffer
	o, err := parseFlags([]string{"--config-file", "a.conf", "--config-dir=d1", "--config-file", "b.conf", "-d", "--logfile", "x.log", "--log-dir", "/l", "--nouse-syslog"}, &help)
	require.NoError(t, err)
	assert.Equal(t, []config.Source{{Path: "a.conf"}, {Path: "d1", Dir: true}, {Path: "b.conf"}}, o.sources, "command-line order")
	assert.Equal(t, []config.Override{
		{Group: "DEFAULT", Name: "debug", Value: "true"},
		{Group: "DEFAULT", Name: "log_file", Value: "x.log"},
		{Group: "DEFAULT", Name: "log_dir", Value: "/l"},
		{Group: "DEFAULT", Name: "use_syslog", Value: "false"},
	}, o.overrides)
	for _, bad := range [][]string{{"--bogus"}, {"extra"}, {"--debug=false"}, {"--config-file"}} {
		_, err := parseFlags(bad, &help)
		assert.Error(t, err, "%v", bad)
	}
}

func TestMainExitStatus(t *testing.T) {
	dir := t.TempDir()
	noProviders := filepath.Join(dir, "karbor.conf")
	require.NoError(t, os.WriteFile(noProviders, []byte("[DEFAULT]\nprovider_config_dir = "+filepath.Join(dir, "nowhere")+"\nuse_stderr = true\n"), 0o644))
	badValue := filepath.Join(dir, "bad.conf")
	require.NoError(t, os.WriteFile(badValue, []byte("[DEFAULT]\nmax_concurrent_operations = -1\n"), 0o644))
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		out    string
	}{
		{"version", []string{"--version"}, 0, Version()},
		{"help", []string{"--help"}, 0, "-config-file"},
		{"unknown flag", []string{"--bogus"}, 2, "flag provided but not defined"},
		{"missing config file", []string{"--config-file", filepath.Join(dir, "missing.conf")}, 1, "missing.conf"},
		{"bad option value", []string{"--config-file", badValue}, 1, "max_concurrent_operations"},
		{"no provider directory", []string{"--config-file", noProviders}, 1, "Could not find config at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, tc.status, Main(tc.args, &stdout, &stderr))
			assert.Contains(t, stdout.String()+stderr.String(), tc.out)
		})
	}
}

// TestGroupStopsInOrder: when one actor returns, the others are stopped
// one at a time, in the order they were added, each waited for before the
// next; errors of actors that failed are returned.
func TestGroupStopsInOrder(t *testing.T) {
	var mu sync.Mutex
	var events []string
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, s)
	}
	blocker := func(name string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			<-ctx.Done()
			record("stop " + name)
			return nil
		}
	}
	failing := errors.New("broker gone")
	fail := make(chan struct{})
	var g group
	g.add("first", blocker("first"))
	g.add("second", func(ctx context.Context) error {
		select {
		case <-fail:
			record("fail second")
			return failing
		case <-ctx.Done():
			return nil
		}
	})
	g.add("third", blocker("third"))
	g.add("fourth", blocker("fourth"))
	var first string
	done := make(chan error, 1)
	go func() { done <- g.run(context.Background(), func(name string, _ error) { first = name }) }()
	close(fail)
	err := <-done
	require.ErrorIs(t, err, failing)
	assert.Equal(t, "second", first)
	assert.Equal(t, []string{"fail second", "stop first", "stop third", "stop fourth"}, events)
}

// TestGroupSignalStopIsClean: an actor returning errStopped (the signal
// handler) stops the group without an error.
func TestGroupSignalStopIsClean(t *testing.T) {
	var g group
	g.add("signals", func(context.Context) error { return errStopped })
	g.add("server", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	require.NoError(t, g.run(context.Background(), nil))
}
