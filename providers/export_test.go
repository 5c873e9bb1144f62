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
