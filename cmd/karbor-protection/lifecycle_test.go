package main_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

const (
	projectA = "f0e1d2c3-b4a5-4678-9abc-def012345678" // the recorded session's project
	projectB = "0b0b0b0b-b4a5-4678-9abc-def012345678"
	unknown  = "00000000-0000-0000-0000-000000000000"
)

// requestContext is the recorded session's context dict (every key
// karbor-api sends), for project, as a member or as an admin.
func requestContext(t testing.TB, project string, isAdmin bool) map[string]any {
	t.Helper()
	c := maps.Clone(recordedSession(t)[0].Context)
	c["project_id"], c["project"] = project, project
	c["user_identity"] = fmt.Sprintf("%s %s - - -", c["user_id"], project)
	c["is_admin"] = isAdmin
	if isAdmin {
		c["roles"] = []any{"admin", "member"}
	}
	return c
}

// plan is a Plan primitive as the API sends it: n resources, alternately
// volumes and servers.
func plan(id, project string, n int) map[string]any {
	res := make([]map[string]any, n)
	for i := range res {
		res[i] = map[string]any{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "type": []string{"OS::Cinder::Volume", "OS::Nova::Server"}[i%2],
			"name": fmt.Sprintf("res-%d", i), "extra_info": nil}
	}
	return map[string]any{
		"karbor_object.name": "Plan", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0",
		"karbor_object.data": map[string]any{"id": id, "name": "plan-" + id[:8], "description": nil, "provider_id": noopID,
			"project_id": project, "status": "suspended", "resources": res, "parameters": map[string]any{}},
		"karbor_object.changes": []string{"id", "name", "description", "provider_id", "project_id", "status", "resources", "parameters"},
	}
}

// protectArgs are protect's arguments as the API sends them.
func protectArgs(planID, project string, n int) map[string]any {
	p := plan(planID, project, n)
	data := p["karbor_object.data"].(map[string]any)
	return map[string]any{"plan": p, "checkpoint_properties": map[string]any{
		"project_id": project, "status": "protecting", "provider_id": noopID,
		"protection_plan": map[string]any{"id": planID, "name": data["name"], "resources": data["resources"]},
		"extra_info":      `{"created_by": "manual"}`,
	}}
}

func protect(t testing.TB, c *rpctest.PyClient, ctx map[string]any, planID, project string, n int) string {
	t.Helper()
	var id string
	require.NoError(t, json.Unmarshal(result(t, call(t, c, "protect", ctx, protectArgs(planID, project, n))), &id))
	return id
}

func listIDs(t testing.TB, c *rpctest.PyClient, ctx map[string]any, args map[string]any) []string {
	t.Helper()
	a := map[string]any{"provider_id": noopID, "marker": nil, "limit": 1000, "sort_keys": []string{"created_at"}, "sort_dirs": []string{"desc"}, "filters": map[string]any{}, "all_tenants": false}
	maps.Copy(a, args)
	var cps []struct{ ID string }
	require.NoError(t, json.Unmarshal(result(t, call(t, c, "list_checkpoints", ctx, a)), &cps))
	ids := make([]string, len(cps))
	for i, cp := range cps {
		ids[i] = cp.ID
	}
	return ids
}

func restoreArgs(checkpointID, project string, params map[string]any) map[string]any {
	return map[string]any{"restore": map[string]any{
		"karbor_object.name": "Restore", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0",
		"karbor_object.data": map[string]any{"id": "800fe32c-c20a-4e5f-a776-6b89bab80234", "project_id": project, "provider_id": noopID,
			"checkpoint_id": checkpointID, "restore_target": nil, "parameters": params, "status": "in_progress",
			"resources_status": map[string]any{}, "resources_reason": map[string]any{},
			"created_at": "2026-11-22T01:57:50Z", "updated_at": nil, "deleted_at": nil, "deleted": false},
	}, "restore_auth": nil}
}

// TestCheckpointLifecycle runs one service and one Python client through a
// full protect → available → list (every filter) → show → reset_state →
// delete → deleted cycle, the project isolation of show, delete, restore and
// reset_state, a 1,000-resource plan, and the errors karbor-api gets for
// unknown providers and checkpoints, a null plan and bad restore
// parameters.
func TestCheckpointLifecycle(t *testing.T) {
	url := rpctest.Vhost(t)
	newService(t, url, serviceConfig{})
	c := pyClient(t, url)
	memberA, memberB := requestContext(t, projectA, false), requestContext(t, projectB, false)
	adminA := requestContext(t, projectA, true)
	planA, planB := "632d8f7d-e2c3-4f31-82ea-900d8afb9880", "7a1c1d2e-0000-4000-8000-000000000b0b"

	a1 := protect(t, c, memberA, planA, projectA, 2)
	a2 := protect(t, c, memberA, planA, projectA, 2)
	a3 := protect(t, c, memberA, "11111111-2222-4333-8444-555555555555", projectA, 1)
	b1 := protect(t, c, memberB, planB, projectB, 1)
	for _, id := range []string{a1, a2, a3} {
		waitStatus(t, c, memberA, id, "available")
	}
	waitStatus(t, c, memberB, b1, "available")
	today := time.Now().UTC().Format("2006-01-02")
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format("2006-01-02")

	t.Run("list", func(t *testing.T) {
		all := listIDs(t, c, memberA, nil)
		assert.ElementsMatch(t, []string{a1, a2, a3}, all, "a member sees their project's checkpoints only")
		asc := listIDs(t, c, memberA, map[string]any{"sort_dirs": []string{"asc"}})
		assert.Equal(t, all, reversed(asc), "asc is desc reversed")
		assert.ElementsMatch(t, []string{a1, a2}, listIDs(t, c, memberA, map[string]any{"filters": map[string]any{"plan_id": planA}}))
		assert.ElementsMatch(t, []string{a1, a2, a3}, listIDs(t, c, memberA, map[string]any{"filters": map[string]any{"start_date": today, "end_date": today}}))
		assert.Empty(t, listIDs(t, c, memberA, map[string]any{"filters": map[string]any{"start_date": tomorrow}}))
		assert.ElementsMatch(t, []string{a1, a2}, listIDs(t, c, memberA, map[string]any{"filters": map[string]any{"plan_id": planA, "start_date": today}}))
		assert.Equal(t, []string{b1}, listIDs(t, c, adminA, map[string]any{"filters": map[string]any{"project_id": projectB}, "all_tenants": true}),
			"an admin lists another project with all_tenants")
		assert.ElementsMatch(t, []string{a1, a2, a3, b1}, listIDs(t, c, adminA, map[string]any{"all_tenants": true}))
		assert.ElementsMatch(t, []string{a1, a2, a3}, listIDs(t, c, adminA, map[string]any{"filters": map[string]any{"project_id": projectB}}),
			"without all_tenants the project_id filter does nothing, as in Python")
		// Paging: marker + limit walks the same order, one page at a time.
		var paged []string
		marker := any(nil)
		for range 10 {
			page := listIDs(t, c, memberA, map[string]any{"marker": marker, "limit": 1})
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			marker = page[0]
		}
		assert.Equal(t, all, paged)
		assert.Equal(t, all[:2], listIDs(t, c, memberA, map[string]any{"limit": 2}))
	})

	t.Run("other projects", func(t *testing.T) {
		show := map[string]any{"provider_id": noopID, "checkpoint_id": a1}
		e := exception(t, call(t, c, "show_checkpoint", memberB, show), "karbor.exception.AccessCheckpointNotAllowed")
		assert.Equal(t, "Access checkpoint "+a1+" is not allowed", e.Msg)
		exception(t, call(t, c, "delete", memberB, show), "karbor.exception.DeleteCheckpointNotAllowed")
		exception(t, call(t, c, "restore", memberB, restoreArgs(a1, projectB, map[string]any{})), "karbor.exception.AccessCheckpointNotAllowed")
		exception(t, call(t, c, "reset_state", memberB, map[string]any{"provider_id": noopID, "checkpoint_id": a1, "state": "error"}),
			"karbor.exception.AccessCheckpointNotAllowed")
		assert.Equal(t, "available", showStatus(t, c, memberA, a1), "nothing changed")
		result(t, call(t, c, "show_checkpoint", requestContext(t, projectB, true), show)) // an admin may
	})

	t.Run("show, reset, delete", func(t *testing.T) {
		var shown map[string]any
		require.NoError(t, json.Unmarshal(result(t, call(t, c, "show_checkpoint", memberA, map[string]any{"provider_id": noopID, "checkpoint_id": a2})), &shown))
		assert.Equal(t, []string{"created_at", "extra_info", "id", "project_id", "protection_plan", "resource_graph", "status"}, slices.Sorted(maps.Keys(shown)))
		assert.Equal(t, today, shown["created_at"])
		assert.Equal(t, `{"created_by": "manual"}`, shown["extra_info"])
		assert.IsType(t, "", shown["resource_graph"], "the packed graph is a JSON string")

		assert.JSONEq(t, "null", string(result(t, call(t, c, "reset_state", memberA, map[string]any{"provider_id": noopID, "checkpoint_id": a2, "state": "error"}))))
		assert.Equal(t, "error", showStatus(t, c, memberA, a2))
		assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", memberA, map[string]any{"provider_id": noopID, "checkpoint_id": a2}))))
		waitStatus(t, c, memberA, a2, "deleted")
		assert.NotContains(t, listIDs(t, c, memberA, nil), a2, "a deleted checkpoint leaves the listings")
		exception(t, call(t, c, "delete", memberA, map[string]any{"provider_id": noopID, "checkpoint_id": a2}), "karbor.exception.CheckpointNotBeDeleted")
	})

	t.Run("restore", func(t *testing.T) {
		assert.JSONEq(t, "null", string(result(t, call(t, c, "restore", memberA, restoreArgs(a1, projectA, map[string]any{})))))
		e := exception(t, call(t, c, "restore", memberA, restoreArgs(a1, projectA, map[string]any{"OS::Nova::Server": map[string]any{"restore_name": "x"}})), "builtins.KeyError")
		assert.Equal(t, "'properties'", firstLine(e))
		e = exception(t, call(t, c, "restore", memberA, restoreArgs(a1, projectA, map[string]any{"OS::Nova::Server#abc": map[string]any{}})), "karbor.exception.InvalidInput")
		assert.Equal(t, "Invalid input received: The resource_id must be a uuid.", e.Msg)
		exception(t, call(t, c, "restore", memberA, restoreArgs(a1, projectA, map[string]any{"a#b#c": map[string]any{}})), "builtins.ValueError")
	})

	t.Run("errors", func(t *testing.T) {
		e := exception(t, call(t, c, "show_provider", memberA, map[string]any{"provider_id": unknown}), "karbor.exception.ProviderNotFound")
		assert.Equal(t, map[string]any{"provider_id": unknown, "code": float64(404)}, e.Kwargs)
		args := protectArgs(planA, projectA, 1)
		args["plan"].(map[string]any)["karbor_object.data"].(map[string]any)["provider_id"] = unknown
		exception(t, call(t, c, "protect", memberA, args), "karbor.exception.ProviderNotFound")
		e = exception(t, call(t, c, "protect", memberA, map[string]any{"plan": nil, "checkpoint_properties": nil}), "karbor.exception.InvalidPlan")
		assert.Equal(t, "Invalid plan: the protection plan is None", e.Msg)
		e = exception(t, call(t, c, "show_checkpoint", memberA, map[string]any{"provider_id": noopID, "checkpoint_id": unknown}), "karbor.exception.CheckpointNotFound")
		assert.Equal(t, map[string]any{"checkpoint_id": unknown, "code": float64(404)}, e.Kwargs)
		exception(t, call(t, c, "restore", memberA, restoreArgs(unknown, projectA, map[string]any{})), "karbor.exception.CheckpointNotFound")
		exception(t, call(t, c, "list_checkpoints", memberA, map[string]any{"provider_id": noopID, "filters": nil}), "builtins.AttributeError")
		e = exception(t, call(t, c, "list_checkpoints", memberA, map[string]any{"provider_id": noopID, "filters": map[string]any{"start_date": "22-11-2026"}}), "builtins.ValueError")
		assert.Equal(t, "time data '22-11-2026' does not match format '%Y-%m-%d'", firstLine(e))
		exception(t, call(t, c, "show_checkpoint", memberA, map[string]any{"provider_id": noopID}), "builtins.TypeError")
	})

	t.Run("1000 resources", func(t *testing.T) {
		id := protect(t, c, memberA, "22222222-2222-4333-8444-555555555555", projectA, 1000)
		waitStatus(t, c, memberA, id, "available")
		var shown struct {
			ResourceGraph string `json:"resource_graph"`
		}
		require.NoError(t, json.Unmarshal(result(t, call(t, c, "show_checkpoint", memberA, map[string]any{"provider_id": noopID, "checkpoint_id": id})), &shown))
		var graph []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(shown.ResourceGraph), &graph))
		var nodes map[string]any
		require.NoError(t, json.Unmarshal(graph[0], &nodes))
		assert.Len(t, nodes, 1000)
	})
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// firstLine is the message of a re-created builtin exception: oslo
// rebuilds it with the message followed by the remote traceback as its
// argument.
func firstLine(e *rpctest.PyException) string {
	if len(e.Args) == 0 {
		return ""
	}
	msg, _ := e.Args[0].(string)
	line, _, _ := strings.Cut(msg, "\n")
	return line
}
