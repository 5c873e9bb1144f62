package manager

import (
	"context"
	"fmt"
	"slices"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
	"github.com/gokarbor/karbor-protection/providers"
)

// The service checks access itself, with karbor's default admin_or_owner
// rule (karbor.RequestContext.IsAdminOrOwner), instead of trusting that
// karbor-api's policy ran: anything that can publish on the broker can call
// it. The Python service checks only show_checkpoint, delete, restore and
// reset_state.

// Policy names of karbor-api (karbor/policies/providers.py, copies.py) that
// a refused protect or copy names, as the API's own refusal would.
const (
	policyCheckpointCreate = "provider:checkpoint_create"
	policyCopyCreate       = "copy:create"
)

// checkPlanProject refuses a protect or copy that would write checkpoints
// into a project that is not the caller's, unless the caller is an admin:
// the checkpoints of a plan belong to plan.project_id, which the request
// names. karbor-api never sends such a plan to a member (it loads plans
// through the caller's project); the refusal is the API's policy refusal.
func checkPlanProject(rc *karbor.RequestContext, plan *karbor.Plan, policy string) error {
	if rc.IsAdminOrOwner(plan.ProjectID) {
		return nil
	}
	return karbor.PolicyNotAuthorized(policy)
}

// readableCheckpoint reads a checkpoint of p the caller may act on: one of
// its project, or any for an admin; another project's checkpoint is
// refused with AccessCheckpointNotAllowed.
func readableCheckpoint(ctx context.Context, rc *karbor.RequestContext, p *providers.Provider, id string) (*bank.Checkpoint, error) {
	cp, err := p.Checkpoints().Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !rc.IsAdminOrOwner(cp.ProjectID) {
		return nil, karbor.AccessCheckpointNotAllowed(cp.ID)
	}
	return cp, nil
}

// resetStates are the states reset_state may set: those karbor-api's
// request schema admits (karbor/api/schemas/checkpoints.py). The Python
// service stores any string, and a state no flow knows ("bogus", "",
// "deleted", which also hides the checkpoint from listings) can never be
// left again.
var resetStates = []string{bank.StatusAvailable, bank.StatusError}

// checkResetState refuses a reset_state target that is not in resetStates
// with InvalidInput; the value is quoted, shortened, in the reason.
func checkResetState(state string) error {
	if slices.Contains(resetStates, state) {
		return nil
	}
	const show = 40
	shown := state
	if r := []rune(state); len(r) > show {
		shown = string(r[:show]) + "…"
	}
	return karbor.InvalidInput(fmt.Sprintf("state %s is not allowed; reset_state accepts %s and %s",
		python.ReprString(shown), resetStates[0], resetStates[1]))
}
