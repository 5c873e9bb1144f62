package manager

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// adminByRole is a context whose is_admin says false but whose roles hold
// "Admin": karbor's default admin_or_owner rule admits it (role:admin,
// compared case-insensitively).
func adminByRole(project string) map[string]any {
	c := memberOf(project)
	c["roles"] = []string{"member", "Admin"}
	return c
}

// TestAccessMatrix runs every method that touches a checkpoint or writes
// one as the checkpoint's owner, as a member of another project, as an
// admin of another project and as an admin by role only, each on a fresh
// available checkpoint of project A. A refused call answers the exception
// named and changes nothing.
func TestAccessMatrix(t *testing.T) {
	e := newEnv(t, envOptions{})
	const planID = "632d8f7d-e2c3-4f31-82ea-900d8afb9880"
	planOfA := planPrimitive(planID, noopID, projectA, 1, "")
	callers := []struct {
		name    string
		ctx     map[string]any
		project string
		allowed bool // admin or owner
	}{
		{"owner", memberOf(projectA), projectA, true},
		{"other project", memberOf(projectB), projectB, false},
		{"admin", admin(projectB), projectB, true},
		{"admin by role", adminByRole(projectB), projectB, true},
	}
	refusedCheckpoint := func(cid string) string {
		return "karbor.exception.AccessCheckpointNotAllowed:Access checkpoint " + cid + " is not allowed"
	}
	ops := []struct {
		name    string
		method  string
		args    func(cid, callerProject string) map[string]any
		refusal func(cid string) string // class:message of a refusal
	}{
		{"protect", "protect", func(_, _ string) map[string]any {
			return map[string]any{"plan": planOfA, "checkpoint_properties": properties(projectA, noopID)}
		}, func(string) string {
			return "karbor.exception.PolicyNotAuthorized:Policy doesn't allow provider:checkpoint_create to be performed."
		}},
		{"execute_operation protect", "execute_operation", func(_, _ string) map[string]any {
			return map[string]any{"backup_plan": planOfA, "action": "protect"}
		}, func(string) string {
			return "karbor.exception.PolicyNotAuthorized:Policy doesn't allow provider:checkpoint_create to be performed."
		}},
		{"copy", "copy", func(_, _ string) map[string]any { return map[string]any{"plan": planOfA} },
			func(string) string {
				return "karbor.exception.PolicyNotAuthorized:Policy doesn't allow copy:create to be performed."
			}},
		{"restore", "restore", func(cid, project string) map[string]any {
			return map[string]any{"restore": targetPrimitive("Restore", noopID, cid, project, nil), "restore_auth": nil}
		}, refusedCheckpoint},
		{"execute_operation restore", "execute_operation", func(cid, project string) map[string]any {
			return map[string]any{"backup_plan": targetPrimitive("Restore", noopID, cid, project, nil), "action": "restore"}
		}, refusedCheckpoint},
		{"verification", "verification", func(cid, project string) map[string]any {
			return map[string]any{"verification": targetPrimitive("Verification", noopID, cid, project, nil)}
		}, refusedCheckpoint},
		{"delete", "delete", func(cid, _ string) map[string]any { return map[string]any{"provider_id": noopID, "checkpoint_id": cid} },
			func(cid string) string {
				return "karbor.exception.DeleteCheckpointNotAllowed:Delete checkpoint " + cid + " is not allowed"
			}},
		{"delete_checkpoint", "delete_checkpoint", func(cid, _ string) map[string]any { return map[string]any{"provider_id": noopID, "checkpoint_id": cid} },
			func(cid string) string {
				return "karbor.exception.DeleteCheckpointNotAllowed:Delete checkpoint " + cid + " is not allowed"
			}},
		{"reset_state", "reset_state", func(cid, _ string) map[string]any {
			return map[string]any{"provider_id": noopID, "checkpoint_id": cid, "state": "error"}
		}, refusedCheckpoint},
		{"show_checkpoint", "show_checkpoint", func(cid, _ string) map[string]any { return map[string]any{"provider_id": noopID, "checkpoint_id": cid} },
			refusedCheckpoint},
	}
	for _, op := range ops {
		for _, c := range callers {
			t.Run(op.name+"/"+c.name, func(t *testing.T) {
				cid := e.protect(t, noopID, projectA, 1)
				e.waitStatus(t, noopID, cid, "available")
				before := e.allCheckpoints(t)
				o := e.call(t, op.method, c.ctx, op.args(cid, c.project))
				if c.allowed {
					requireOK(t, o)
					return
				}
				class, msg := face(t, o)
				assert.Equal(t, op.refusal(cid), class+":"+msg)
				assert.Equal(t, "available", e.status(t, noopID, cid), "a refused call leaves the checkpoint alone")
				assert.Equal(t, before, e.allCheckpoints(t), "a refused call creates no checkpoint")
			})
		}
	}

	// Listing: all_tenants (and a project_id filter with it) is an admin's;
	// anyone else lists their own project, whatever they send.
	cid := e.protect(t, noopID, projectA, 1)
	e.waitStatus(t, noopID, cid, "available")
	for _, filters := range []map[string]any{{}, {"project_id": projectA}} {
		for _, c := range callers {
			t.Run("list_checkpoints all_tenants/"+c.name, func(t *testing.T) {
				var got []struct {
					ID        string `json:"id"`
					ProjectID string `json:"project_id"`
				}
				require.NoError(t, json.Unmarshal(requireOK(t, e.call(t, "list_checkpoints", c.ctx, map[string]any{
					"provider_id": noopID, "filters": filters, "all_tenants": true})), &got))
				ids := make([]string, len(got))
				for i, g := range got {
					ids[i] = g.ID
					if !c.allowed {
						assert.Equal(t, c.project, g.ProjectID, "a member lists only their own project")
					}
				}
				assert.Equal(t, c.allowed, slices.Contains(ids, cid), "listed %v", ids)
			})
		}
	}
}

// allCheckpoints lists the ids of every project's checkpoints, as an admin.
func (e *env) allCheckpoints(t *testing.T) string {
	t.Helper()
	var got []struct{ ID string }
	require.NoError(t, json.Unmarshal(requireOK(t, e.call(t, "list_checkpoints", admin(projectA), map[string]any{
		"provider_id": noopID, "filters": map[string]any{}, "all_tenants": true})), &got))
	ids := make([]string, len(got))
	for i, g := range got {
		ids[i] = g.ID
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

// TestResetStateValues: reset_state sets only the states karbor-api
// admits; anything else is InvalidInput and leaves the checkpoint as it
// was.
func TestResetStateValues(t *testing.T) {
	e := newEnv(t, envOptions{})
	cid := e.protect(t, noopID, projectA, 1)
	e.waitStatus(t, noopID, cid, "available")
	reset := func(state any) outcome {
		return e.call(t, "reset_state", memberOf(projectA), map[string]any{"provider_id": noopID, "checkpoint_id": cid, "state": state})
	}
	for _, tc := range []struct {
		name, state, msg string
	}{
		{"bogus", "bogus", "Invalid input received: state 'bogus' is not allowed; reset_state accepts available and error"},
		{"empty", "", "Invalid input received: state '' is not allowed; reset_state accepts available and error"},
		{"deleted", "deleted", "Invalid input received: state 'deleted' is not allowed; reset_state accepts available and error"},
		{"in progress", "protecting", "Invalid input received: state 'protecting' is not allowed; reset_state accepts available and error"},
		{"other case", "Available", "Invalid input received: state 'Available' is not allowed; reset_state accepts available and error"},
		{"100 KB", strings.Repeat("x", 100<<10), "Invalid input received: state '" + strings.Repeat("x", 40) + "…' is not allowed; reset_state accepts available and error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			class, msg := face(t, reset(tc.state))
			assert.Equal(t, "karbor.exception.InvalidInput", class)
			assert.Equal(t, tc.msg, msg)
			assert.Equal(t, "available", e.status(t, noopID, cid))
		})
	}
	class, _ := face(t, reset(nil))
	assert.Equal(t, "karbor.exception.InvalidInput", class, "a null state")
	requireOK(t, reset("error"))
	assert.Equal(t, "error", e.status(t, noopID, cid))
	requireOK(t, reset("available"))
	assert.Equal(t, "available", e.status(t, noopID, cid))
}
