//go:build !unix

package fs

import "context"

// Lock implements bank.Locker. Without flock(2), updates are serialised
// only within the process (by bank.Checkpoints).
func (p *Plugin) Lock(ctx context.Context, key string) (func(), error) {
	if err := checkKey(key, false); err != nil {
		return nil, err
	}
	return func() {}, ctx.Err()
}
