package fs

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank/internal/banktest"
)

// TestConformance runs the bank plugin conformance suite; the file-system
// bank is its reference.
func TestConformance(t *testing.T) {
	root := t.TempDir()
	banktest.Run(t, func(t *testing.T, store string, w banktest.Options) banktest.Instance {
		p, err := New(context.Background(), Options{
			Path:                filepath.Join(root, store),
			LeaseExpireWindow:   w.Expire,
			LeaseRenewWindow:    w.Renew,
			LeaseValidityWindow: w.Validity,
			Holder:              w.Holder,
		})
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, p.Close()) })
		var once sync.Once
		return banktest.Instance{Plugin: p, Crash: func() {
			once.Do(func() {
				p.renewal.Stop()
			})
		}}
	})
}
