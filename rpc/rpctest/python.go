package rpctest

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

//go:embed python
var pythonFiles embed.FS

// startupTimeout bounds a Python driver's start (importing oslo.messaging
// takes about a second).
const startupTimeout = 60 * time.Second

// PythonPath is the interpreter with oslo.messaging: KARBOR_TEST_PYTHON, by
// default /usr/bin/python3 (never the python3 on PATH).
func PythonPath() string { return EnvOr("KARBOR_TEST_PYTHON", "/usr/bin/python3") }

var (
	pythonOnce sync.Once
	pythonErr  error
	pythonOut  []byte
)

func requirePython(t testing.TB) {
	t.Helper()
	pythonOnce.Do(func() {
		pythonOut, pythonErr = exec.Command(PythonPath(), "-c", "import oslo_messaging").CombinedOutput()
	})
	if pythonErr != nil {
		Unavailable(t, "%s cannot import oslo_messaging: %v: %s", PythonPath(), pythonErr, pythonOut)
	}
}

// Spec configures a Python driver process.
type Spec struct {
	URL      string `json:"url"`      // oslo transport URL (from Vhost)
	Exchange string `json:"exchange"` // Target(exchange=...)
	Topic    string `json:"topic"`
	Server   string `json:"server,omitempty"` // server mode: Target.server
	// AllowedRemoteExmods defaults to ["karbor.exception"], as karbor's
	// clients; the stand-in karbor.exception module is on the path.
	AllowedRemoteExmods []string `json:"allowed_remote_exmods"`
	// ResponseTimeout is [DEFAULT] rpc_response_timeout in seconds (0: 60).
	ResponseTimeout float64 `json:"rpc_response_timeout,omitempty"`
}

// process is one running oslo_driver.py.
type process struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *syncBuffer
	onLine func(json.RawMessage) // every stdout line after the ready line
	done   chan struct{}         // stdout reader finished
	inMu   sync.Mutex
}

func startDriver(t testing.TB, mode string, spec Spec, onLine func(json.RawMessage)) *process {
	t.Helper()
	requirePython(t)
	if spec.AllowedRemoteExmods == nil {
		spec.AllowedRemoteExmods = []string{"karbor.exception"}
	}
	dir := t.TempDir()
	if err := fs.WalkDir(pythonFiles, "python", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := pythonFiles.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	}); err != nil {
		t.Fatalf("writing the Python driver: %v", err)
	}
	specJSON, _ := json.Marshal(spec)
	root := filepath.Join(dir, "python")
	cmd := exec.Command(PythonPath(), filepath.Join(root, "oslo_driver.py"), mode, string(specJSON))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+root, "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1")
	p := &process{t: t, cmd: cmd, stderr: &syncBuffer{}, onLine: onLine, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", PythonPath(), err)
	}
	ready := make(chan struct{})
	go p.read(stdout, ready)
	t.Cleanup(p.stop)
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("Python %s driver exited before it was ready; stderr:\n%s", mode, p.stderr)
	case <-time.After(startupTimeout):
		t.Fatalf("Python %s driver not ready after %s; stderr:\n%s", mode, startupTimeout, p.stderr)
	}
	return p
}

func (p *process) read(stdout io.Reader, ready chan struct{}) {
	defer close(p.done)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64*1024), 256<<20)
	first := true
	for sc.Scan() {
		line := append(json.RawMessage(nil), sc.Bytes()...)
		if first {
			first = false
			close(ready)
			continue
		}
		p.onLine(line)
	}
}

func (p *process) send(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		p.t.Fatalf("encoding a driver command: %v", err)
	}
	p.inMu.Lock()
	defer p.inMu.Unlock()
	if _, err := p.stdin.Write(append(data, '\n')); err != nil {
		p.t.Errorf("writing to the Python driver: %v; stderr:\n%s", err, p.stderr)
	}
}

// stop closes stdin (the driver's signal to finish), waits for it to exit,
// killing it after 30 s, and shows its stderr if the test failed.
func (p *process) stop() {
	p.inMu.Lock()
	_ = p.stdin.Close()
	p.inMu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-exited
	}
	<-p.done
	if p.t.Failed() {
		p.t.Logf("Python driver stderr:\n%s", p.stderr)
	}
}

// Stderr is what the driver logged so far.
func (p *process) Stderr() string { return p.stderr.String() }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
