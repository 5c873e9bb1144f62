// Package sdnotify speaks systemd's notify protocol (sd_notify(3)): the
// service manager passes a datagram socket in NOTIFY_SOCKET, and the
// service sends it newline-separated assignments such as READY=1,
// STATUS=…, WATCHDOG=1 and STOPPING=1. With Type=notify systemd counts
// the service started only once READY=1 arrives; with WatchdogSec= it
// restarts the service when WATCHDOG=1 stops arriving within
// WATCHDOG_USEC.
package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The states this service sends.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Status is a STATUS= line: free text systemctl status shows.
func Status(text string) string {
	// One assignment a line: a newline would start another.
	return "STATUS=" + strings.NewReplacer("\n", " ", "\r", " ").Replace(text)
}

// Notifier sends to one notify socket. The zero Notifier (no socket) sends
// nothing, so callers need not know whether systemd runs them.
type Notifier struct {
	addr     string
	watchdog time.Duration
}

// FromEnv reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID with getenv
// (os.Getenv). pid is this process's id: a watchdog meant for another
// process (WATCHDOG_PID set and different) is ignored, as sd_watchdog_enabled
// does. Malformed watchdog values are an error naming them.
func FromEnv(getenv func(string) string, pid int) (*Notifier, error) {
	n := &Notifier{addr: getenv("NOTIFY_SOCKET")}
	usec := getenv("WATCHDOG_USEC")
	if usec == "" {
		return n, nil
	}
	if p := getenv("WATCHDOG_PID"); p != "" {
		wpid, err := strconv.Atoi(p)
		if err != nil {
			return n, fmt.Errorf("sdnotify: WATCHDOG_PID %q is not a process id", p)
		}
		if wpid != pid {
			return n, nil
		}
	}
	us, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || us <= 0 {
		return n, fmt.Errorf("sdnotify: WATCHDOG_USEC %q is not a positive number of microseconds", usec)
	}
	n.watchdog = time.Duration(us) * time.Microsecond
	return n, nil
}

// Enabled reports whether a notify socket was given.
func (n *Notifier) Enabled() bool { return n.addr != "" }

// WatchdogInterval is the watchdog timeout systemd set (0: none).
func (n *Notifier) WatchdogInterval() time.Duration { return n.watchdog }

// Notify sends the states as one datagram. Without a socket it does
// nothing. An address starting with "@" is an abstract socket (Go's net
// package maps the "@" to the leading NUL byte).
func (n *Notifier) Notify(states ...string) error {
	if n.addr == "" || len(states) == 0 {
		return nil
	}
	if n.addr[0] != '/' && n.addr[0] != '@' {
		return fmt.Errorf("sdnotify: NOTIFY_SOCKET %q is neither a path nor an abstract socket", n.addr)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(states, "\n") + "\n")); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// ErrNoWatchdog is RunWatchdog's error when systemd set no watchdog.
var ErrNoWatchdog = errors.New("sdnotify: no watchdog")

// RunWatchdog sends WATCHDOG=1 at half the watchdog interval (systemd's
// advice) until ctx ends; failures go to onError and do not stop it, as the
// next ping may get through.
func (n *Notifier) RunWatchdog(ctx context.Context, onError func(error)) error {
	if n.watchdog <= 0 || n.addr == "" {
		return ErrNoWatchdog
	}
	tick := time.NewTicker(n.watchdog / 2)
	defer tick.Stop()
	for {
		if err := n.Notify(Watchdog); err != nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
