package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// The end-to-end tests run the built karbor-protection binary against the
// real broker (a virtual host per test), with a configuration and a
// file-system bank in the test's temporary folder, and drive it with a real
// Python oslo.messaging client, as karbor-api does.

const (
	noopID          = "b766f37c-d011-4026-8228-28730d734a3f"
	topic           = "karbor-protection"
	controlExchange = "openstack"
	serviceHost     = "e2e-host" // [DEFAULT] host of every service a test starts
)

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(echoServerEnv); spec != "" {
		if err := runEchoServer(spec); err != nil {
			fmt.Fprintln(os.Stderr, "echo server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// logServiceOutput logs the tail of a failed test's service output and
// keeps the whole of it in a file: CI shows only the end of a run's output,
// and a long log would push the failed assertions above out of it.
func logServiceOutput(t testing.TB, out string) {
	t.Helper()
	const tail = 15
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	where := "(could not keep the whole output)"
	if f, err := os.CreateTemp("", "karbor-protection-e2e-*.log"); err == nil {
		_, _ = f.WriteString(out)
		_ = f.Close()
		where = "whole output in " + f.Name()
	}
	if len(lines) > tail {
		lines = lines[len(lines)-tail:]
	}
	t.Logf("karbor-protection output, last %d lines (%s):\n%s", len(lines), where, strings.Join(lines, "\n"))
}

// binary builds the program once per test run (with the race detector when
// the tests run with it) and returns its path.
func binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "karbor-protection-e2e-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "karbor-protection")
		args := []string{"build", "-o", buildPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		// go test puts its own GOROOT/bin first on the PATH of tests.
		cmd := exec.Command("go", append(args, ".")...)
		var out []byte
		out, buildErr = cmd.CombinedOutput()
		if buildErr != nil {
			buildErr = fmt.Errorf("go build: %w: %s", buildErr, out)
		}
	})
	require.NoError(tb, buildErr)
	return buildPath
}

// serviceConfig is what a test varies in the service's configuration.
type serviceConfig struct {
	extraDefault string   // more [DEFAULT] lines
	bankExtra    string   // more [file_system_bank_plugin] lines
	bankDir      string   // file_system_bank_path ("": <the test's folder>/bank)
	provider     string   // the noop provider file's text ("": the fs-bank one below)
	sections     string   // more sections of karbor.conf, after [DEFAULT]
	env          []string // more environment variables, "NAME=value"
	args         []string
}

// service is one karbor-protection process.
type service struct {
	t    testing.TB
	url  string // oslo transport URL of the test's vhost
	dir  string // the test's folder: karbor.conf, providers.d, bank
	conf serviceConfig
	cmd  *exec.Cmd
	out  *lineBuffer
	done chan struct{}
	err  error // Wait's result, once done is closed
}

// newService writes the configuration into a new folder and starts the
// service on url; it is killed at the end of the test if still running.
func newService(tb testing.TB, url string, conf serviceConfig) *service {
	tb.Helper()
	s := configureService(tb, url, conf)
	s.start()
	return s
}

// configureService writes the configuration into a new folder; start runs
// the service.
func configureService(tb testing.TB, url string, conf serviceConfig) *service {
	tb.Helper()
	s := &service{t: tb, url: url, dir: tb.TempDir(), conf: conf}
	s.writeConfig()
	return s
}

func (s *service) bankPath() string {
	if s.conf.bankDir != "" {
		return s.conf.bankDir
	}
	return filepath.Join(s.dir, "bank")
}

func (s *service) writeConfig() {
	t := s.t
	providers := filepath.Join(s.dir, "providers.d")
	require.NoError(t, os.MkdirAll(providers, 0o755))
	conf := fmt.Sprintf(`[DEFAULT]
transport_url = %s
host = %s
provider_config_dir = %s
periodic_fuzzy_delay = 0
%s
%s
`, s.url, serviceHost, providers, s.conf.extraDefault, s.conf.sections)
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "karbor.conf"), []byte(conf), 0o644))
	noop := fmt.Sprintf(`[provider]
name = No-Op Provider
description = This provider does nothing for each protect and restore operation. Used for testing
id = %s

plugin=karbor-noop-protection-plugin
bank=karbor-fs-bank-plugin

enabled=True

[file_system_bank_plugin]
file_system_bank_path = %s
%s
`, noopID, s.bankPath(), s.conf.bankExtra)
	if s.conf.provider != "" {
		noop = s.conf.provider
	}
	require.NoError(t, os.WriteFile(filepath.Join(providers, "noop.conf"), []byte(noop), 0o644))
}

// start starts the process and waits until its RPC server consumes.
func (s *service) start() {
	t := s.t
	t.Helper()
	args := append([]string{"--config-file", filepath.Join(s.dir, "karbor.conf")}, s.conf.args...)
	s.cmd = exec.Command(binary(t), args...)
	s.cmd.Dir = s.dir
	if len(s.conf.env) > 0 {
		s.cmd.Env = append(os.Environ(), s.conf.env...)
	}
	s.out = &lineBuffer{}
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	s.done = make(chan struct{})
	require.NoError(t, s.cmd.Start())
	done := s.done
	cmd := s.cmd
	go func() {
		err := cmd.Wait()
		s.out.mu.Lock()
		s.err = err
		s.out.mu.Unlock()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			logServiceOutput(t, s.out.String())
		}
	})
	s.waitLog("RPC server consuming", 60*time.Second)
}

// waitLog waits until the output has a line containing text.
func (s *service) waitLog(text string, within time.Duration) {
	s.t.Helper()
	deadline := time.After(within)
	for !strings.Contains(s.out.String(), text) {
		select {
		case <-s.done:
			s.t.Fatalf("karbor-protection exited (%v) before logging %q:\n%s", s.exitErr(), text, s.out.String())
		case <-deadline:
			s.t.Fatalf("karbor-protection did not log %q within %s:\n%s", text, within, s.out.String())
		case <-s.out.changed():
		}
	}
}

func (s *service) exitErr() error {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return s.err
}

// stop sends sig and waits for the process to exit; it returns the exit
// error (nil for status 0).
func (s *service) stop(sig syscall.Signal, within time.Duration) error {
	s.t.Helper()
	require.NoError(s.t, s.cmd.Process.Signal(sig))
	select {
	case <-s.done:
	case <-time.After(within):
		s.t.Fatalf("karbor-protection did not exit within %s of %s:\n%s", within, sig, s.out.String())
	}
	return s.exitErr()
}

// restart starts the process again with the same configuration and bank.
func (s *service) restart() {
	s.t.Helper()
	select {
	case <-s.done:
	default:
		s.t.Fatal("restart of a running service")
	}
	s.start()
}

// pid is the running process's id.
func (s *service) pid() int { return s.cmd.Process.Pid }

// indexStatus reads a checkpoint's status straight from the bank's
// index.json, as another instance would see it.
func (s *service) indexStatus(t testing.TB, checkpointID string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(s.bankPath(), "karbor", "checkpoints", checkpointID, "index.json"))
	require.NoError(t, err)
	var cp struct{ Status string }
	require.NoError(t, json.Unmarshal(raw, &cp))
	return cp.Status
}

// indexStatusHead is indexStatus reading only the head of index.json.
func (s *service) indexStatusHead(t testing.TB, checkpointID string) string {
	t.Helper()
	status, err := readStatusHead(filepath.Join(s.bankPath(), "karbor", "checkpoints", checkpointID, "index.json"))
	require.NoError(t, err)
	return status
}

// lineBuffer collects the process's output and tells waiters when it grew.
type lineBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	notify chan struct{}
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notify != nil {
		close(b.notify)
		b.notify = nil
	}
	return b.buf.Write(p)
}

func (b *lineBuffer) changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notify == nil {
		b.notify = make(chan struct{})
	}
	return b.notify
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the output lines containing text.
func (b *lineBuffer) lines(text string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.Contains(sc.Text(), text) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// pyClient is the Python oslo.messaging client of a test, as karbor-api's.
func pyClient(t testing.TB, url string) *rpctest.PyClient {
	t.Helper()
	return rpctest.StartPythonClient(t, rpctest.Spec{URL: url, Exchange: controlExchange, Topic: topic})
}

// call sends one call with the context dict ctx and returns its outcome.
func call(t testing.TB, c *rpctest.PyClient, method string, ctx, args map[string]any) rpctest.PyOutcome {
	t.Helper()
	return c.Do(t, rpctest.PyCall{Method: method, Args: args, Context: ctx, Timeout: 60})
}

// result returns the result of a call that must succeed.
func result(t testing.TB, o rpctest.PyOutcome) json.RawMessage {
	t.Helper()
	if o.Exception != nil {
		t.Fatalf("call failed: %s.%s %q", o.Exception.Module, o.Exception.Class, o.Exception.Str)
	}
	return o.Result
}

// exception returns the exception of a call that must fail, and checks it is
// an instance of class (module.Class).
func exception(t testing.TB, o rpctest.PyOutcome, class string) *rpctest.PyException {
	t.Helper()
	if o.Exception == nil {
		t.Fatalf("call succeeded with %s; want %s", o.Result, class)
	}
	if !o.Exception.IsA(class) {
		t.Fatalf("call failed with %s (%v); want %s", o.Exception.Class, o.Exception.MRO, class)
	}
	return o.Exception
}

// waitFor polls cond until it holds or within passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s", what, within)
		case <-tick.C:
		}
	}
}

var errNoStatus = errors.New("no status")

// readStatusHead reads the status of index.json from its first bytes
// ({"version": …, "id": …, "status": …} is the Python key order), cheap
// enough to poll while a 10,000-resource checkpoint is written.
func readStatusHead(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 160)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", err
	}
	_, rest, ok := bytes.Cut(head[:n], []byte(`"status": "`))
	if !ok {
		return "", errNoStatus
	}
	status, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok {
		return "", errNoStatus
	}
	return string(status), nil
}
