package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// karbor-protection-ctl is tested end to end: the built tool against the
// built service on a vhost of the real broker.

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ctl")

var (
	ctlOnce sync.Once
	ctlPath string
	ctlErr  error
)

// ctlBinary builds karbor-protection-ctl once, next to the service.
func ctlBinary(tb testing.TB) string {
	tb.Helper()
	service := binary(tb)
	ctlOnce.Do(func() {
		ctlPath = filepath.Join(filepath.Dir(service), "karbor-protection-ctl")
		args := []string{"build", "-o", ctlPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "../karbor-protection-ctl")...).CombinedOutput()
		if err != nil {
			ctlErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(tb, ctlErr)
	return ctlPath
}

const (
	ctlUser    = "a1b2c3d4-e5f6-4789-8abc-0123456789ab"
	ctlProject = projectA
)

// ctlResult is one run of the tool.
type ctlResult struct {
	stdout, stderr string
	code           int
}

// ctlEnv is a clean environment: the caller as a member of projectA, and
// no OS_* variable of the machine running the tests.
func ctlEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "OS_USER_ID=" + ctlUser, "OS_PROJECT_ID=" + ctlProject}, extra...)
}

// ctl runs the tool against the service s with args.
func (s *service) ctl(t *testing.T, env []string, args ...string) ctlResult {
	t.Helper()
	cmd := exec.Command(ctlBinary(t), append([]string{"--config-file", filepath.Join(s.dir, "karbor.conf")}, args...)...)
	cmd.Env = env
	cmd.Dir = s.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return ctlResult{stdout.String(), stderr.String(), code}
}

// ok runs the tool and requires exit status 0.
func (s *service) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := s.ctl(t, ctlEnv(), args...)
	require.Equal(t, 0, r.code, "%v: stderr %s", args, r.stderr)
	return r.stdout
}

// goldenFile compares got with testdata/ctl/<name>, rewritten with -update.
func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "ctl", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run %s -update to create it", t.Name())
	assert.Equal(t, string(want), got)
}

// ctlPlanFile writes a plan as the API shows it, of n resources.
func ctlPlanFile(t *testing.T, dir, id string, n int) string {
	t.Helper()
	var res []string
	for i := 0; i < n; i++ {
		res = append(res, fmt.Sprintf(`{"id": "00000000-0000-4000-8000-%012d", "type": %q, "name": "res-%d", "extra_info": null}`,
			i, []string{"OS::Cinder::Volume", "OS::Nova::Server"}[i%2], i))
	}
	path := filepath.Join(dir, "plan-"+id[:8]+".json")
	text := fmt.Sprintf(`{"id": %q, "name": "plan-%s", "description": null, "provider_id": %q, "project_id": %q, "status": "suspended",
 "resources": [%s], "parameters": {}}`, id, id[:8], noopID, ctlProject, strings.Join(res, ",\n  "))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// normalize replaces what changes from run to run (the ids named, today's
// date) with placeholders of the same length, keeping tables aligned.
func normalize(out string, names map[string]string) string {
	for id, name := range names {
		out = strings.ReplaceAll(out, id, name)
	}
	today := time.Now().UTC().Format("2006-01-02")
	return strings.ReplaceAll(out, today, "YYYY-MM-DD")
}

func TestCtlGoldenOutput(t *testing.T) {
	s := newService(t, rpctest.Vhost(t), serviceConfig{})
	const planID = "632d8f7d-e2c3-4f31-82ea-900d8afb9880"
	plan := ctlPlanFile(t, t.TempDir(), planID, 2)
	id := strings.TrimSpace(s.ok(t, "protect", plan, "--wait", "--wait-interval", "20ms", "-f", "value", "-c", "id"))
	require.Regexp(t, uuidRE, id)
	names := map[string]string{id: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"provider-list.table", []string{"provider", "list"}},
		{"provider-list.json", []string{"provider", "list", "-f", "json"}},
		{"provider-list.yaml", []string{"provider", "list", "-f", "yaml"}},
		{"provider-list.value", []string{"provider", "list", "-f", "value", "-c", "Id", "-c", "Name"}},
		{"provider-show.json", []string{"provider", "show", noopID, "--format=json"}},
		{"protectable-list.table", []string{"protectable", "list"}},
		{"protectable-show.table", []string{"protectable", "show", "OS::Nova::Server"}},
		{"protectable-show.yaml", []string{"protectable", "show", "OS::Nova::Server", "-f", "yaml"}},
		{"checkpoint-list.table", []string{"checkpoint", "list", noopID}},
		{"checkpoint-list.json", []string{"checkpoint", "list", noopID, "-f", "json"}},
		{"checkpoint-list-filtered.table", []string{"checkpoint", "list", noopID, "--plan-id", unknown}},
		{"checkpoint-show.table", []string{"checkpoint", "show", noopID, id}},
		{"checkpoint-show.json", []string{"-f", "json", "checkpoint", "show", noopID, id}},
		{"checkpoint-show.yaml", []string{"checkpoint", "show", noopID, id, "-f", "yaml", "-c", "status", "-c", "protection_plan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goldenFile(t, tc.name, normalize(s.ok(t, tc.args...), names))
		})
	}
}

// TestCtlPaging: --limit and --marker page through checkpoints, newest
// first, as karbor-api pages.
func TestCtlPaging(t *testing.T) {
	s := newService(t, rpctest.Vhost(t), serviceConfig{})
	plan := ctlPlanFile(t, t.TempDir(), "11111111-2222-4333-8444-555555555555", 1)
	var ids []string
	for range 3 {
		ids = append(ids, strings.TrimSpace(s.ok(t, "protect", plan, "--wait", "--wait-interval", "20ms", "-f", "value", "-c", "id")))
	}
	// Checkpoints made within one second are ordered by id: compare the
	// pages with the whole listing.
	all := strings.Fields(s.ok(t, "checkpoint", "list", noopID, "-f", "value", "-c", "Id"))
	require.ElementsMatch(t, ids, all)
	page1 := strings.Fields(s.ok(t, "checkpoint", "list", noopID, "--limit", "2", "-f", "value", "-c", "Id"))
	assert.Equal(t, all[:2], page1)
	page2 := strings.Fields(s.ok(t, "checkpoint", "list", noopID, "--limit", "2", "--marker", page1[1], "-f", "value", "-c", "Id"))
	assert.Equal(t, all[2:], page2)
	asc := strings.Fields(s.ok(t, "checkpoint", "list", noopID, "--sort-dir", "asc", "-f", "value", "-c", "Id"))
	assert.Equal(t, []string{all[2], all[1], all[0]}, asc)
}

// TestCtlOperations: delete, reset-state, restore, verify and copy, with
// and without --wait, and what each leaves behind.
func TestCtlOperations(t *testing.T) {
	s := newService(t, rpctest.Vhost(t), serviceConfig{})
	plan := ctlPlanFile(t, t.TempDir(), "22222222-2222-4333-8444-555555555555", 2)
	id := strings.TrimSpace(s.ok(t, "protect", plan, "--wait", "--wait-interval", "20ms", "-f", "value", "-c", "id"))

	out := s.ok(t, "restore", noopID, id, "-f", "json")
	assert.Contains(t, out, `"checkpoint_id": "`+id+`"`)
	assert.Contains(t, out, `"status": "started"`)
	out = s.ok(t, "verify", noopID, id, "-f", "value", "-c", "checkpoint_id")
	assert.Equal(t, id+"\n", out)

	r := s.ctl(t, ctlEnv(), "copy", plan, "--wait", "--wait-interval", "20ms", "-f", "value")
	require.Equal(t, 0, r.code, r.stderr)
	fields := strings.Fields(r.stdout)
	require.Len(t, fields, 2, r.stdout)
	assert.Equal(t, id, fields[0])
	assert.Equal(t, "available", s.indexStatus(t, fields[1]), "the copy finished before --wait returned")
	assert.Contains(t, r.stderr, "checkpoint "+fields[1]+": available")

	s.ok(t, "checkpoint", "reset-state", noopID, id, "--state", "error")
	assert.Equal(t, "error", s.indexStatus(t, id))
	r = s.ctl(t, ctlEnv(), "checkpoint", "delete", noopID, id, "--wait", "--wait-interval", "20ms")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	assert.True(t, strings.HasSuffix(r.stderr, "checkpoint "+id+": deleted\n"), r.stderr)
	r = s.ctl(t, ctlEnv(), "checkpoint", "show", noopID, id, "-f", "value", "-c", "status")
	if r.code == 0 {
		assert.Equal(t, "deleted\n", r.stdout)
	} else {
		assert.Contains(t, r.stderr, "CheckpointNotFound")
	}
	assert.Equal(t, []string{fields[1]}, strings.Fields(s.ok(t, "checkpoint", "list", noopID, "-f", "value", "-c", "Id", "--plan-id", "22222222-2222-4333-8444-555555555555")),
		"the copy is left")
}

// TestCtlRestoreAndVerifyWait: with karbor's database configured the tool
// creates the restores and verifications rows as karbor-api does, and
// --wait follows them (status and resources done) until the service
// records success; a refused call leaves its row fail, as the API does.
func TestCtlRestoreAndVerifyWait(t *testing.T) {
	m := sharedMariaDB(t)
	name, pool := m.createDatabase(t)
	s := newService(t, rpctest.Vhost(t), serviceConfig{sections: "[database]\nconnection = " + m.url(name) + "\n"})
	plan := ctlPlanFile(t, t.TempDir(), "66666666-2222-4333-8444-555555555555", 2)
	cp := strings.TrimSpace(s.ok(t, "protect", plan, "--wait", "--wait-interval", "20ms", "-f", "value", "-c", "id"))

	for _, tc := range []struct{ command, table string }{{"restore", "restores"}, {"verify", "verifications"}} {
		t.Run(tc.command, func(t *testing.T) {
			r := s.ctl(t, ctlEnv(), tc.command, noopID, cp, "--wait", "--wait-interval", "20ms", "-f", "json")
			require.Equal(t, 0, r.code, r.stderr)
			var out map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
			assert.Equal(t, "success", out["status"])
			id := out["id"].(string)
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			method := map[string]string{"restore": "restore", "verify": "verification"}[tc.command]
			assert.Equal(t, method+" "+id+": success (2/2 done)", lines[len(lines)-1])
			rows := tableRows(t, pool, tc.table, "id = ?", id)
			require.Len(t, rows, 1)
			assert.Equal(t, "success", rows[0]["status"])
			assert.Equal(t, ctlProject, rows[0]["project_id"])
			assert.Equal(t, cp, rows[0]["checkpoint_id"])
		})
	}

	r := s.ctl(t, ctlEnv(), "restore", noopID, unknown, "-f", "value", "-c", "id")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "CheckpointNotFound")
	rows := tableRows(t, pool, "restores", "checkpoint_id = ?", unknown)
	require.Len(t, rows, 1, "the row was created before the call")
	assert.Equal(t, "fail", rows[0]["status"], "and failed after it, as karbor-api does")
}

// TestCtlWaitPlainLines: without a terminal --wait writes one plain line
// per status, no control characters.
func TestCtlWaitPlainLines(t *testing.T) {
	s := newService(t, rpctest.Vhost(t), serviceConfig{})
	plan := ctlPlanFile(t, t.TempDir(), "33333333-2222-4333-8444-555555555555", 400)
	r := s.ctl(t, ctlEnv(), "protect", plan, "--wait", "--wait-interval", "10ms", "-f", "value", "-c", "id", "-c", "status")
	require.Equal(t, 0, r.code, r.stderr)
	values := strings.Fields(r.stdout) // -f value: a field a line
	require.Len(t, values, 2, r.stdout)
	id := values[0]
	assert.Equal(t, "available", values[1])
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	want := regexp.MustCompile(`^checkpoint ` + id + `: (protecting|available)$`)
	for _, l := range lines {
		assert.Regexp(t, want, l)
	}
	assert.Equal(t, "checkpoint "+id+": available", lines[len(lines)-1])
	assert.NotContains(t, r.stderr, "\r")
	assert.NotContains(t, r.stderr, "\x1b")
}

// TestCtlWaitProgressBar: on a terminal --wait draws a bar redrawn in
// place and ends it at 100%. The terminal is a pseudo-terminal
// (github.com/creack/pty: the standard library opens none).
func TestCtlWaitProgressBar(t *testing.T) {
	s := newService(t, rpctest.Vhost(t), serviceConfig{})
	plan := ctlPlanFile(t, t.TempDir(), "44444444-2222-4333-8444-555555555555", 400)
	cmd := exec.Command(ctlBinary(t), "--config-file", filepath.Join(s.dir, "karbor.conf"), "protect", plan, "--wait", "--wait-interval", "10ms", "-f", "value", "-c", "id")
	cmd.Env = ctlEnv("TERM=dumb")
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
	assert.NotContains(t, text, "checkpoint "+id+": protecting\r\n", "no plain lines on a terminal")
}

// TestCtlExitStatus: what the operator gets wrong, what the service
// refuses and an unreachable broker each have their status and message.
func TestCtlExitStatus(t *testing.T) {
	s := newService(t, rpctest.Vhost(t), serviceConfig{})
	dir := t.TempDir()
	badPlan := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(badPlan, []byte(`{"id": "p", "name": "n", "provider_id": "x", "resources": [{"type": "OS::Nova::Server"}]}`), 0o644))
	notJSON := filepath.Join(dir, "not.json")
	require.NoError(t, os.WriteFile(notJSON, []byte(`[1, 2`), 0o644))
	unknownProvider := filepath.Join(dir, "unknown.json")
	require.NoError(t, os.WriteFile(unknownProvider, []byte(`{"id": "p", "name": "n", "provider_id": "`+unknown+`", "resources": []}`), 0o644))
	for _, tc := range []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string
	}{
		{"no command", ctlEnv(), nil, 2, "a command is required"},
		{"unknown command", ctlEnv(), []string{"checkpoint", "frobnicate"}, 2, `unknown command "checkpoint frobnicate"`},
		{"missing argument", ctlEnv(), []string{"checkpoint", "show", noopID}, 2, "checkpoint show takes PROVIDER_ID CHECKPOINT_ID"},
		{"unknown flag", ctlEnv(), []string{"provider", "list", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"bad format", ctlEnv(), []string{"provider", "list", "-f", "xml"}, 2, `unknown output format "xml"`},
		{"unknown column", ctlEnv(), []string{"provider", "list", "-c", "Bogus"}, 2, `no column "Bogus"`},
		{"nobody", []string{"PATH=" + os.Getenv("PATH")}, []string{"provider", "list"}, 2, "--os-user-id (OS_USER_ID) and --os-project-id (OS_PROJECT_ID)"},
		{"plan file missing", ctlEnv(), []string{"protect", filepath.Join(dir, "nope.json")}, 2, "no such file"},
		{"plan not JSON", ctlEnv(), []string{"protect", notJSON}, 2, "not.json"},
		{"plan resource without id", ctlEnv(), []string{"protect", badPlan}, 2, `"id" is missing`},
		{"bad sort dir", ctlEnv(), []string{"checkpoint", "list", noopID, "--sort-dir", "up"}, 2, "--sort-dir is asc or desc"},
		{"restore --wait without a database", ctlEnv(), []string{"restore", noopID, unknown, "--wait"}, 2, "--wait follows the restore in the service's /operations (--operations-url) or its row in karbor's database"},
		{"bad parameters", ctlEnv(), []string{"restore", noopID, unknown, "--parameters", "[1]"}, 2, "--parameters is not a JSON object"},
		{"unknown provider", ctlEnv(), []string{"provider", "show", unknown}, 1, "ProviderNotFound: Provider " + unknown + " could not be found."},
		{"unknown checkpoint", ctlEnv(), []string{"checkpoint", "show", noopID, unknown}, 1, "CheckpointNotFound: Checkpoint " + unknown + " could not be found."},
		{"protect on unknown provider", ctlEnv(), []string{"protect", unknownProvider}, 1, "ProviderNotFound"},
		{"restore of unknown checkpoint", ctlEnv(), []string{"restore", noopID, unknown}, 1, "CheckpointNotFound"},
		{"unreachable broker", ctlEnv(), []string{"--transport-url", "rabbit://guest:guest@127.0.0.1:1/", "--timeout", "1s", "provider", "list"}, 3, "cannot reach the broker"},
		{"bad transport URL", ctlEnv(), []string{"--transport-url", "amqp://h/", "provider", "list"}, 2, "AMQP 1.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.ctl(t, tc.env, tc.args...)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, tc.stderr)
			if tc.code == 2 {
				assert.Contains(t, r.stderr, "(see --help)")
			}
		})
	}
}

func TestCtlHelpAndVersion(t *testing.T) {
	s := &service{t: t, dir: t.TempDir()}
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		r := s.ctl(t, ctlEnv(), args...)
		assert.Equal(t, 0, r.code)
		assert.Contains(t, r.stdout, "usage: karbor-protection-ctl")
		assert.Contains(t, r.stdout, "checkpoint list PROVIDER_ID")
		assert.Contains(t, r.stdout, "Exit status:")
	}
	for _, args := range [][]string{{"help", "checkpoint", "list"}, {"checkpoint", "list", "--help"}, {"checkpoint", "list", "-h"}} {
		r := s.ctl(t, ctlEnv(), args...)
		assert.Equal(t, 0, r.code)
		assert.Contains(t, r.stdout, "usage: karbor-protection-ctl checkpoint list PROVIDER_ID [OPTIONS]")
		assert.Contains(t, r.stdout, "-marker")
		assert.Contains(t, r.stdout, "-os-project-id")
	}
	r := s.ctl(t, ctlEnv(), "--version")
	assert.Equal(t, 0, r.code)
	assert.Regexp(t, `^karbor-protection-ctl \S+\n$`, r.stdout)
}

// TestCtlFlowDOT: flow writes the graph an operation would run on a small
// plan, for each operation, without a service and without a bank.
func TestCtlFlowDOT(t *testing.T) {
	s := &service{t: t, url: "rabbit://guest:guest@127.0.0.1:1/", dir: t.TempDir()}
	s.writeConfig()
	plan := ctlPlanFile(t, t.TempDir(), "55555555-2222-4333-8444-555555555555", 2)
	for _, op := range []string{"protect", "restore", "verify", "delete", "copy"} {
		t.Run(op, func(t *testing.T) {
			r := s.ctl(t, ctlEnv(), "flow", plan, "--operation", op, "--checkpoint-id", "cp-1", "--copy-id", "cp-2")
			require.Equal(t, 0, r.code, r.stderr)
			goldenFile(t, "flow-"+op+".dot", r.stdout)
		})
	}
	_, err := os.Stat(s.bankPath())
	assert.True(t, errors.Is(err, os.ErrNotExist), "no bank was opened")

	dir := t.TempDir()
	dot, svg := filepath.Join(dir, "f.dot"), filepath.Join(dir, "f.svg")
	if _, err := exec.LookPath("dot"); err == nil {
		r := s.ctl(t, ctlEnv(), "flow", plan, "--dot", dot, "--svg", svg)
		require.Equal(t, 0, r.code, r.stderr)
		drawn, err := os.ReadFile(svg)
		require.NoError(t, err)
		assert.Contains(t, string(drawn), "<svg")
		assert.Contains(t, string(drawn), "InitiateProtectTask")
	}
	// Without Graphviz the DOT is still written, and the drawing fails.
	require.NoError(t, os.Remove(dot))
	r := s.ctl(t, []string{"PATH=" + dir, "OS_USER_ID=u", "OS_PROJECT_ID=p"}, "flow", plan, "--dot", dot, "--png", filepath.Join(dir, "f.png"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no Graphviz (dot) on the PATH")
	written, err := os.ReadFile(dot)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(written), `digraph "Protect_55555555-2222-4333-8444-555555555555" {`), string(written))

	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"flow", plan, "--operation", "backup"}, 2, `--operation is protect, restore, verify, delete or copy, not "backup"`},
		{[]string{"flow", filepath.Join(dir, "none.json")}, 2, "no such file"},
	} {
		r := s.ctl(t, ctlEnv(), tc.args...)
		assert.Equal(t, tc.code, r.code, r.stderr)
		assert.Contains(t, r.stderr, tc.stderr)
	}
	other := filepath.Join(dir, "other.json")
	require.NoError(t, os.WriteFile(other, []byte(`{"id": "p", "name": "n", "provider_id": "`+unknown+`", "resources": []}`), 0o644))
	r = s.ctl(t, ctlEnv(), "flow", other)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "Provider "+unknown+" could not be found")
}
