package sdnotify

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listen opens a notify socket as systemd does and returns its address and
// a channel of the datagrams it receives.
func listen(t *testing.T, addr string) <-chan string {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	require.NoError(t, err)
	got := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			got <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { _ = conn.Close(); <-done })
	return got
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func receive(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case s := <-got:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no datagram on the notify socket")
		return ""
	}
}

func TestNotify(t *testing.T) {
	for _, tc := range []struct{ name, addr string }{
		{"path", filepath.Join(t.TempDir(), "notify")},
		{"abstract", "@karbor-sdnotify-test-" + strings.ReplaceAll(t.Name(), "/", "-")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := listen(t, tc.addr)
			n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": tc.addr}), 1)
			require.NoError(t, err)
			assert.True(t, n.Enabled())
			require.NoError(t, n.Notify(Ready, Status("consuming\nfrom broker")))
			assert.Equal(t, "READY=1\nSTATUS=consuming from broker\n", receive(t, got))
			require.NoError(t, n.Notify(Stopping))
			assert.Equal(t, "STOPPING=1\n", receive(t, got))
		})
	}
}

func TestNotifyWithoutSocket(t *testing.T) {
	n, err := FromEnv(env(nil), 1)
	require.NoError(t, err)
	assert.False(t, n.Enabled())
	assert.NoError(t, n.Notify(Ready), "nothing to do")
	assert.ErrorIs(t, n.RunWatchdog(context.Background(), nil), ErrNoWatchdog)
}

func TestNotifyErrors(t *testing.T) {
	n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": "relative/path"}), 1)
	require.NoError(t, err)
	assert.ErrorContains(t, n.Notify(Ready), "neither a path nor an abstract socket")
	n, err = FromEnv(env(map[string]string{"NOTIFY_SOCKET": filepath.Join(t.TempDir(), "nobody")}), 1)
	require.NoError(t, err)
	assert.Error(t, n.Notify(Ready), "no listener")
}

func TestWatchdogEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want time.Duration
		err  string
	}{
		{"none", map[string]string{}, 0, ""},
		{"set", map[string]string{"WATCHDOG_USEC": "30000000"}, 30 * time.Second, ""},
		{"for us", map[string]string{"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "42"}, time.Millisecond, ""},
		{"for another process", map[string]string{"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "7"}, 0, ""},
		{"bad usec", map[string]string{"WATCHDOG_USEC": "soon"}, 0, `WATCHDOG_USEC "soon"`},
		{"zero usec", map[string]string{"WATCHDOG_USEC": "0"}, 0, `WATCHDOG_USEC "0"`},
		{"bad pid", map[string]string{"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "x"}, 0, `WATCHDOG_PID "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := FromEnv(env(tc.env), 42)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, n.WatchdogInterval())
		})
	}
}

func TestRunWatchdog(t *testing.T) {
	addr := filepath.Join(t.TempDir(), "notify")
	got := listen(t, addr)
	n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": addr, "WATCHDOG_USEC": "20000"}), 1)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.RunWatchdog(ctx, func(err error) { t.Error(err) }) }()
	for range 3 {
		assert.Equal(t, "WATCHDOG=1\n", receive(t, got))
	}
	cancel()
	assert.NoError(t, <-done)
}
