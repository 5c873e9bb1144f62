package manager

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const unknownID = "00000000-0000-0000-0000-000000000000"

// TestFailures checks, method by method, that each kind of bad request gets
// the exception the Python service raises, with its exact text.
func TestFailures(t *testing.T) {
	e := newEnv(t, envOptions{})
	available := e.protect(t, noopID, projectA, 2)
	e.waitStatus(t, noopID, available, "available")
	plan := planPrimitive("p1", noopID, projectA, 1, "")
	restore := func(params map[string]any) map[string]any {
		return map[string]any{"restore": targetPrimitive("Restore", noopID, available, projectA, params), "restore_auth": nil}
	}
	verify := func(id string, params map[string]any) map[string]any {
		return map[string]any{"verification": targetPrimitive("Verification", noopID, id, projectA, params)}
	}
	show := func(id string) map[string]any { return map[string]any{"provider_id": noopID, "checkpoint_id": id} }
	list := func(filters any, extra ...any) map[string]any {
		a := map[string]any{"provider_id": noopID, "filters": filters}
		for i := 0; i+1 < len(extra); i += 2 {
			a[extra[i].(string)] = extra[i+1]
		}
		return a
	}
	for _, tc := range []struct {
		name, method string
		ctx          map[string]any
		args         map[string]any
		class, msg   string
	}{
		{"protect null plan", "protect", memberOf(projectA), map[string]any{"plan": nil, "checkpoint_properties": nil},
			"karbor.exception.InvalidPlan", "Invalid plan: the protection plan is None"},
		{"protect unknown provider", "protect", memberOf(projectA), map[string]any{"plan": planPrimitive("p1", unknownID, projectA, 1, "")},
			"karbor.exception.ProviderNotFound", "Provider 00000000-0000-0000-0000-000000000000 could not be found."},
		{"protect properties not a dict", "protect", memberOf(projectA), map[string]any{"plan": plan, "checkpoint_properties": []any{1}},
			"karbor.exception.FlowError", "Flow: protect, Error: Error creating checkpoint"},
		{"protect type without plugin", "protect", memberOf(projectA), map[string]any{"plan": planPrimitive("p1", noopID, projectA, 1, "OS::Foo::Bar")},
			"karbor.exception.FlowError", "Flow: protect, Error: Protection Plugin for OS::Foo::Bar could not be found."},
		{"protect plain dict plan", "protect", memberOf(projectA), map[string]any{"plan": map[string]any{"id": "x"}},
			"karbor.exception.InvalidPlan", ""},
		{"protect missing plan", "protect", memberOf(projectA), map[string]any{},
			"builtins.TypeError", "ProtectionManager.protect() missing 1 required positional argument: 'plan'"},
		{"copy null plan", "copy", memberOf(projectA), map[string]any{"plan": nil},
			"karbor.exception.InvalidPlan", "Invalid plan: The protection plan is None"},
		{"copy unknown provider", "copy", memberOf(projectA), map[string]any{"plan": planPrimitive("p1", unknownID, projectA, 1, "")},
			"karbor.exception.ProviderNotFound", "Provider 00000000-0000-0000-0000-000000000000 could not be found."},
		{"restore null", "restore", memberOf(projectA), map[string]any{"restore": nil, "restore_auth": nil},
			"builtins.TypeError", "'NoneType' object is not subscriptable"},
		{"restore without restore_auth", "restore", memberOf(projectA), map[string]any{"restore": nil},
			"builtins.TypeError", "ProtectionManager.restore() missing 1 required positional argument: 'restore_auth'"},
		{"restore schema-less type", "restore", memberOf(projectA), restore(map[string]any{"OS::Nova::Server": map[string]any{"restore_name": "x"}}),
			"builtins.KeyError", "'properties'"},
		{"restore key with two #", "restore", memberOf(projectA), restore(map[string]any{"OS::Nova::Server#a#b": map[string]any{}}),
			"builtins.ValueError", "too many values to unpack (expected 2)"},
		{"restore id not a uuid", "restore", memberOf(projectA), restore(map[string]any{"OS::Nova::Server#abc": map[string]any{}}),
			"karbor.exception.InvalidInput", "Invalid input received: The resource_id must be a uuid."},
		{"restore unknown type", "restore", memberOf(projectA), restore(map[string]any{"OS::Foo::Bar": map[string]any{}}),
			"karbor.exception.InvalidInput", "Invalid input received: The key of restore parameters is invalid."},
		{"restore unknown checkpoint", "restore", memberOf(projectA), map[string]any{"restore": targetPrimitive("Restore", noopID, unknownID, projectA, nil), "restore_auth": nil},
			"karbor.exception.CheckpointNotFound", "Checkpoint 00000000-0000-0000-0000-000000000000 could not be found."},
		{"restore unknown provider", "restore", memberOf(projectA), map[string]any{"restore": targetPrimitive("Restore", unknownID, available, projectA, nil), "restore_auth": nil},
			"karbor.exception.ProviderNotFound", "Provider 00000000-0000-0000-0000-000000000000 could not be found."},
		{"restore other project", "restore", memberOf(projectB), restore(nil),
			"karbor.exception.AccessCheckpointNotAllowed", "Access checkpoint " + available + " is not allowed"},
		{"verification with parameters", "verification", memberOf(projectA), verify(available, map[string]any{"OS::Nova::Server": map[string]any{}}),
			"karbor.exception.InvalidInput", "Invalid input received: The verify schema of plugin must be provided."},
		{"verification unknown checkpoint", "verification", memberOf(projectA), verify(unknownID, nil),
			"karbor.exception.CheckpointNotFound", "Checkpoint 00000000-0000-0000-0000-000000000000 could not be found."},
		{"delete unknown checkpoint", "delete", memberOf(projectA), show(unknownID),
			"karbor.exception.InvalidInput", "Invalid input received: Invalid checkpoint_id or provider_id"},
		{"delete unknown provider", "delete", memberOf(projectA), map[string]any{"provider_id": unknownID, "checkpoint_id": available},
			"karbor.exception.ProviderNotFound", "Provider 00000000-0000-0000-0000-000000000000 could not be found."},
		{"delete other project", "delete", memberOf(projectB), show(available),
			"karbor.exception.DeleteCheckpointNotAllowed", "Delete checkpoint " + available + " is not allowed"},
		{"reset other project", "reset_state", memberOf(projectB), map[string]any{"provider_id": noopID, "checkpoint_id": available, "state": "error"},
			"karbor.exception.AccessCheckpointNotAllowed", "Access checkpoint " + available + " is not allowed"},
		{"reset unknown checkpoint", "reset_state", memberOf(projectA), map[string]any{"provider_id": noopID, "checkpoint_id": unknownID, "state": "error"},
			"karbor.exception.CheckpointNotFound", "Checkpoint 00000000-0000-0000-0000-000000000000 could not be found."},
		{"show other project", "show_checkpoint", memberOf(projectB), show(available),
			"karbor.exception.AccessCheckpointNotAllowed", "Access checkpoint " + available + " is not allowed"},
		{"show unknown checkpoint", "show_checkpoint", memberOf(projectA), show(unknownID),
			"karbor.exception.CheckpointNotFound", "Checkpoint 00000000-0000-0000-0000-000000000000 could not be found."},
		{"show id outside the key alphabet", "show_checkpoint", memberOf(projectA), show("a b"),
			"karbor.exception.InvalidParameterValue", "Invalid section. Must begin and end with a slash, and contain valid characters"},
		{"show unknown provider", "show_checkpoint", memberOf(projectA), map[string]any{"provider_id": unknownID, "checkpoint_id": available},
			"karbor.exception.ProviderNotFound", "Provider 00000000-0000-0000-0000-000000000000 could not be found."},
		{"show missing argument", "show_checkpoint", memberOf(projectA), map[string]any{"provider_id": noopID},
			"builtins.TypeError", "ProtectionManager.show_checkpoint() missing 1 required positional argument: 'checkpoint_id'"},
		{"show unexpected argument", "show_checkpoint", memberOf(projectA), map[string]any{"provider_id": noopID, "checkpoint_id": available, "x": 1},
			"builtins.TypeError", "ProtectionManager.show_checkpoint() got an unexpected keyword argument 'x'"},
		{"list null filters", "list_checkpoints", memberOf(projectA), list(nil),
			"builtins.AttributeError", "'NoneType' object has no attribute 'get'"},
		{"list filters not a dict", "list_checkpoints", memberOf(projectA), list([]any{}),
			"builtins.AttributeError", "'list' object has no attribute 'get'"},
		{"list bad start date", "list_checkpoints", memberOf(projectA), list(map[string]any{"start_date": "2026-13-01"}),
			"builtins.ValueError", "time data '2026-13-01' does not match format '%Y-%m-%d'"},
		{"list bad end date", "list_checkpoints", memberOf(projectA), list(map[string]any{"end_date": "2026-01-01T00"}),
			"builtins.ValueError", "unconverted data remains: T00"},
		{"list date not a string", "list_checkpoints", memberOf(projectA), list(map[string]any{"start_date": 20260101}),
			"builtins.TypeError", "strptime() argument 1 must be str, not int"},
		{"list bad date before unknown provider", "list_checkpoints", memberOf(projectA), map[string]any{"provider_id": unknownID, "filters": map[string]any{"start_date": "x"}},
			"builtins.ValueError", "time data 'x' does not match format '%Y-%m-%d'"},
		{"list empty sort_dirs", "list_checkpoints", memberOf(projectA), list(map[string]any{}, "sort_dirs", []any{}),
			"builtins.IndexError", "list index out of range"},
		{"list unknown marker", "list_checkpoints", memberOf(projectA), list(map[string]any{}, "marker", unknownID),
			"karbor.exception.BankGetObjectFailed", ""},
		{"list unknown provider", "list_checkpoints", memberOf(projectA), map[string]any{"provider_id": unknownID, "filters": map[string]any{}},
			"karbor.exception.ProviderNotFound", "Provider 00000000-0000-0000-0000-000000000000 could not be found."},
		{"show unknown provider dict", "show_provider", memberOf(projectA), map[string]any{"provider_id": unknownID},
			"karbor.exception.ProviderNotFound", "Provider 00000000-0000-0000-0000-000000000000 could not be found."},
		{"list providers filters not a dict", "list_providers", memberOf(projectA), map[string]any{"filters": []any{1}},
			"builtins.AttributeError", "'list' object has no attribute 'items'"},
		{"show unknown protectable type", "show_protectable_type", memberOf(projectA), map[string]any{"protectable_type": "OS::Foo::Bar"},
			"karbor.exception.ProtectableTypeNotFound", "ProtectableType OS::Foo::Bar could not be found."},
		{"list instances without a type", "list_protectable_instances", memberOf(projectA), map[string]any{},
			"builtins.KeyError", "None"},
		{"list instances of an unknown type", "list_protectable_instances", memberOf(projectA), map[string]any{"protectable_type": "OS::Foo::Bar"},
			"builtins.KeyError", "'OS::Foo::Bar'"},
		{"list volumes without OpenStack", "list_protectable_instances", memberOf(projectA), map[string]any{"protectable_type": "OS::Cinder::Volume"},
			"karbor.exception.ListProtectableResourceFailed", "List protectable resources of type OS::Cinder::Volume failed: Authorization for trustee is failed "},
		{"start with plan", "start", memberOf(projectA), map[string]any{"plan": nil},
			"builtins.TypeError", "ProtectionManager.start() got multiple values for argument 'plan'"},
		{"suspend with another argument", "suspend", memberOf(projectA), map[string]any{"x": 1},
			"builtins.TypeError", "ProtectionManager.suspend() got an unexpected keyword argument 'x'"},
		{"execute_operation unknown action", "execute_operation", memberOf(projectA), map[string]any{"backup_plan": plan, "action": "copy"},
			"karbor.exception.InvalidInput", "Invalid input received: action must be protect or restore, not copy"},
		{"execute_operation protect null plan", "execute_operation", memberOf(projectA), map[string]any{"backup_plan": nil, "action": "protect"},
			"karbor.exception.InvalidPlan", "Invalid plan: the protection plan is None"},
		{"delete_checkpoint unknown checkpoint", "delete_checkpoint", memberOf(projectA), show(unknownID),
			"karbor.exception.InvalidInput", "Invalid input received: Invalid checkpoint_id or provider_id"},
		{"context of the wrong type", "show_provider", map[string]any{"project_id": 5, "user_id": "u"}, map[string]any{"provider_id": noopID},
			"builtins.RuntimeError", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := e.call(t, tc.method, tc.ctx, tc.args)
			if tc.class == "builtins.RuntimeError" { // a Go error without a Python face
				require.Error(t, o.Err)
				return
			}
			class, msg := face(t, o)
			assert.Equal(t, tc.class, class)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, msg)
			}
		})
	}
	// None of the refused calls touched the checkpoint.
	assert.Equal(t, "available", e.status(t, noopID, available))
}

// TestCheckpointStatusRules covers the status checks of restore,
// verification, delete and reset_state.
func TestCheckpointStatusRules(t *testing.T) {
	e := newEnv(t, envOptions{gate: true})
	held := e.protect(t, gateID, projectA, 1) // its protect hook waits on the gate
	<-e.gate.started
	assert.Equal(t, "protecting", e.status(t, gateID, held))

	restore := map[string]any{"restore": targetPrimitive("Restore", gateID, held, projectA, nil), "restore_auth": nil}
	class, msg := face(t, e.call(t, "restore", memberOf(projectA), restore))
	assert.Equal(t, "karbor.exception.CheckpointNotAvailable", class)
	assert.Equal(t, "The checkpoint "+held+" is not available", msg)

	class, _ = face(t, e.call(t, "verification", memberOf(projectA), map[string]any{"verification": targetPrimitive("Verification", gateID, held, projectA, nil)}))
	assert.Equal(t, "karbor.exception.CheckpointNotAvailable", class)

	class, msg = face(t, e.call(t, "delete", memberOf(projectA), map[string]any{"provider_id": gateID, "checkpoint_id": held}))
	assert.Equal(t, "karbor.exception.CheckpointNotBeDeleted", class)
	assert.Equal(t, "The checkpoint "+held+" can not be deleted.", msg)

	class, msg = face(t, e.call(t, "reset_state", memberOf(projectA), map[string]any{"provider_id": gateID, "checkpoint_id": held, "state": "available"}))
	assert.Equal(t, "karbor.exception.CheckpointNotBeReset", class)
	assert.Equal(t, "The checkpoint "+held+" can not be reset.", msg)

	e.gate.release()
	e.waitStatus(t, gateID, held, "available")
}

// TestAdminAndProjects: an admin reaches every project's checkpoints
// (TestAccessMatrix has every method).
func TestAdminAndProjects(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.protect(t, noopID, projectA, 1)
	e.waitStatus(t, noopID, id, "available")

	requireOK(t, e.call(t, "show_checkpoint", admin(projectB), map[string]any{"provider_id": noopID, "checkpoint_id": id}))
	requireOK(t, e.call(t, "verification", admin(projectB), map[string]any{"verification": targetPrimitive("Verification", noopID, id, projectB, nil)}))
	requireOK(t, e.call(t, "reset_state", admin(projectB), map[string]any{"provider_id": noopID, "checkpoint_id": id, "state": "error"}))
	assert.Equal(t, "error", e.status(t, noopID, id))
	requireOK(t, e.call(t, "delete", admin(projectB), map[string]any{"provider_id": noopID, "checkpoint_id": id}))
	e.waitStatus(t, noopID, id, "deleted")
}

// TestRestoreAndVerificationRecord: both run in the background and record
// their status in their database rows.
func TestRestoreAndVerificationRecord(t *testing.T) {
	e := newEnv(t, envOptions{})
	id := e.protect(t, noopID, projectA, 3)
	e.waitStatus(t, noopID, id, "available")
	res := e.call(t, "restore", memberOf(projectA), map[string]any{"restore": targetPrimitive("Restore", noopID, id, projectA, map[string]any{}), "restore_auth": map[string]any{"x": 1}})
	assert.JSONEq(t, "null", string(requireOK(t, res)))
	require.Eventually(t, func() bool {
		r, ok := e.rec.Restore("800fe32c-c20a-4e5f-a776-6b89bab80234")
		return ok && len(r.Statuses) > 0 && r.Statuses[len(r.Statuses)-1] == "success"
	}, 10e9, 2e6)
	res = e.call(t, "verification", memberOf(projectA), map[string]any{"verification": targetPrimitive("Verification", noopID, id, projectA, nil)})
	assert.JSONEq(t, "null", string(requireOK(t, res)))
	require.Eventually(t, func() bool {
		r, ok := e.rec.Verification("800fe32c-c20a-4e5f-a776-6b89bab80234")
		return ok && len(r.Statuses) > 0 && r.Statuses[len(r.Statuses)-1] == "success"
	}, 10e9, 2e6)
	// The protect row is updated after the checkpoint is committed (as
	// in the Python flow), so "available" in the bank does not yet mean
	// "available" in the row.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var types []string
		for _, op := range e.rec.Operations() {
			types = append(types, op.Type+":"+op.Status())
		}
		assert.Equal(c, []string{"protect:available", "restore:success", "verify:success"}, types)
	}, 10e9, 2e6)
}

// TestCopy: with the noop plugin a copy of an available checkpoint
// completes (docs/compatibility.md P8), and a finished copy is not copied
// again.
func TestCopy(t *testing.T) {
	e := newEnv(t, envOptions{})
	plan := planPrimitive("632d8f7d-e2c3-4f31-82ea-900d8afb9880", noopID, projectA, 2, "")
	assert.JSONEq(t, "[]", string(requireOK(t, e.call(t, "copy", memberOf(projectA), map[string]any{"plan": plan}))))
	src := e.protect(t, noopID, projectA, 2)
	e.waitStatus(t, noopID, src, "available")
	var pairs []map[string]string
	require.NoError(t, json.Unmarshal(requireOK(t, e.call(t, "copy", memberOf(projectA), map[string]any{"plan": plan})), &pairs))
	require.Len(t, pairs, 1)
	assert.Equal(t, src, pairs[0]["checkpoint_protect_id"])
	cp := pairs[0]["checkpoint_copy_id"]
	e.waitStatus(t, noopID, cp, "available")
	var shown struct {
		ExtraInfo string `json:"extra_info"`
	}
	require.NoError(t, json.Unmarshal(requireOK(t, e.call(t, "show_checkpoint", memberOf(projectA), map[string]any{"provider_id": noopID, "checkpoint_id": cp})), &shown))
	assert.JSONEq(t, `{"copy_status": "finished"}`, shown.ExtraInfo)

	// An admin of another project copies the checkpoints of their own
	// project only: none of the plan's.
	assert.JSONEq(t, "[]", string(requireOK(t, e.call(t, "copy", admin(projectB), map[string]any{"plan": plan}))))
	// The source is copied again, the finished copy is not.
	require.NoError(t, json.Unmarshal(requireOK(t, e.call(t, "copy", memberOf(projectA), map[string]any{"plan": plan})), &pairs))
	require.Len(t, pairs, 1)
	assert.Equal(t, src, pairs[0]["checkpoint_protect_id"])
}

// TestOriginalDesignCalls: execute_operation and delete_checkpoint serve
// protect, restore and delete.
func TestOriginalDesignCalls(t *testing.T) {
	e := newEnv(t, envOptions{})
	var id string
	res := requireOK(t, e.call(t, "execute_operation", memberOf(projectA), map[string]any{
		"backup_plan": planPrimitive("p1", noopID, projectA, 2, ""), "action": "protect"}))
	require.NoError(t, json.Unmarshal(res, &id))
	e.waitStatus(t, noopID, id, "available")
	res = requireOK(t, e.call(t, "execute_operation", memberOf(projectA), map[string]any{
		"backup_plan": targetPrimitive("Restore", noopID, id, projectA, nil), "action": "restore"}))
	assert.JSONEq(t, "null", string(res))
	res = requireOK(t, e.call(t, "delete_checkpoint", memberOf(projectA), map[string]any{"provider_id": noopID, "checkpoint_id": id}))
	assert.JSONEq(t, "null", string(res))
	e.waitStatus(t, noopID, id, "deleted")
	requireOK(t, e.call(t, "start", memberOf(projectA), nil))
	requireOK(t, e.call(t, "suspend", memberOf(projectA), nil))
}

// TestCatalogMethods covers the protectable and provider listings with
// their Python defaults.
func TestCatalogMethods(t *testing.T) {
	e := newEnv(t, envOptions{gate: true})
	var providers []struct{ ID string }
	plain := requireOK(t, e.call(t, "list_providers", memberOf(projectA), nil))
	require.NoError(t, json.Unmarshal(plain, &providers))
	require.Len(t, providers, 2)
	assert.Equal(t, gateID, providers[0].ID) // sorted by id
	// The plain listing, encoded once, is what listing every provider
	// one by one gives.
	assert.Equal(t, string(requireOK(t, e.call(t, "list_providers", memberOf(projectA), map[string]any{"marker": "zzz"}))), string(plain))
	for _, tc := range []struct {
		name string
		args map[string]any
		ids  []string
	}{
		{"marker", map[string]any{"marker": gateID}, []string{noopID}},
		{"unknown marker", map[string]any{"marker": "zzz"}, []string{gateID, noopID}},
		{"limit", map[string]any{"limit": 1}, []string{gateID}},
		{"limit zero", map[string]any{"limit": 0}, []string{gateID, noopID}},
		{"filter name", map[string]any{"filters": map[string]any{"name": "No-Op Provider"}}, []string{noopID}},
		{"unknown filter key", map[string]any{"filters": map[string]any{"status": "x"}}, []string{gateID, noopID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []struct{ ID string }
			require.NoError(t, json.Unmarshal(requireOK(t, e.call(t, "list_providers", memberOf(projectA), tc.args)), &got))
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			assert.Equal(t, tc.ids, ids)
		})
	}
	assert.JSONEq(t, "null", string(requireOK(t, e.call(t, "show_protectable_instance", memberOf(projectA),
		map[string]any{"protectable_type": "OS::Neutron::Network", "protectable_id": "other"}))))
	assert.JSONEq(t, `[]`, string(requireOK(t, e.call(t, "list_protectable_dependents", memberOf(projectA),
		map[string]any{"protectable_id": "i", "protectable_type": "OS::Nova::Server", "protectable_name": nil}))))
	var project []map[string]any
	require.NoError(t, json.Unmarshal(requireOK(t, e.call(t, "list_protectable_instances", memberOf(projectA),
		map[string]any{"protectable_type": "OS::Keystone::Project", "marker": 5, "filters": "ignored"})), &project))
	assert.Equal(t, []map[string]any{{"id": projectA, "name": "demo", "extra_info": nil}}, project)
}

// TestCopyFlowErrorIsWrappedTwice: a copy whose flow cannot be built answers
// with the FlowError the Python manager raises, wrapped twice ("Flow: copy,
// Error: Flow: copy, Error: …"), and the copies it made end in error.
func TestCopyFlowErrorIsWrappedTwice(t *testing.T) {
	e := newEnv(t, envOptions{})
	src := e.protect(t, noopID, projectA, 1) // plan 632d8f7d-…
	e.waitStatus(t, noopID, src, "available")
	plan := planPrimitive("632d8f7d-e2c3-4f31-82ea-900d8afb9880", noopID, projectA, 1, "OS::Foo::Bar")
	class, msg := face(t, e.call(t, "copy", memberOf(projectA), map[string]any{"plan": plan}))
	assert.Equal(t, "karbor.exception.FlowError", class)
	assert.Equal(t, "Flow: copy, Error: Flow: copy, Error: Protection Plugin for OS::Foo::Bar could not be found.", msg)
	var listed []struct{ ID, Status string }
	require.NoError(t, json.Unmarshal(requireOK(t, e.call(t, "list_checkpoints", memberOf(projectA),
		map[string]any{"provider_id": noopID, "filters": map[string]any{}})), &listed))
	require.Len(t, listed, 2, "the source and the copy that could not be built")
	for _, cp := range listed {
		if cp.ID != src {
			assert.Equal(t, "error", cp.Status, "a copy that cannot be built does not stay wait_copying")
		}
	}
}
