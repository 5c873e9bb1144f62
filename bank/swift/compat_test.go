package swift

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/swift/swifttest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// pythonBank runs testdata/python_swift_bank.py: karbor's Python plugin's
// calls, made with keystoneauth1 and python-swiftclient.
func pythonBank(t *testing.T, container string, cmd map[string]any) map[string]any {
	t.Helper()
	a := swifttest.Keystone(t)
	py := os.Getenv("KARBOR_TEST_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if err := exec.Command(py, "-c", "import swiftclient, keystoneauth1").Run(); err != nil {
		rpctest.Unavailable(t, "%s without python3-swiftclient and keystoneauth1: %v (scripts/ensure-swift.sh installs them)", py, err)
	}
	arg, err := json.Marshal(cmd)
	require.NoError(t, err)
	c := exec.Command(py, "testdata/python_swift_bank.py", string(arg))
	c.Env = append(os.Environ(),
		"KARBOR_TEST_KEYSTONE_URL="+a.AuthURL, "KARBOR_TEST_KEYSTONE_USER="+a.User,
		"KARBOR_TEST_KEYSTONE_PASSWORD="+a.Password, "KARBOR_TEST_KEYSTONE_PROJECT="+a.Project,
		"SWIFT_BANK_CONTAINER="+container)
	out, err := c.Output()
	var ee *exec.ExitError
	if errorsAs(err, &ee) {
		t.Fatalf("python: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	var res map[string]any
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	require.Nil(t, res["error"], "python: %v", res)
	return res
}

func TestPythonWritesGoReads(t *testing.T) {
	container := testContainer(t)
	// An index.json the Python service wrote (bank/testdata's sample).
	raw, err := os.ReadFile("testdata/python-index.json")
	require.NoError(t, err)
	var index map[string]any
	require.NoError(t, json.Unmarshal(raw, &index))
	const cp1 = "11d89785-4e2d-459f-be22-a21076306f42"
	pythonBank(t, container, map[string]any{"op": "update", "key": "/checkpoints/" + cp1 + "/index.json", "value": index})
	pythonBank(t, container, map[string]any{"op": "update", "key": "/checkpoints/" + cp1 + "/status", "value": "available"})
	pythonBank(t, container, map[string]any{"op": "update", "key": "/indices/by-provider/prov/proj/1588601234@" + cp1, "value": cp1})

	p := openReal(t, realOptions(t, container))
	ctx := context.Background()
	got, err := p.GetObject(ctx, "/checkpoints/"+cp1+"/index.json")
	require.NoError(t, err)
	assert.True(t, got.Serialized)
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(got.Data, &decoded))
	assert.Equal(t, index, decoded)

	got, err = p.GetObject(ctx, "/checkpoints/"+cp1+"/status")
	require.NoError(t, err)
	assert.Equal(t, bank.Object{Data: []byte("available")}, got)

	keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/indices/by-provider/prov/proj/"})
	require.NoError(t, err)
	assert.Equal(t, []string{"/indices/by-provider/prov/proj/1588601234@" + cp1}, keys)

	// The whole bank reads as a checkpoint, through the bank.
	cp, err := bank.NewCheckpoints(bank.New(p)).Get(ctx, cp1)
	require.NoError(t, err)
	assert.Equal(t, "available", cp.Status)
	assert.Equal(t, "acc-plan", cp.Plan.Name)
}

func TestGoWritesPythonReads(t *testing.T) {
	container := testContainer(t)
	p := openReal(t, realOptions(t, container))
	ctx := context.Background()
	require.NoError(t, p.PutObject(ctx, "/checkpoints/cp2/index.json", bank.Object{Data: []byte(`{"id": "cp2", "status": "protecting"}`), Serialized: true}))
	require.NoError(t, p.PutObject(ctx, "/checkpoints/cp2/status", bank.Object{Data: []byte("protecting")}))

	res := pythonBank(t, container, map[string]any{"op": "get", "key": "/checkpoints/cp2/index.json"})
	assert.Equal(t, map[string]any{"id": "cp2", "status": "protecting"}, res["value"])
	res = pythonBank(t, container, map[string]any{"op": "get", "key": "/checkpoints/cp2/status"})
	assert.Equal(t, "protecting", res["value"])
	res = pythonBank(t, container, map[string]any{"op": "list", "prefix": "/checkpoints/cp2/"})
	assert.Equal(t, []any{"/checkpoints/cp2/index.json", "/checkpoints/cp2/status"}, res["names"])
	pythonBank(t, container, map[string]any{"op": "delete", "key": "/checkpoints/cp2/status"})
	_, err := p.GetObject(ctx, "/checkpoints/cp2/status")
	assert.ErrorIs(t, err, bank.ErrNotFound)
}

func TestLeasesAcrossPythonAndGo(t *testing.T) {
	container := testContainer(t)
	opts := realOptions(t, container)
	opts.Holder = bank.Holder{Host: "go-host", Incarnation: "inc-1"}
	opened := time.Now()
	p := openReal(t, opts)
	leased := time.Now()
	ctx := context.Background()

	// Python's lease: seen by Go, with no holder, expiring after its window.
	owner := "python-owner-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	before := time.Now()
	pythonBank(t, container, map[string]any{"op": "lease", "owner": owner, "expire": 120})
	l, ok, err := p.Lease(ctx, owner)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, bank.Holder{}, l.Holder)
	assert.WithinRange(t, l.ExpiresAt, before.Add(118*time.Second), time.Now().Add(122*time.Second))
	leases, err := p.Leases(ctx)
	require.NoError(t, err)
	var seen bool
	for _, l := range leases {
		seen = seen || l.OwnerID == owner
	}
	assert.True(t, seen, "Leases lists Python's lease")
	require.NoError(t, p.RemoveLease(ctx, owner))

	// Go's lease: the object Python's plugin writes, expiring in Swift.
	res := pythonBank(t, container, map[string]any{"op": "head_lease", "owner": p.OwnerID()})
	assert.Equal(t, p.OwnerID(), res["body"])
	at, err := strconv.ParseInt(res["delete_at"].(string), 10, 64)
	require.NoError(t, err)
	assert.WithinRange(t, time.Unix(at, 0), opened.Add(bank.DefaultLeaseExpireWindow-2*time.Second), leased.Add(bank.DefaultLeaseExpireWindow+2*time.Second))
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
