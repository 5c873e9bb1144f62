package providers

import (
	"context"
	"errors"

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
