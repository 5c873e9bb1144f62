package main_test

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// progressLine is a plain --wait line fed from /operations; before the
// operation is listed there, its status polled (no count).
var progressLine = regexp.MustCompile(`^(checkpoint|restore) ([0-9a-f-]{36}): ([a-z_]+)(?: \((\d+)/(\d+) done\))?$`)

// TestCtlWaitFollowsOperations: with the service's operator listener named,
// --wait follows the operation in /operations: plain lines without a
// terminal with the phase and the resources done moving up to the total;
// a restore is followed without karbor's database; and a listener that
// does not answer hands over to status polling.
func TestCtlWaitFollowsOperations(t *testing.T) {
	const resources = 2000
	s := newService(t, rpctest.Vhost(t), monitored(""))
	base := s.operatorURL()
	plan := ctlPlanFile(t, t.TempDir(), "77777777-2222-4333-8444-555555555555", resources)

	r := s.ctl(t, ctlEnv(), "protect", plan, "--wait", "--wait-interval", "5ms", "--operations-url", base, "-f", "value", "-c", "id", "-c", "status")
	require.Equal(t, 0, r.code, r.stderr)
	values := strings.Fields(r.stdout)
	require.Len(t, values, 2, r.stdout)
	id := values[0]
	assert.Equal(t, "available", values[1])
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	last := -1
	for _, l := range lines {
		m := progressLine.FindStringSubmatch(l)
		if !assert.NotNil(t, m, "line %q", l) {
			continue
		}
		assert.Equal(t, id, m[2])
		if m[5] == "" {
			assert.Equal(t, "protecting", m[3], "the status polled before the operation is listed")
			continue
		}
		assert.Equal(t, strconv.Itoa(resources), m[5])
		done, _ := strconv.Atoi(m[4])
		assert.GreaterOrEqual(t, done, last, "resources done never go back")
		last = done
	}
	assert.Equal(t, "checkpoint "+id+": available (2000/2000 done)", lines[len(lines)-1])
	assert.NotContains(t, r.stderr, "\x1b")

	t.Run("restore without a database", func(t *testing.T) {
		r := s.ctl(t, ctlEnv("KARBOR_OPERATIONS_URL="+base), "restore", noopID, id, "--wait", "--wait-interval", "5ms", "-f", "value", "-c", "status")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "success\n", r.stdout)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		assert.Regexp(t, `^restore [0-9a-f-]{36}: success \(2000/2000 done\)$`, lines[len(lines)-1])
	})

	t.Run("listener unreachable", func(t *testing.T) {
		small := ctlPlanFile(t, t.TempDir(), "88888888-2222-4333-8444-555555555555", 2)
		r := s.ctl(t, ctlEnv(), "protect", small, "--wait", "--wait-interval", "5ms", "--operations-url", "http://127.0.0.1:1", "-f", "value", "-c", "status")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "available\n", r.stdout)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		assert.Regexp(t, `^http://127\.0\.0\.1:1/operations unreachable \(.*\); polling the status instead$`, lines[0])
		assert.Regexp(t, `^checkpoint [0-9a-f-]{36}: available$`, lines[len(lines)-1])
	})
}

// TestCtlWaitOperationsProgressBar: on a pseudo-terminal the bar fed from
// /operations fills with the resources done and ends at 100%.
func TestCtlWaitOperationsProgressBar(t *testing.T) {
	s := newService(t, rpctest.Vhost(t), monitored(""))
	base := s.operatorURL()
	plan := ctlPlanFile(t, t.TempDir(), "99999999-2222-4333-8444-555555555555", 2000)
	cmd := exec.Command(ctlBinary(t), "--config-file", filepath.Join(s.dir, "karbor.conf"), "protect", plan,
		"--wait", "--wait-interval", "5ms", "-f", "value", "-c", "id")
	cmd.Env = ctlEnv("TERM=dumb", "KARBOR_OPERATIONS_URL="+base)
	tty, err := pty.Start(cmd)
	require.NoError(t, err)
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&out, tty) // ends with EIO once the tool exits
	}()
	require.NoError(t, cmd.Wait())
	<-copied
	_ = tty.Close()
	text := out.String()
	id := uuidRE.FindString(text)
	require.NotEmpty(t, id, text)
	assert.Contains(t, text, "\r\x1b[2K[", "the bar is redrawn in place")
	assert.Regexp(t, `\[#{30}\] 100% checkpoint `+id+`: available \d+s`, text)
	assert.Regexp(t, `\] +\d+% checkpoint `+id+`: (initiating|on_[a-z_]+|completing) `, text, "a bar with the resources done while it runs")
	assert.NotContains(t, text, "done)", "no plain lines on a terminal")
}
