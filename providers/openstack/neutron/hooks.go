package neutron

import (
	"context"
	"fmt"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
)

// The names karbor's exceptions give the resource.
const (
	exceptionName = "Network Backup"
	verifyName    = "Network backup"
)

// markError records the error status of a section whose operation failed;
// the failure itself is what the caller returns, so this one is only logged.
func markError(ctx context.Context, sec *bank.Section) {
	dctx, cancel := detached(ctx)
	defer cancel()
	if err := sec.PutString(dctx, "status", karbor.ResourceStatusError); err != nil {
		warn(ctx, err, "Failed recording the error status")
	}
}

// protect saves the project's topology in the resource's section: status
// protecting, metadata, status available. The resource's id is the
// project's (the protectable names the topology so).
func (p *Plugin) protect(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	sec, err := a.Checkpoint.ResourceSection(id)
	if err != nil {
		return karbor.CreateResourceFailed(exceptionName, reason(err), id, karbor.NetworkResourceType)
	}
	if err := sec.PutString(ctx, "status", karbor.ResourceStatusProtecting); err != nil {
		return karbor.CreateResourceFailed(exceptionName, reason(err), id, karbor.NetworkResourceType)
	}
	md, err := p.read(ctx, a)
	if err != nil {
		markError(ctx, sec)
		return err
	}
	if err := sec.PutJSON(ctx, "metadata", md); err != nil {
		markError(ctx, sec)
		return karbor.CreateResourceFailed(exceptionName, reason(err), id, karbor.NetworkResourceType)
	}
	if err := sec.PutString(ctx, "status", karbor.ResourceStatusAvailable); err != nil {
		markError(ctx, sec)
		return karbor.CreateResourceFailed(exceptionName, reason(err), id, karbor.NetworkResourceType)
	}
	return nil
}

// read lists the topology; a failure is karbor's
// GetProtectionNetworkSubResourceFailed.
func (p *Plugin) read(ctx context.Context, a *providers.HookArgs) (*metadata, error) {
	failed := func(err error) error {
		return karbor.GetProtectionNetworkSubResourceFailed(fmt.Sprintf("['%s']", karbor.NetworkResourceType), reason(err))
	}
	c, err := p.client(ctx, a.Request)
	if err != nil {
		return nil, failed(err)
	}
	md, err := topology(ctx, c, a.Resource.ID)
	if err != nil {
		return nil, failed(err)
	}
	return md, nil
}

// verify checks the saved status, as the Python plugin does.
func verify(ctx context.Context, a *providers.HookArgs) error {
	sec, err := a.Checkpoint.ResourceSection(a.Resource.ID)
	return providers.VerifySectionStatus(ctx, a, sec, err, verifyName, "network")
}

// deleteSection removes every object of the section but its status, which
// ends "deleted" (the Python plugin's delete does nothing: its operation
// is missing). Neutron is not touched: the topology is a description.
func deleteSection(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	sec, err := a.Checkpoint.ResourceSection(id)
	if err == nil {
		err = providers.DeleteSectionData(ctx, sec)
		if err != nil {
			markError(ctx, sec)
		}
	}
	if err != nil {
		return karbor.DeleteResourceFailed(exceptionName, reason(err), id, karbor.NetworkResourceType)
	}
	return nil
}
