package main_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// notifySocket listens where systemd would (NOTIFY_SOCKET) and collects
// what the service sends, one datagram a string.
type notifySocket struct {
	path string
	got  chan string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	// A short path: sun_path holds 108 bytes and t.TempDir() can be long.
	dir, err := os.MkdirTemp("", "sd")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s := &notifySocket{path: filepath.Join(dir, "n"), got: make(chan string, 256)}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			s.got <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-done })
	return s
}

// next waits for the next datagram containing state, returning the ones
// skipped on the way.
func (s *notifySocket) next(t *testing.T, state string) []string {
	t.Helper()
	var skipped []string
	deadline := time.After(30 * time.Second)
	for {
		select {
		case d := <-s.got:
			if strings.Contains(d, state) {
				return skipped
			}
			skipped = append(skipped, d)
		case <-deadline:
			t.Fatalf("no %s on the notify socket; got %q", state, skipped)
		}
	}
}

// TestSystemdNotify: with NOTIFY_SOCKET set the service says READY=1 only
// once it consumes, feeds the watchdog, and says STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	url := rpctest.Vhost(t)
	sock := newNotifySocket(t)
	s := newService(t, url, serviceConfig{env: []string{"NOTIFY_SOCKET=" + sock.path, "WATCHDOG_USEC=200000"}})
	// newService returned once the service logged "RPC server consuming";
	// READY=1 comes after that and before any WATCHDOG=1.
	skipped := sock.next(t, "READY=1")
	assert.Empty(t, skipped, "nothing before READY=1")
	sock.next(t, "WATCHDOG=1")
	sock.next(t, "WATCHDOG=1")
	require.NoError(t, s.stop(syscall.SIGTERM, 60*time.Second))
	skipped = sock.next(t, "STOPPING=1")
	for _, d := range skipped {
		assert.Equal(t, "WATCHDOG=1\n", d)
	}
}

// TestSystemdNotifyBeforeConsuming: a service that cannot reach its broker
// never says READY=1, so systemd does not count it started.
func TestSystemdNotifyBeforeConsuming(t *testing.T) {
	sock := newNotifySocket(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "karbor.conf")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "providers.d"), 0o755))
	// Port 1 refuses connections: the server retries for ever.
	require.NoError(t, os.WriteFile(conf, []byte("[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:1/\nprovider_config_dir = "+
		filepath.Join(dir, "providers.d")+"\nhost = e2e-host\n"), 0o644))
	cmd := exec.Command(binary(t), "--config-file", conf)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock.path)
	out := &lineBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	waitFor(t, 30*time.Second, "a failed connection attempt logged", func() bool {
		return strings.Contains(out.String(), "127.0.0.1:1")
	})
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-waited:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("did not stop:\n%s", out.String())
	}
	skipped := sock.next(t, "STOPPING=1")
	for _, d := range skipped {
		assert.NotContains(t, d, "READY=1", "never ready without a broker")
	}
}

// TestSystemdUnitVerifies checks etc/systemd/karbor-protection.service with
// systemd-analyze verify, pointed at the built binary (verify checks that
// ExecStart is executable). verify exits 0 on unknown keys or bad values,
// only warning, so any line naming the unit fails the test too.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if rpctest.InCI() {
			t.Fatal("systemd-analyze is missing (apt-get install systemd)")
		}
		t.Skip("systemd-analyze is missing")
	}
	unit, err := os.ReadFile(filepath.Join("..", "..", "etc", "systemd", "karbor-protection.service"))
	require.NoError(t, err)
	text := string(unit)
	for _, want := range []string{"Type=notify", "WatchdogSec=", "NoNewPrivileges=yes", "ProtectSystem=strict", "ExecStart=/usr/bin/karbor-protection "} {
		assert.Contains(t, text, want)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "karbor-protection.service")
	text = strings.Replace(text, "ExecStart=/usr/bin/karbor-protection ", "ExecStart="+binary(t)+" ", 1)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	check := func(path string) (string, error) {
		out, err := exec.Command(analyze, "verify", path).CombinedOutput()
		var ours []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, filepath.Base(path)) {
				ours = append(ours, line)
			}
		}
		return strings.Join(ours, "\n"), err
	}
	complaints, err := check(path)
	require.NoError(t, err, complaints)
	assert.Empty(t, complaints)

	// The check can fail: a typo in a key is reported.
	bad := filepath.Join(dir, "karbor-protection-typo.service")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(text, "NoNewPrivileges=", "NoNewPrivilege=", 1)), 0o644))
	complaints, _ = check(bad)
	assert.Contains(t, complaints, "NoNewPrivilege")
}
