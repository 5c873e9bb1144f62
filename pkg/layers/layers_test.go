package layers

import (
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/gokarbor/karbor-protection/"

// rules maps a package (and everything under it) to the module packages it
// must never depend on, directly or transitively, but for those allowed.
var rules = []struct {
	pkg       string
	forbidden []string
	allowed   []string
}{
	{"taskflow", []string{""}, nil}, // "" matches every module package
	{"rpc", []string{"providers", "pkg/manager", "pkg/db", "bank", "taskflow", "cmd"}, nil},
	{"bank", []string{"providers", "pkg/manager", "pkg/db", "rpc", "taskflow", "cmd"}, nil},
	{"providers", []string{"rpc", "pkg/manager", "cmd"}, nil},
	{"pkg/manager", []string{"cmd"}, nil},
	{"pkg/db", []string{"providers", "pkg/manager", "rpc", "bank", "taskflow", "cmd"}, nil},
	// Python's JSON reads JSON text with the scanner the RPC layer uses.
	{"pkg/python", []string{""}, []string{"pkg/jsonscan"}},
	{"pkg/jsonscan", []string{""}, nil},
	{"pkg/registry", []string{""}, nil},
	{"pkg/logctx", []string{""}, nil},
	{"pkg/sdnotify", []string{""}, nil},
	{"pkg/buildinfo", []string{""}, nil},
	{"pkg/grace", []string{""}, nil},
	{"pkg/progress", []string{""}, nil},
	{"pkg/opshttp", []string{""}, nil},
	{"pkg/karbortest", []string{""}, nil},
	// The metrics implement the layers' observer interfaces without
	// importing them; the program wires them.
	{"pkg/metrics", []string{"providers", "pkg/manager", "pkg/db", "rpc", "bank", "taskflow", "cmd"}, nil},
	{"pkg/config", []string{"providers", "pkg/manager", "pkg/db", "rpc", "bank", "taskflow", "cmd"}, nil},
	{"pkg/karbor", []string{"providers", "pkg/manager", "pkg/db", "rpc", "bank", "taskflow", "cmd"}, nil},
}

// under reports whether pkg is prefix or a package below it; "" holds every
// package.
func under(pkg, prefix string) bool {
	return prefix == "" || pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// testSupport reports whether pkg only serves tests (rpc/rpctest,
// bank/swift/swifttest…): such packages may reach across layers to set up
// peers, as the tests that import them do.
func testSupport(pkg string) bool {
	return strings.HasSuffix(path.Base(pkg), "test")
}

// moduleImports reads the non-test imports of every package of the module,
// keyed and valued by paths relative to the module root.
func moduleImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "var") {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		if _, ok := err.(*build.NoGoError); ok {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		graph[rel] = nil
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				graph[rel] = append(graph[rel], strings.TrimPrefix(imp, module))
			}
		}
		return nil
	})
	require.NoError(t, err)
	return graph
}

// deps returns every module package pkg depends on, with the chain that
// leads to each (for the failure message).
func deps(graph map[string][]string, pkg string) map[string][]string {
	chains := map[string][]string{}
	queue := []string{pkg}
	via := map[string][]string{pkg: {pkg}}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, next := range graph[cur] {
			if _, seen := via[next]; seen {
				continue
			}
			chain := append(append([]string(nil), via[cur]...), next)
			via[next] = chain
			chains[next] = chain
			queue = append(queue, next)
		}
	}
	return chains
}

func TestImportsRunOneWay(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the module root is two levels up")
	graph := moduleImports(t, root)
	require.Contains(t, graph, "pkg/manager", "the walk found the module's packages")

	pkgs := make([]string, 0, len(graph))
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	checked := 0
	for _, p := range pkgs {
		if testSupport(p) {
			continue
		}
		for _, r := range rules {
			if !under(p, r.pkg) {
				continue
			}
			checked++
			for dep, chain := range deps(graph, p) {
				if slices.ContainsFunc(r.allowed, func(ok string) bool { return under(dep, ok) }) {
					continue
				}
				for _, bad := range r.forbidden {
					if under(dep, bad) && !under(dep, r.pkg) {
						t.Errorf("%s must not depend on %s: %s", p, dep, strings.Join(chain, " → "))
					}
				}
			}
		}
	}
	require.NotZero(t, checked)

	// Production code never imports test support.
	for _, p := range pkgs {
		if testSupport(p) {
			continue
		}
		for _, imp := range graph[p] {
			if testSupport(imp) {
				t.Errorf("%s imports the test-support package %s", p, imp)
			}
		}
	}

	// Nothing but the program imports the manager.
	for _, p := range pkgs {
		if under(p, "cmd") || under(p, "pkg/manager") {
			continue
		}
		for _, imp := range graph[p] {
			if under(imp, "pkg/manager") {
				t.Errorf("%s imports %s: only cmd/ may", p, imp)
			}
		}
	}
}

func TestRuleDetectsAViolation(t *testing.T) {
	graph := map[string][]string{
		"rpc":         {"pkg/logctx"},
		"pkg/logctx":  {"providers"},
		"providers":   {"bank"},
		"bank":        nil,
		"pkg/manager": {"rpc"},
	}
	got := deps(graph, "rpc")
	require.Equal(t, []string{"rpc", "pkg/logctx", "providers"}, got["providers"])
	require.Contains(t, got, "bank")
	require.NotContains(t, got, "pkg/manager")
}
