package manager

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/pkg/python"
	"github.com/gokarbor/karbor-protection/providers"
)

// The five RPCs that start background operations, plus the original
// design's execute_operation and delete_checkpoint.

type protectArgs struct {
	Plan                 json.RawMessage `json:"plan"`
	CheckpointProperties json.RawMessage `json:"checkpoint_properties" rpc:"optional"`
}

// protect decodes the plan and checkpoint_properties, checks the caller
// may protect into the plan's project, and has the provider create the
// checkpoint and build its protect flow, which it starts
// (docs/karbor-behaviour.md#protect). The checkpoint's project, provider
// and plan come from the plan; checkpoint_properties gives only its status
// and extra_info.
func (m *Manager) protect(ctx context.Context, rc *karbor.RequestContext, a protectArgs) (any, error) {
	log := logctx.From(ctx)
	log.Info("Starting protection service:protect action")
	plan, p, err := m.planProvider(ctx, rc, a.Plan, planCall{none: "the protection plan is None", policy: policyCheckpointCreate, what: "Protect"})
	if err != nil {
		return nil, err
	}
	props, err := checkpointProperties(a.CheckpointProperties)
	if err != nil {
		return nil, notCreated(log, plan, err)
	}
	op, id, err := m.builder.BuildProtect(ctx, rc, p, plan, props)
	switch {
	case errors.Is(err, providers.ErrCheckpointNotCreated):
		return nil, notCreated(log, plan, err)
	case err != nil:
		log.WithError(err).WithField("plan_id", plan.ID).Error("Failed to create protection flow")
		return nil, karbor.FlowError("protect", flowMessage(err))
	}
	m.pool.start(ctx, op)
	return id, nil
}

// notCreated is the protect RPC's answer when the checkpoint could not be
// created, whatever the reason.
func notCreated(log *logrus.Entry, plan *karbor.Plan, err error) error {
	log.WithError(err).WithField("plan_id", plan.ID).Error("Failed to create checkpoint")
	return karbor.FlowError("protect", "Error creating checkpoint")
}

// checkpointProperties reads checkpoint_properties as CheckpointCollection.create
// does: status and extra_info when it is truthy (Python reads them with
// .get, so a truthy value that is not a dict fails the creation).
func checkpointProperties(raw json.RawMessage) (providers.CheckpointProperties, error) {
	var props providers.CheckpointProperties
	if !python.TruthJSON(raw) {
		return props, nil
	}
	ms, err := python.Members(raw)
	if err != nil {
		return props, noAttribute(raw, "get")
	}
	if extra := get(ms, "extra_info"); !isNone(extra) {
		props.ExtraInfo = extra
	}
	if status := get(ms, "status"); python.TruthJSON(status) {
		if err := json.Unmarshal(status, &props.Status); err != nil {
			return props, errors.New("checkpoint_properties status is not a string")
		}
	}
	return props, nil
}

// planCall is how protect and copy, which both start from a plan, tell
// their failures apart.
type planCall struct {
	none   string // InvalidPlan's reason for a missing plan (the two RPCs word it differently)
	policy string // the policy a refusal names
	what   string // "Protect" or "Copy", in the log line of a refusal
}

// planProvider decodes the plan of a protect or copy, checks the caller
// may write checkpoints into the plan's project, and finds its provider.
func (m *Manager) planProvider(ctx context.Context, rc *karbor.RequestContext, raw json.RawMessage, c planCall) (*karbor.Plan, *providers.Provider, error) {
	if !python.TruthJSON(raw) {
		return nil, nil, karbor.InvalidPlan(c.none)
	}
	plan, err := karbor.DecodePlan(raw)
	if err != nil {
		return nil, nil, karbor.InvalidPlan(err.Error())
	}
	if err := checkPlanProject(rc, plan, c.policy); err != nil {
		logctx.From(ctx).WithField("plan_id", plan.ID).Warn(c.what + " into another project is not allowed")
		return nil, nil, err
	}
	p, err := m.providers.Show(plan.ProviderID)
	if err != nil {
		return nil, nil, err
	}
	return plan, p, nil
}

type copyArgs struct {
	Plan json.RawMessage `json:"plan"`
}

// copy makes a copy checkpoint of every available checkpoint of the plan
// in the caller's project and starts the copy flows
// (docs/karbor-behaviour.md#copy).
func (m *Manager) copy(ctx context.Context, rc *karbor.RequestContext, a copyArgs) (any, error) {
	log := logctx.From(ctx)
	log.Info("Starting protection service:copy action.")
	plan, p, err := m.planProvider(ctx, rc, a.Plan, planCall{none: "The protection plan is None", policy: policyCopyCreate, what: "Copy"})
	if err != nil {
		return nil, err
	}
	sources, err := p.Checkpoints().List(ctx, bank.ListQuery{ProviderID: plan.ProviderID, ProjectID: rc.ProjectID, PlanID: plan.ID})
	if err != nil {
		log.WithError(err).WithField("plan_id", plan.ID).Error("Failed to get checkpoints for the plan")
		return nil, karbor.FlowError("copy", "Failed to get checkpoints")
	}
	op, pairs, err := m.builder.BuildCopy(ctx, rc, p, plan, sources)
	if err != nil {
		log.WithError(err).WithField("plan_id", plan.ID).Error("Failed to create copy flow")
		return nil, karbor.FlowError("copy", flowMessage(err))
	}
	if len(op.CheckpointIDs()) > 0 {
		m.pool.start(ctx, op)
	}
	return pairs, nil
}

type restoreArgs struct {
	Restore     json.RawMessage `json:"restore"`
	RestoreAuth json.RawMessage `json:"restore_auth"` // unused, as in Python
}

// restore checks the restore parameters, the checkpoint's project and
// status, builds the restore flow and starts it
// (docs/karbor-behaviour.md#restore).
func (m *Manager) restore(ctx context.Context, rc *karbor.RequestContext, a restoreArgs) (any, error) {
	logctx.From(ctx).Info("Starting restore service:restore action")
	r, err := decodeTarget(a.Restore, karbor.DecodeRestore)
	if err != nil {
		return nil, err
	}
	p, cp, err := m.targetCheckpoint(ctx, rc, a.Restore, r.ProviderID, r.CheckpointID, validateRestore)
	if err != nil {
		return nil, err
	}
	op, err := m.builder.BuildRestore(ctx, rc, p, r, cp)
	return nil, m.startTarget(ctx, "restore", cp.ID, op, err)
}

type verificationArgs struct {
	Verification json.RawMessage `json:"verification"`
}

// verification is restore's twin for verifications
// (docs/karbor-behaviour.md#verification): parameters always fail
// (providers publish no verify schema). Python has no project check here;
// the service refuses another project's checkpoint as restore does.
func (m *Manager) verification(ctx context.Context, rc *karbor.RequestContext, a verificationArgs) (any, error) {
	logctx.From(ctx).Info("Starting verify service:verify action")
	v, err := decodeTarget(a.Verification, karbor.DecodeVerification)
	if err != nil {
		return nil, err
	}
	p, cp, err := m.targetCheckpoint(ctx, rc, a.Verification, v.ProviderID, v.CheckpointID, validateVerifyParameters)
	if err != nil {
		return nil, err
	}
	op, err := m.builder.BuildVerify(ctx, rc, p, v, cp)
	return nil, m.startTarget(ctx, "verify", cp.ID, op, err)
}

// targetCheckpoint is what restore and verification check, in the Python
// manager's order, before they build their flow: the provider, the
// parameters of the Restore or Verification primitive (with validate), the
// checkpoint, the caller's access to it and that it is available.
func (m *Manager) targetCheckpoint(ctx context.Context, rc *karbor.RequestContext, primitive json.RawMessage, providerID, checkpointID string,
	validate func(params []python.Member, p *providers.Provider) error) (*providers.Provider, *bank.Checkpoint, error) {
	p, err := m.providers.Show(providerID)
	if err != nil {
		return nil, nil, err
	}
	params, _, err := objectParameters(primitive)
	if err != nil {
		return nil, nil, karbor.InvalidInput(err.Error())
	}
	if err := validate(params, p); err != nil {
		return nil, nil, err
	}
	cp, err := readableCheckpoint(ctx, rc, p, checkpointID)
	if err != nil {
		return nil, nil, err
	}
	if cp.Status != bank.StatusAvailable {
		return nil, nil, karbor.CheckpointNotAvailable(checkpointID)
	}
	return p, cp, nil
}

// startTarget starts a restore or verification operation, or answers
// FlowError(flow, "Failed to create flow") when it could not be built.
func (m *Manager) startTarget(ctx context.Context, flow, checkpointID string, op *providers.Operation, err error) error {
	if err != nil {
		logctx.From(ctx).WithError(err).WithField("checkpoint_id", checkpointID).Errorf("Failed to create %s flow", flow)
		return karbor.FlowError(flow, "Failed to create flow")
	}
	m.pool.start(ctx, op)
	return nil
}

// decodeTarget decodes the Restore or Verification primitive the Python
// manager reads with target["checkpoint_id"]: None fails as subscripting
// None does, anything else that is not such a primitive with InvalidInput.
func decodeTarget[T any](raw json.RawMessage, decode func(json.RawMessage) (*T, error)) (*T, error) {
	if isNone(raw) {
		return nil, karbor.TypeError("'NoneType' object is not subscriptable")
	}
	v, err := decode(raw)
	if err != nil {
		return nil, karbor.InvalidInput(err.Error())
	}
	return v, nil
}

type checkpointArgs struct {
	ProviderID   string `json:"provider_id"`
	CheckpointID string `json:"checkpoint_id"`
}

// delete moves the checkpoint to deleting and starts the delete flow
// (docs/karbor-behaviour.md#delete).
func (m *Manager) delete(ctx context.Context, rc *karbor.RequestContext, a checkpointArgs) (any, error) {
	log := logctx.From(ctx).WithField("checkpoint_id", a.CheckpointID)
	log.Info("Starting protection service:delete action")
	p, err := m.providers.Show(a.ProviderID)
	if err != nil {
		return nil, err
	}
	cp, err := p.Checkpoints().Get(ctx, a.CheckpointID)
	if err != nil {
		log.WithError(err).Error("get checkpoint failed")
		return nil, karbor.InvalidInput("Invalid checkpoint_id or provider_id")
	}
	if !rc.IsAdminOrOwner(cp.ProjectID) {
		log.Warn("Delete checkpoint is not allowed")
		return nil, karbor.DeleteCheckpointNotAllowed(a.CheckpointID)
	}
	// The bank's state machine decides whether the checkpoint may be
	// deleted (CheckpointNotBeDeleted otherwise).
	if cp, err = p.Checkpoints().BeginDelete(ctx, a.CheckpointID); err != nil {
		return nil, err
	}
	op, err := m.builder.BuildDelete(ctx, rc, p, cp)
	if err != nil {
		log.WithError(err).Error("Failed to create delete checkpoint flow")
		return nil, karbor.KarborException("Failed to create delete checkpoint flow.")
	}
	m.pool.start(ctx, op)
	return nil, nil
}

type executeOperationArgs struct {
	BackupPlan json.RawMessage `json:"backup_plan"`
	Action     json.RawMessage `json:"action"`
}

// executeOperation is the original design's execute_operation(backup_plan,
// action): "protect" is protect(plan=backup_plan), "restore" is
// restore(restore=backup_plan, restore_auth=None).
func (m *Manager) executeOperation(ctx context.Context, rc *karbor.RequestContext, a executeOperationArgs) (any, error) {
	var action string
	_ = json.Unmarshal(a.Action, &action)
	switch action {
	case "protect":
		return m.protect(ctx, rc, protectArgs{Plan: a.BackupPlan})
	case "restore":
		return m.restore(ctx, rc, restoreArgs{Restore: a.BackupPlan})
	}
	return nil, karbor.InvalidInput("action must be protect or restore, not " + python.StrJSON(a.Action))
}

// deleteCheckpoint is the original design's delete_checkpoint(provider_id,
// checkpoint_id): delete.
func (m *Manager) deleteCheckpoint(ctx context.Context, rc *karbor.RequestContext, a checkpointArgs) (any, error) {
	return m.delete(ctx, rc, a)
}
