package providers

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// DeleteSectionData is the delete of karbor's plugins that keep a
// resource's data in its bank section: the section's status goes to
// "deleting", every object but "status" is removed, and the status ends
// "deleted", which stays behind as the Python plugins leave it. An object
// already gone (another instance finishing the same delete) is not an
// error.
func DeleteSectionData(ctx context.Context, sec *bank.Section) error {
	if err := sec.PutString(ctx, "status", karbor.ResourceStatusDeleting); err != nil {
		return err
	}
	keys, err := sec.ListObjects(ctx, bank.ListOptions{})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k == "status" {
			continue
		}
		if err := sec.DeleteObject(ctx, k); err != nil && !errors.Is(err, bank.ErrNotFound) {
			return err
		}
	}
	return sec.PutString(ctx, "status", karbor.ResourceStatusDeleted)
}

// VerifySectionStatus is the verify of karbor's plugins that keep a
// resource's status in its bank section (image, server, network): an
// available status passes; any other, or one that cannot be read, is
// reported on the resource and fails as VerifyResourceFailed. sec is the
// resource's section, or err why there is none (what
// CheckpointRef.ResourceSection returns); name is the verify's name in the
// exception ("Image backup"), kind the backup's in the reasons ("image").
func VerifySectionStatus(ctx context.Context, a *HookArgs, sec *bank.Section, err error, name, kind string) error {
	id := a.Resource.ID
	status := ""
	if err == nil {
		status, err = sec.GetString(ctx, "status")
	}
	if err != nil {
		why := fmt.Sprintf("The status of %s backup cannot be read: %v", kind, err)
		a.Report(ctx, karbor.ResourceStatusError, why)
		return karbor.VerifyResourceFailed(name, why, id, a.Resource.Type)
	}
	if status == karbor.ResourceStatusAvailable {
		a.Report(ctx, karbor.ResourceStatusAvailable, "")
		return nil
	}
	why := fmt.Sprintf("The status of %s backup status is %s.", kind, status)
	a.Report(ctx, status, why)
	return karbor.VerifyResourceFailed(name, why, id, a.Resource.Type)
}
