package providers

import (
	"context"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// BuildProtectOf builds the protect flow of a checkpoint the test created
// (e.g. before the bank filled up).
func (b *Builder) BuildProtectOf(ctx context.Context, rc *karbor.RequestContext, p *Provider, plan *karbor.Plan, cp *bank.Checkpoint) (*Operation, error) {
	return b.buildProtect(ctx, rc, p, plan, cp)
}

// Test access to what only tests use.
var (
	FindConfigDir  = findConfigDir
	RecoveryStatus = recoveryStatus
	WithWorkers    = withWorkers
)

// Type is the operation's type.
func (o *Operation) Type() Op { return o.op }

// Tasks is the number of tasks the operation runs.
func (o *Operation) Tasks() int {
	n := 0
	for _, f := range o.flows {
		n += f.flow.Len()
	}
	return n
}
