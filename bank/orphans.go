package bank

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// TakeOver makes this instance the owner of a checkpoint in progress whose
// owner is dead (lease missing or expired), so recovery can then finish or
// fail it. A live owner's checkpoint is a NotOwnerError; a checkpoint not
// in progress is returned unchanged.
func (c *Checkpoints) TakeOver(ctx context.Context, id string) (*Checkpoint, error) {
	return c.modify(ctx, id, func(cur, next *Checkpoint) error { return nil })
}

// Orphans returns the checkpoints of a provider ("" = all) that are stuck:
// in progress (protecting, deleting, copying, wait_copying) while their
// owner's lease is missing or expired, i.e. the instance working on them
// died. It reads every checkpoint's index.json (found through /checkpoints/,
// so checkpoints whose index keys were never written are found too); meant
// for recovery at startup.
func (c *Checkpoints) Orphans(ctx context.Context, providerID string) ([]*Checkpoint, error) {
	alive := map[string]bool{c.bank.OwnerID(): true}
	var out []*Checkpoint
	marker := ""
	for {
		keys, err := c.bank.ListObjects(ctx, ListOptions{Prefix: checkpointsPrefix, Marker: marker, Limit: defaultPage, Delimiter: true})
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			id, isDir := strings.CutSuffix(strings.TrimPrefix(k, checkpointsPrefix), "/")
			if !isDir {
				continue
			}
			cp, err := c.Get(ctx, id)
			if errors.Is(err, ErrCheckpointNotFound) {
				continue // a directory without index.json is no checkpoint
			}
			if err != nil {
				return nil, err
			}
			if !InProgress(cp.Status) || (providerID != "" && cp.ProviderID != providerID) {
				continue
			}
			ok, seen := alive[cp.OwnerID]
			if !seen {
				if ok, err = c.bank.plugin.OwnerAlive(ctx, cp.OwnerID); err != nil {
					return nil, fmt.Errorf("bank: lease of owner %s: %w", cp.OwnerID, err)
				}
				alive[cp.OwnerID] = ok
			}
			if !ok {
				out = append(out, cp)
			}
		}
		if len(keys) < defaultPage {
			return out, nil
		}
		marker = keys[len(keys)-1]
	}
}
