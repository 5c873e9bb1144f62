package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
	"github.com/gokarbor/karbor-protection/rpc"
)

// isRemote reports whether err is the karbor exception class.
func isRemote(err error, class string) bool {
	var re *rpc.RemoteError
	return errors.As(err, &re) && re.Class == class
}

// rowsOf picks the keys of every object as a row.
func rowsOf(objs []map[string]any, keys ...string) [][]any {
	rows := make([][]any, len(objs))
	for i, o := range objs {
		rows[i] = make([]any, len(keys))
		for j, k := range keys {
			rows[i][j] = o[k]
		}
	}
	return rows
}

// showObject prints an object's fields: those of order first, then any
// other, sorted.
func (s *session) showObject(o map[string]any, order ...string) error {
	var fields []string
	var values []any
	for _, k := range order {
		if v, ok := o[k]; ok {
			fields, values = append(fields, k), append(values, v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o)) {
		if !slices.Contains(order, k) {
			fields, values = append(fields, k), append(values, o[k])
		}
	}
	return s.printRecord(fields, values)
}

var noPaging = map[string]any{"marker": nil, "limit": nil, "sort_keys": nil, "sort_dirs": nil, "filters": nil}

func providerList(ctx context.Context, s *session, _ []string, _ *cmdFlags) error {
	var ps []map[string]any
	if err := s.call(ctx, "list_providers", noPaging, &ps); err != nil {
		return err
	}
	return s.printList([]string{"Id", "Name", "Description"}, rowsOf(ps, "id", "name", "description"))
}

func providerShow(ctx context.Context, s *session, args []string, _ *cmdFlags) error {
	var p map[string]any
	if err := s.call(ctx, "show_provider", map[string]any{"provider_id": args[0]}, &p); err != nil {
		return err
	}
	return s.showObject(p, "id", "name", "description", "extended_info_schema")
}

func protectableList(ctx context.Context, s *session, _ []string, _ *cmdFlags) error {
	var types []string
	if err := s.call(ctx, "list_protectable_types", map[string]any{}, &types); err != nil {
		return err
	}
	rows := make([][]any, len(types))
	for i, t := range types {
		rows[i] = []any{t}
	}
	return s.printList([]string{"Protectable type"}, rows)
}

func protectableShow(ctx context.Context, s *session, args []string, _ *cmdFlags) error {
	var t map[string]any
	if err := s.call(ctx, "show_protectable_type", map[string]any{"protectable_type": args[0]}, &t); err != nil {
		return err
	}
	return s.showObject(t, "name", "dependent_types")
}

func instanceList(ctx context.Context, s *session, args []string, _ *cmdFlags) error {
	a := maps.Clone(noPaging)
	a["protectable_type"], a["parameters"] = args[0], nil
	var is []map[string]any
	if err := s.call(ctx, "list_protectable_instances", a, &is); err != nil {
		return err
	}
	return s.printList([]string{"Id", "Type", "Name"}, rowsOf(is, "id", "type", "name"))
}

func instanceShow(ctx context.Context, s *session, args []string, _ *cmdFlags) error {
	var i map[string]any
	err := s.call(ctx, "show_protectable_instance", map[string]any{"protectable_type": args[0], "protectable_id": args[1], "parameters": nil}, &i)
	if err != nil {
		return err
	}
	return s.showObject(i, "id", "type", "name", "extra_info", "dependent_resources")
}

func checkpointListFlags(fs *flag.FlagSet, c *cmdFlags) {
	fs.StringVar(&c.planID, "plan-id", "", "Only the checkpoints of this plan")
	fs.StringVar(&c.startDate, "start-date", "", "Only checkpoints created on or after this day (YYYY-MM-DD)")
	fs.StringVar(&c.endDate, "end-date", "", "Only checkpoints created on or before this day (YYYY-MM-DD)")
	fs.StringVar(&c.filterProject, "project-id", "", "With --all-projects, only this project's checkpoints")
	fs.BoolVar(&c.allProjects, "all-projects", false, "Every project's checkpoints (admins only)")
	fs.StringVar(&c.marker, "marker", "", "Start after this checkpoint id (the last one of the previous page)")
	fs.IntVar(&c.limit, "limit", 0, "At most this many checkpoints (0: the service's default)")
	fs.StringVar(&c.sortDir, "sort-dir", "desc", "desc (newest first) or asc")
}

// checkpointColumns are the columns of a checkpoint listing, and how each
// is read from a checkpoint dict.
var checkpointColumns = []string{"Id", "Project id", "Status", "Plan id", "Plan name", "Created at"}

func checkpointRow(cp map[string]any) []any {
	plan, _ := cp["protection_plan"].(map[string]any)
	return []any{cp["id"], cp["project_id"], cp["status"], plan["id"], plan["name"], cp["created_at"]}
}

func checkpointList(ctx context.Context, s *session, args []string, c *cmdFlags) error {
	if c.sortDir != "asc" && c.sortDir != "desc" {
		return usagef("--sort-dir is asc or desc, not %q", c.sortDir)
	}
	if c.limit < 0 {
		return usagef("--limit must not be negative")
	}
	filters := map[string]any{}
	for k, v := range map[string]string{"plan_id": c.planID, "start_date": c.startDate, "end_date": c.endDate, "project_id": c.filterProject} {
		if v != "" {
			filters[k] = v
		}
	}
	a := map[string]any{"provider_id": args[0], "marker": nil, "limit": nil, "sort_keys": []string{"created_at"},
		"sort_dirs": []string{c.sortDir}, "filters": filters, "all_tenants": c.allProjects}
	if c.marker != "" {
		a["marker"] = c.marker
	}
	if c.limit > 0 {
		a["limit"] = c.limit
	}
	var cps []map[string]any
	if err := s.call(ctx, "list_checkpoints", a, &cps); err != nil {
		return err
	}
	rows := make([][]any, len(cps))
	for i, cp := range cps {
		rows[i] = checkpointRow(cp)
	}
	return s.printList(checkpointColumns, rows)
}

var checkpointFields = []string{"id", "project_id", "status", "protection_plan", "resource_graph", "extra_info", "created_at"}

func (s *session) showCheckpoint(ctx context.Context, providerID, id string) error {
	var cp map[string]any
	if err := s.call(ctx, "show_checkpoint", map[string]any{"provider_id": providerID, "checkpoint_id": id}, &cp); err != nil {
		return err
	}
	return s.showObject(cp, checkpointFields...)
}

func checkpointShow(ctx context.Context, s *session, args []string, _ *cmdFlags) error {
	return s.showCheckpoint(ctx, args[0], args[1])
}

func checkpointDelete(ctx context.Context, s *session, args []string, c *cmdFlags) error {
	if err := s.call(ctx, "delete", map[string]any{"provider_id": args[0], "checkpoint_id": args[1]}, nil); err != nil {
		return err
	}
	if !c.wait {
		return nil
	}
	src := s.follow(c, operationQuery("type", "delete", "checkpoint_id", args[1]), s.checkpointSource(args[0], args[1], c.waitInterval))
	return s.wait(ctx, "checkpoint "+args[1], src, oneOf("deleted"))
}

func checkpointResetState(ctx context.Context, s *session, args []string, c *cmdFlags) error {
	return s.call(ctx, "reset_state", map[string]any{"provider_id": args[0], "checkpoint_id": args[1], "state": c.state}, nil)
}

// planFromFile reads a plan as the API shows it ({"id", "name",
// "provider_id", "resources": [{"id", "type", "name", "extra_info"}],
// "parameters", ...}) and makes the Plan primitive karbor-api sends,
// checked by the decoder the service uses. project_id defaults to the
// caller's project, status to "suspended", description to null and
// parameters to {}.
func (s *session) planFromFile(path string) (*karbor.Primitive, *karbor.Plan, error) {
	data, err := readJSONFile(path)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range []string{"id", "name", "provider_id", "resources"} {
		if _, ok := data[k]; !ok {
			return nil, nil, usagef("%s: the plan has no %q", path, k)
		}
	}
	defaults := map[string]any{"description": nil, "project_id": s.rc.ProjectID, "status": "suspended", "parameters": map[string]any{}}
	for k, v := range defaults {
		if _, ok := data[k]; !ok {
			data[k] = v
		}
	}
	prim := karbor.NewPrimitive("Plan", data)
	raw, err := json.Marshal(prim)
	if err != nil {
		return nil, nil, usagef("%s: %v", path, err)
	}
	plan, err := karbor.DecodePlan(raw)
	if err != nil {
		return nil, nil, usagef("%s: %v", path, err)
	}
	return prim, plan, nil
}

// parseParameters reads --parameters: a JSON object of objects, or {}.
func parseParameters(text string) (map[string]any, error) {
	if text == "" {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := decodeJSON([]byte(text), &m); err != nil || m == nil {
		return nil, usagef("--parameters is not a JSON object: %q", text)
	}
	return m, nil
}

func protect(ctx context.Context, s *session, args []string, c *cmdFlags) error {
	prim, plan, err := s.planFromFile(args[0])
	if err != nil {
		return err
	}
	extra := map[string]any{"created_by": "manual"}
	if c.extraInfo != "" {
		var more map[string]any
		if err := decodeJSON([]byte(c.extraInfo), &more); err != nil || more == nil {
			return usagef("--extra-info is not a JSON object: %q", c.extraInfo)
		}
		maps.Copy(extra, more)
	}
	extraText, err := python.MarshalJSON(extra)
	if err != nil {
		return usagef("--extra-info: %v", err)
	}
	props := map[string]any{
		"project_id": plan.ProjectID, "status": "protecting", "provider_id": plan.ProviderID,
		"protection_plan": map[string]any{"id": plan.ID, "name": plan.Name, "resources": prim.Data["resources"]},
		"extra_info":      string(extraText),
	}
	var id string
	if err := s.call(ctx, "protect", map[string]any{"plan": prim, "checkpoint_properties": props}, &id); err != nil {
		return err
	}
	if c.wait {
		src := s.follow(c, operationQuery("type", "protect", "checkpoint_id", id), s.checkpointSource(plan.ProviderID, id, c.waitInterval))
		err := s.wait(ctx, "checkpoint "+id, src, oneOf("available"))
		var wf *waitFailedError
		if err != nil && !errors.As(err, &wf) {
			return err
		}
		// Show the failed checkpoint too, then fail.
		if serr := s.showCheckpoint(ctx, plan.ProviderID, id); serr != nil {
			return serr
		}
		return err
	}
	return s.showCheckpoint(ctx, plan.ProviderID, id)
}

// operationTarget is the Restore or Verification primitive of a restore or
// verification of a checkpoint, as karbor-api creates it, checked by the
// decoder the service uses.
func (s *session) operationTarget(class, id string, args []string, params map[string]any, created time.Time, restoreTarget string) (*karbor.Primitive, error) {
	data := map[string]any{
		"id": id, "project_id": s.rc.ProjectID, "provider_id": args[0], "checkpoint_id": args[1],
		"parameters": params, "status": karbor.RestoreStatusInProgress, "resources_status": map[string]any{}, "resources_reason": map[string]any{},
		"created_at": created.UTC().Format("2006-01-02T15:04:05Z"), "updated_at": nil, "deleted_at": nil, "deleted": false,
	}
	if class == "Restore" {
		data["restore_target"] = nil
		if restoreTarget != "" {
			data["restore_target"] = restoreTarget
		}
	}
	prim := karbor.NewPrimitive(class, data)
	raw, err := json.Marshal(prim)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if class == "Verification" {
		_, err = karbor.DecodeVerification(raw)
	} else {
		_, err = karbor.DecodeRestore(raw)
	}
	if err != nil {
		return nil, usagef("%v", err)
	}
	return prim, nil
}

// targetOp is what differs between a restore and a verification.
type targetOp struct {
	class, method string
	idKey         string                                      // what names it in /operations
	restoreTarget string                                      // restores only
	args          func(prim *karbor.Primitive) map[string]any // the call's arguments
	create        func(c *db.Client, ctx context.Context, t db.Target) error
	fail          func(c *db.Client, ctx context.Context, id string) error
	read          func(c *db.Client, ctx context.Context, id string) (db.TargetState, error)
}

var (
	restoreOp = targetOp{class: "Restore", method: "restore", idKey: "restore_id",
		create: (*db.Client).CreateRestore, fail: (*db.Client).FailRestore, read: (*db.Client).Restore}
	verificationOp = targetOp{class: "Verification", method: "verification", idKey: "verification_id",
		create: (*db.Client).CreateVerification, fail: (*db.Client).FailVerification, read: (*db.Client).Verification}
)

// startTarget starts a restore or verification as karbor-api does: with
// karbor's database configured it creates the row (in_progress) first and
// marks it fail when the call fails; the service then records the progress
// there, which is what --wait follows. Without a database only the call is
// made, and there is nothing to follow.
func (s *session) startTarget(ctx context.Context, op targetOp, args []string, params map[string]any, c *cmdFlags) error {
	client, err := s.database()
	if err != nil {
		return err
	}
	if c.wait && client == nil && s.operationsURL(c) == "" {
		return usagef("--wait follows the %s in the service's /operations (--operations-url) or its row in karbor's database "+
			"([database] connection in the --config-file): give either", op.method)
	}
	id, created := uuid.NewString(), time.Now().UTC()
	prim, err := s.operationTarget(op.class, id, args, params, created, op.restoreTarget)
	if err != nil {
		return err
	}
	if client != nil {
		err := op.create(client, ctx, db.Target{ID: id, ProjectID: s.rc.ProjectID, ProviderID: args[0], CheckpointID: args[1],
			RestoreTarget: op.restoreTarget, Parameters: params, CreatedAt: created})
		if err != nil {
			return err
		}
	}
	if err := s.call(ctx, op.method, op.args(prim), nil); err != nil {
		if client != nil {
			if ferr := op.fail(client, context.WithoutCancel(ctx), id); ferr != nil {
				return errors.Join(err, ferr)
			}
		}
		return err
	}
	status, waitErr := "started", error(nil)
	if c.wait {
		var fallback *statusPoller
		if client != nil {
			total := s.resourceCount(ctx, args[0], args[1])
			read := func(ctx context.Context) (db.TargetState, error) { return op.read(client, ctx, id) }
			fallback = rowSource(read, total, c.waitInterval)
		}
		src := s.follow(c, operationQuery(op.idKey, id), fallback)
		waitErr = s.wait(ctx, op.method+" "+id, src, oneOf(karbor.RestoreStatusSuccess))
		var wf *waitFailedError
		switch {
		case errors.As(waitErr, &wf):
			status = wf.status
		case waitErr != nil:
			return waitErr
		default:
			status = karbor.RestoreStatusSuccess
		}
	}
	d := prim.Data
	fields := []string{"id", "provider_id", "checkpoint_id", "parameters", "status"}
	values := []any{d["id"], d["provider_id"], d["checkpoint_id"], d["parameters"], status}
	if op.class == "Restore" {
		fields = slices.Insert(fields, 3, "restore_target")
		values = slices.Insert(values, 3, d["restore_target"])
	}
	if err := s.printRecord(fields, values); err != nil {
		return err
	}
	return waitErr
}

// resourceCount is how many resources the checkpoint's stored graph holds
// (0 when it cannot tell), the total of a restore's or verification's
// progress.
func (s *session) resourceCount(ctx context.Context, providerID, checkpointID string) int {
	var cp struct {
		Graph *string `json:"resource_graph"`
	}
	if s.call(ctx, "show_checkpoint", map[string]any{"provider_id": providerID, "checkpoint_id": checkpointID}, &cp) != nil || cp.Graph == nil {
		return 0
	}
	// karbor's packed graph: [{"0x0": [type, id, name, extra], ...}, [edges]].
	var packed []json.RawMessage
	var nodes map[string]json.RawMessage
	if json.Unmarshal([]byte(*cp.Graph), &packed) != nil || len(packed) == 0 || json.Unmarshal(packed[0], &nodes) != nil {
		return 0
	}
	return len(nodes)
}

func restore(ctx context.Context, s *session, args []string, c *cmdFlags) error {
	params, err := parseParameters(c.parameters)
	if err != nil {
		return err
	}
	var auth any
	if c.restoreUser != "" || c.restorePassword != "" {
		auth = map[string]any{"type": "password", "username": c.restoreUser, "password": c.restorePassword}
	}
	op := restoreOp
	op.restoreTarget = c.restoreTarget
	op.args = func(prim *karbor.Primitive) map[string]any {
		return map[string]any{"restore": prim, "restore_auth": auth}
	}
	return s.startTarget(ctx, op, args, params, c)
}

func verify(ctx context.Context, s *session, args []string, c *cmdFlags) error {
	params, err := parseParameters(c.parameters)
	if err != nil {
		return err
	}
	op := verificationOp
	op.args = func(prim *karbor.Primitive) map[string]any { return map[string]any{"verification": prim} }
	return s.startTarget(ctx, op, args, params, c)
}

func copyPlan(ctx context.Context, s *session, args []string, c *cmdFlags) error {
	prim, plan, err := s.planFromFile(args[0])
	if err != nil {
		return err
	}
	var pairs []map[string]any
	if err := s.call(ctx, "copy", map[string]any{"plan": prim}, &pairs); err != nil {
		return err
	}
	if c.wait {
		for _, p := range pairs {
			id := fmt.Sprint(p["checkpoint_copy_id"])
			src := s.follow(c, operationQuery("type", "copy", "checkpoint_id", id), s.checkpointSource(plan.ProviderID, id, c.waitInterval))
			if err := s.wait(ctx, "checkpoint "+id, src, oneOf("available")); err != nil {
				return err
			}
		}
	}
	return s.printList([]string{"Source checkpoint", "Copy checkpoint"}, rowsOf(pairs, "checkpoint_protect_id", "checkpoint_copy_id"))
}
