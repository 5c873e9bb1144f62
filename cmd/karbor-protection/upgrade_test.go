package main_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// pythonService is testdata/python_protection.py: a process that writes the
// bank and the database exactly as the Python karbor-protection does (no
// bank lease, its services heartbeat, its operation logs), with protects
// that last until the test finishes them.
type pythonService struct {
	t       testing.TB
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string
	created []string
	stderr  *lineBuffer
	done    chan struct{}
}

// pythonServiceConfig is what the stand-in is told.
type pythonServiceConfig struct {
	bankPath       string
	db             mariaDB
	database       string
	host           string
	reportInterval int
	checkpoints    int
	planID         string
}

func startPythonService(t testing.TB, c pythonServiceConfig) *pythonService {
	t.Helper()
	host, portText, _ := strings.Cut(c.db.addr, ":")
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	resources := []map[string]any{
		{"id": "00000000-0000-4000-8000-000000000000", "type": "OS::Cinder::Volume", "name": "res-0", "extra_info": nil},
		{"id": "00000000-0000-4000-8000-000000000001", "type": "OS::Nova::Server", "name": "res-1", "extra_info": nil},
	}
	conf, err := json.Marshal(map[string]any{
		"database":        map[string]any{"host": host, "port": port, "user": c.db.user, "password": c.db.password, "database": c.database},
		"host":            c.host,
		"report_interval": c.reportInterval,
		"bank_path":       c.bankPath,
		"checkpoints":     c.checkpoints,
		"plan": map[string]any{"id": c.planID, "name": "plan-" + c.planID[:8], "provider_id": noopID,
			"project_id": projectA, "resources": resources},
	})
	require.NoError(t, err)
	confPath := filepath.Join(t.TempDir(), "python-protection.json")
	require.NoError(t, os.WriteFile(confPath, conf, 0o644))
	script, err := filepath.Abs(filepath.Join("testdata", "python_protection.py"))
	require.NoError(t, err)

	p := &pythonService{t: t, lines: make(chan string, 64), stderr: &lineBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(rpctest.PythonPath(), script, confPath)
	p.cmd.Stderr = p.stderr
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	if err := p.cmd.Start(); err != nil {
		rpctest.Unavailable(t, "%s: %v", rpctest.PythonPath(), err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		_ = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("python_protection.py stderr:\n%s", p.stderr.String())
		}
	})
	for {
		line := p.next()
		if line == "ready" {
			break
		}
		id, ok := strings.CutPrefix(line, "created ")
		require.True(t, ok, "unexpected line %q", line)
		p.created = append(p.created, id)
	}
	return p
}

func (p *pythonService) next() string {
	p.t.Helper()
	select {
	case line := <-p.lines:
		return line
	case <-p.done:
		p.t.Fatalf("python_protection.py exited:\n%s", p.stderr.String())
	case <-time.After(60 * time.Second):
		p.t.Fatalf("python_protection.py said nothing for 60 s:\n%s", p.stderr.String())
	}
	return ""
}

// finish lets the Python instance complete the protect of id.
func (p *pythonService) finish(id string) {
	p.t.Helper()
	_, err := io.WriteString(p.stdin, "finish "+id+"\n")
	require.NoError(p.t, err)
	require.Equal(p.t, "finished "+id, p.next())
}

// kill kills the process (a crash, or a host that went away).
func (p *pythonService) kill() {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
}

// statusWatch polls index.json of checkpoints and records every status it
// reads, until stopped.
type statusWatch struct {
	mu   sync.Mutex
	seen map[string]map[string]bool // checkpoint → statuses read
	stop chan struct{}
	done chan struct{}
}

func watchStatuses(s *service, ids []string) *statusWatch {
	w := &statusWatch{seen: map[string]map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			for _, id := range ids {
				// The Python instance rewrites index.json in place, so a
				// read may catch it half-written: such reads are skipped.
				if st, err := readStatusHead(filepath.Join(s.bankPath(), "karbor", "checkpoints", id, "index.json")); err == nil {
					w.mu.Lock()
					if w.seen[id] == nil {
						w.seen[id] = map[string]bool{}
					}
					w.seen[id][st] = true
					w.mu.Unlock()
				}
			}
			select {
			case <-w.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *statusWatch) finish() map[string]map[string]bool {
	close(w.stop)
	<-w.done
	return w.seen
}

// TestRollingUpgradeNextToPython is the rolling upgrade: a Python
// karbor-protection (the stand-in) is protecting checkpoints on the bank and
// database the Go instance starts on. While the Python instance reports its
// heartbeat, the Go instance's recovery (at start and every second) leaves
// its checkpoints alone, refuses to delete them, and those the Python
// instance finishes end available and listed (no ghost). Once the Python
// instance is killed and its services row goes stale (service_down_time
// 3 s), the Go instance fails what it left protecting, closes its operation
// logs, and lets the operator delete them.
func TestRollingUpgradeNextToPython(t *testing.T) {
	t.Parallel()
	m := sharedMariaDB(t)
	name, pool := m.createDatabase(t)
	url := rpctest.Vhost(t)
	s := configureService(t, url, serviceConfig{
		extraDefault: "periodic_interval = 1\nreport_interval = 1\nservice_down_time = 3",
		sections:     "[database]\nconnection = " + m.url(name) + "\n",
		args:         []string{"--debug"},
	})
	py := startPythonService(t, pythonServiceConfig{bankPath: s.bankPath(), db: m, database: name, host: "python-host",
		reportInterval: 1, checkpoints: 6, planID: "9a9a9a9a-2222-4333-8444-555555555555"})
	ids := py.created
	require.Len(t, ids, 6)
	watch := watchStatuses(s, ids)

	s.start()
	c := pyClient(t, url)
	ctx := requestContext(t, projectA, false)
	passes := func() int { return len(s.out.lines("Recovery pass done")) }
	waitFor(t, 60*time.Second, "three recovery passes", func() bool { return passes() >= 3 })
	assert.Contains(t, s.out.lines("Recovery pass done")[0], "owner_alive=6", "the start's pass saw the live Python instance's checkpoints")

	for _, id := range ids[:3] {
		py.finish(id)
	}
	for _, id := range ids[:3] {
		assert.Equal(t, "available", showStatus(t, c, ctx, id), "the Python instance finished it")
	}
	assert.ElementsMatch(t, ids, listIDs(t, c, ctx, nil), "every checkpoint is listed, none a ghost")
	exception(t, call(t, c, "delete", ctx, map[string]any{"provider_id": noopID, "checkpoint_id": ids[3]}),
		"karbor.exception.CheckpointNotBeDeleted")
	n := passes()
	waitFor(t, 60*time.Second, "two more recovery passes", func() bool { return passes() >= n+2 })

	for id, statuses := range watch.finish() {
		assert.NotContains(t, statuses, "error", "checkpoint %s was seen error while its owner lived", id)
	}
	assert.Empty(t, s.out.lines("marked failed"))

	py.kill()
	killed := time.Now()
	waitFor(t, 60*time.Second, "recovery of the dead Python instance's checkpoints", func() bool {
		for _, id := range ids[3:] {
			if s.indexStatusHead(t, id) != "error" {
				return false
			}
		}
		return true
	})
	// Its last heartbeat was at most a report_interval before the kill,
	// and MySQL keeps whole seconds: not before 1 s after the kill.
	assert.GreaterOrEqual(t, time.Since(killed), time.Second, "recovered before the evidence could say the owner was dead")
	// Each checkpoint's line is logged just after its status is written.
	waitFor(t, 10*time.Second, "the recovery's log lines", func() bool { return len(s.out.lines("marked failed")) >= 3 })
	failed := s.out.lines("marked failed")
	require.Len(t, failed, 3)
	for _, l := range failed {
		assert.Contains(t, l, "down: python-host", "the log says why")
	}
	for _, id := range ids[:3] {
		assert.Equal(t, "available", s.indexStatus(t, id))
	}

	// The Python instance's operation logs: finished ones as it closed
	// them, the others closed by the recovery.
	for i, id := range ids {
		want := map[bool]string{true: "available", false: "error"}[i < 3]
		row := oneRow(t, pool, "operation log of "+id, "operation_logs", "checkpoint_id = ?",
			func(r map[string]any) bool { return r["status"] == want && r["ended_at"] != nil }, id)
		assert.Equal(t, "protect", row["operation_type"])
	}
	assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", ctx, map[string]any{"provider_id": noopID, "checkpoint_id": ids[3]}))))
	waitStatus(t, c, ctx, ids[3], "deleted")
}

// TestUnleasedCheckpointsWithoutEvidence: a Go instance without a database
// cannot tell whether the Python instance that left checkpoints protecting
// is alive. It leaves them alone, says so at every pass, and refuses to
// delete them; the operator who knows the Python instances are gone sets
// recover_unleased_checkpoints, and the restarted instance fails them.
func TestUnleasedCheckpointsWithoutEvidence(t *testing.T) {
	t.Parallel()
	m := sharedMariaDB(t)
	name, _ := m.createDatabase(t)
	url := rpctest.Vhost(t)
	s := configureService(t, url, serviceConfig{extraDefault: "periodic_interval = 1", args: []string{"--debug"}})
	py := startPythonService(t, pythonServiceConfig{bankPath: s.bankPath(), db: m, database: name, host: "python-host",
		reportInterval: 1, checkpoints: 2, planID: "8b8b8b8b-2222-4333-8444-555555555555"})
	py.kill()
	ids := py.created

	s.start()
	s.waitLog("No [database] connection: checkpoints in progress whose owner holds no bank lease", 10*time.Second)
	waitFor(t, 60*time.Second, "two warnings", func() bool { return len(s.out.lines("whose owner holds no lease were left alone")) >= 2 })
	warning := s.out.lines("whose owner holds no lease were left alone")[0]
	assert.Contains(t, warning, " WARNING ")
	for _, id := range ids {
		assert.Contains(t, warning, id)
		assert.Equal(t, "protecting", s.indexStatus(t, id))
	}
	c := pyClient(t, url)
	ctx := requestContext(t, projectA, false)
	exception(t, call(t, c, "delete", ctx, map[string]any{"provider_id": noopID, "checkpoint_id": ids[0]}),
		"karbor.exception.CheckpointNotBeDeleted")

	require.NoError(t, s.stop(syscall.SIGTERM, 60*time.Second))
	s.conf.extraDefault += "\nrecover_unleased_checkpoints = true"
	s.writeConfig()
	s.restart()
	for _, id := range ids {
		assert.Equal(t, "error", s.indexStatus(t, id), "failed before the instance serves")
	}
	assert.Len(t, s.out.lines("marked failed"), 2)
	assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", ctx, map[string]any{"provider_id": noopID, "checkpoint_id": ids[0]}))))
}
