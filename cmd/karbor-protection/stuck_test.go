package main_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank/fs/fstest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// adminByRole is a member context whose roles hold "Admin" (is_admin
// false): karbor's default admin_or_owner rule admits it.
func adminByRole(t testing.TB, project string) map[string]any {
	c := requestContext(t, project, false)
	c["roles"] = []any{"member", "Admin"}
	return c
}

// planOfType is a Plan primitive of one resource of type typ.
func planOfType(id, project, typ string) map[string]any {
	p := plan(id, project, 1)
	data := p["karbor_object.data"].(map[string]any)
	data["resources"].([]map[string]any)[0]["type"] = typ
	return p
}

// withProject is a Plan primitive naming another project.
func withProject(p map[string]any, project string) map[string]any {
	q := maps.Clone(p)
	data := maps.Clone(p["karbor_object.data"].(map[string]any))
	data["project_id"] = project
	q["karbor_object.data"] = data
	return q
}

// checkpointFolders lists the checkpoint folders of the bank.
func checkpointFolders(t testing.TB, bankPath string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(bankPath, "karbor", "checkpoints"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestNothingStaysStuck drives, over the real broker with karbor-api's
// Python client, every way the Python service (and this one before) left
// a checkpoint stuck, and checks each ends in a status the operator can
// delete or reset, with its operation-log row closed:
//   - a plan with a type no plugin protects: the protect fails, the
//     checkpoint is error, and it can be deleted;
//   - plan and project ids too long for a bank key: protect and copy fail
//     and leave nothing behind;
//   - a full bank: a protect fails and leaves nothing, deletes and resets
//     still work;
//   - reset_state to a state the API does not allow is refused;
//   - a failing bank answers without the server's paths.
func TestNothingStaysStuck(t *testing.T) {
	t.Parallel()
	mnt := fstest.Tmpfs(t, 2<<20)
	bankPath := filepath.Join(mnt, "bank")
	m := sharedMariaDB(t)
	name, pool := m.createDatabase(t)
	url := rpctest.Vhost(t)
	svc := newService(t, url, serviceConfig{bankDir: bankPath, sections: "[database]\nconnection = " + m.url(name) + "\n"})
	c := pyClient(t, url)
	member, admin := requestContext(t, projectA, false), requestContext(t, projectA, true)
	del := func(ctx map[string]any, id string) {
		t.Helper()
		assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", ctx, map[string]any{"provider_id": noopID, "checkpoint_id": id}))))
		waitStatus(t, c, ctx, id, "deleted")
	}
	// openLogs are the operation-log rows of a checkpoint not yet closed.
	openLogs := func(id string) int {
		return len(tableRows(t, pool, "operation_logs", "checkpoint_id = ? AND ended_at IS NULL", id))
	}

	t.Run("type without plugin", func(t *testing.T) {
		planID := "33333333-2222-4333-8444-555555555555"
		e := exception(t, call(t, c, "protect", member, map[string]any{"plan": planOfType(planID, projectA, "OS::Foo::Bar"),
			"checkpoint_properties": protectArgs(planID, projectA, 1)["checkpoint_properties"]}), "karbor.exception.FlowError")
		assert.Equal(t, "Flow: protect, Error: Protection Plugin for OS::Foo::Bar could not be found.", e.Msg)
		ids := listIDs(t, c, member, map[string]any{"filters": map[string]any{"plan_id": planID}})
		require.Len(t, ids, 1)
		assert.Equal(t, "error", showStatus(t, c, member, ids[0]))
		del(member, ids[0])
		waitFor(t, 30*time.Second, "operation logs closed", func() bool {
			return openLogs(ids[0]) == 0 && len(tableRows(t, pool, "operation_logs", "checkpoint_id = ?", ids[0])) == 2
		})
		assert.Contains(t, svc.out.String(), "No protection plugin for this resource type; the delete skips the resource")
	})

	t.Run("ids too long for a key", func(t *testing.T) {
		long := strings.Repeat("x", 300)
		before := checkpointFolders(t, bankPath)
		e := exception(t, call(t, c, "protect", admin, protectArgs(long, projectA, 1)), "karbor.exception.FlowError")
		assert.Equal(t, "Flow: protect, Error: Error creating checkpoint", e.Msg)
		args := protectArgs("44444444-2222-4333-8444-555555555555", projectA, 1)
		args["plan"] = withProject(args["plan"].(map[string]any), long)
		exception(t, call(t, c, "protect", admin, args), "karbor.exception.FlowError")
		// A copy into an overlong project: the source is an available
		// checkpoint of the plan in the caller's project.
		planID := "55555555-2222-4333-8444-555555555555"
		src := protect(t, c, admin, planID, projectA, 1)
		waitStatus(t, c, admin, src, "available")
		before = append(before, src)
		e = exception(t, call(t, c, "copy", admin, map[string]any{"plan": withProject(plan(planID, projectA, 1), long)}), "karbor.exception.FlowError")
		assert.Contains(t, e.Msg, "Flow: copy")
		assert.ElementsMatch(t, before, checkpointFolders(t, bankPath), "nothing left behind")
		assert.Empty(t, listIDs(t, c, admin, map[string]any{"filters": map[string]any{"plan_id": long}}))
		for _, id := range listIDs(t, c, admin, map[string]any{"all_tenants": true}) {
			assert.NotContains(t, []string{"protecting", "wait_copying", "copying", "deleting"}, showStatus(t, c, admin, id))
		}
	})

	t.Run("reset_state values", func(t *testing.T) {
		id := protect(t, c, member, "66666666-2222-4333-8444-555555555555", projectA, 1)
		waitStatus(t, c, member, id, "available")
		for _, state := range []string{"bogus", "", "deleted", strings.Repeat("s", 100<<10)} {
			e := exception(t, call(t, c, "reset_state", member, map[string]any{"provider_id": noopID, "checkpoint_id": id, "state": state}),
				"karbor.exception.InvalidInput")
			assert.Contains(t, e.Msg, "reset_state accepts available and error")
			assert.Less(t, len(e.Str), 4096, "the reply does not echo 100 KB")
		}
		assert.Equal(t, "available", showStatus(t, c, member, id))
		assert.Contains(t, listIDs(t, c, member, nil), id, "still listed")
	})

	t.Run("full bank", func(t *testing.T) {
		a := protect(t, c, member, "77777777-2222-4333-8444-555555555555", projectA, 2)
		b := protect(t, c, member, "77777777-2222-4333-8444-555555555555", projectA, 2)
		waitStatus(t, c, member, a, "available")
		waitStatus(t, c, member, b, "available")
		free := fstest.Fill(t, mnt)
		defer free()
		before := checkpointFolders(t, bankPath)
		e := exception(t, call(t, c, "protect", member, protectArgs("88888888-2222-4333-8444-555555555555", projectA, 1)), "karbor.exception.FlowError")
		assert.Equal(t, "Flow: protect, Error: Error creating checkpoint", e.Msg)
		assert.ElementsMatch(t, before, checkpointFolders(t, bankPath), "no empty checkpoint folder")
		assert.JSONEq(t, "null", string(result(t, call(t, c, "reset_state", member, map[string]any{"provider_id": noopID, "checkpoint_id": b, "state": "error"}))))
		assert.Equal(t, "error", showStatus(t, c, member, b))
		del(member, a)
		del(member, b)
		waitFor(t, 30*time.Second, "operation logs closed", func() bool { return openLogs(a) == 0 && openLogs(b) == 0 })
	})

	t.Run("no server paths in replies", func(t *testing.T) {
		id := protect(t, c, member, "99999999-2222-4333-8444-555555555555", projectA, 1)
		waitStatus(t, c, member, id, "available")
		fstest.ReadOnly(t, mnt)
		e := exception(t, call(t, c, "delete", member, map[string]any{"provider_id": noopID, "checkpoint_id": id}), "karbor.exception.BankUpdateObjectFailed")
		assert.Equal(t, "Update Object /checkpoints/"+id+"/index.json in Bank Failed: read-only file system", e.Msg)
		for _, leak := range []string{".karbor-tmp", mnt, "openat"} {
			assert.NotContains(t, e.Str, leak)
		}
		assert.Contains(t, svc.out.String(), ".karbor-tmp", "the service log keeps the full error")
	})
}

// TestAccessMatrixEndToEnd runs every method that touches or writes a
// checkpoint as the checkpoint's owner, a member of another project, an
// admin of another project and an admin by role only, each on a fresh
// available checkpoint of project A.
func TestAccessMatrixEndToEnd(t *testing.T) {
	t.Parallel()
	url := rpctest.Vhost(t)
	newService(t, url, serviceConfig{})
	c := pyClient(t, url)
	owner := requestContext(t, projectA, false)
	const planID = "632d8f7d-e2c3-4f31-82ea-900d8afb9880"
	callers := []struct {
		name    string
		ctx     map[string]any
		project string
		allowed bool
	}{
		{"owner", owner, projectA, true},
		{"other project", requestContext(t, projectB, false), projectB, false},
		{"admin", requestContext(t, projectB, true), projectB, true},
		{"admin by role", adminByRole(t, projectB), projectB, true},
	}
	checkpointRefusal := func(cid string) (string, string) {
		return "karbor.exception.AccessCheckpointNotAllowed", "Access checkpoint " + cid + " is not allowed"
	}
	ops := []struct {
		method  string
		args    func(cid, project string) map[string]any
		refusal func(cid string) (class, msg string)
	}{
		{"protect", func(_, _ string) map[string]any { return protectArgs(planID, projectA, 1) },
			func(string) (string, string) {
				return "karbor.exception.PolicyNotAuthorized", "Policy doesn't allow provider:checkpoint_create to be performed."
			}},
		{"copy", func(_, _ string) map[string]any { return map[string]any{"plan": plan(planID, projectA, 1)} },
			func(string) (string, string) {
				return "karbor.exception.PolicyNotAuthorized", "Policy doesn't allow copy:create to be performed."
			}},
		{"restore", func(cid, project string) map[string]any { return restoreArgs(cid, project, map[string]any{}) }, checkpointRefusal},
		{"verification", func(cid, project string) map[string]any {
			return verificationArgs("a80b2ec0-a195-4540-aeb5-fbbbde33719e", cid, project)
		}, checkpointRefusal},
		{"delete", func(cid, _ string) map[string]any { return map[string]any{"provider_id": noopID, "checkpoint_id": cid} },
			func(cid string) (string, string) {
				return "karbor.exception.DeleteCheckpointNotAllowed", "Delete checkpoint " + cid + " is not allowed"
			}},
		{"reset_state", func(cid, _ string) map[string]any {
			return map[string]any{"provider_id": noopID, "checkpoint_id": cid, "state": "error"}
		}, checkpointRefusal},
		{"show_checkpoint", func(cid, _ string) map[string]any { return map[string]any{"provider_id": noopID, "checkpoint_id": cid} },
			checkpointRefusal},
	}
	all := func() []string {
		return slices.Sorted(slices.Values(listIDs(t, c, requestContext(t, projectA, true), map[string]any{"all_tenants": true})))
	}
	for _, op := range ops {
		for _, cl := range callers {
			t.Run(op.method+"/"+cl.name, func(t *testing.T) {
				cid := protect(t, c, owner, planID, projectA, 1)
				waitStatus(t, c, owner, cid, "available")
				before := all()
				o := call(t, c, op.method, cl.ctx, op.args(cid, cl.project))
				if cl.allowed {
					result(t, o)
					return
				}
				class, msg := op.refusal(cid)
				e := exception(t, o, class)
				assert.Equal(t, msg, e.Msg)
				assert.Equal(t, "available", showStatus(t, c, owner, cid), "a refused call changes nothing")
				assert.Equal(t, before, all(), "a refused call creates nothing")
			})
		}
	}
	cid := protect(t, c, owner, planID, projectA, 1)
	waitStatus(t, c, owner, cid, "available")
	for _, filters := range []map[string]any{{}, {"project_id": projectA}} {
		for _, cl := range callers {
			t.Run("list_checkpoints all_tenants/"+cl.name, func(t *testing.T) {
				var got []struct {
					ID        string `json:"id"`
					ProjectID string `json:"project_id"`
				}
				a := map[string]any{"provider_id": noopID, "marker": nil, "limit": 1000, "sort_keys": []string{"created_at"},
					"sort_dirs": []string{"desc"}, "filters": filters, "all_tenants": true}
				require.NoError(t, json.Unmarshal(result(t, call(t, c, "list_checkpoints", cl.ctx, a)), &got))
				listed := false
				for _, g := range got {
					listed = listed || g.ID == cid
					if !cl.allowed {
						assert.Equal(t, cl.project, g.ProjectID)
					}
				}
				assert.Equal(t, cl.allowed, listed)
			})
		}
	}
}
