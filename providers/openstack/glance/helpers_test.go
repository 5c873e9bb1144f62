package glance

import (
	"context"
	"crypto/md5" //nolint:gosec // Glance's checksum
	"encoding/hex"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/fs"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// fsBank is a file-system bank in a temporary directory; wrap, when set,
// stands between the bank and its plugin.
func fsBank(t testing.TB, wrap func(bank.Plugin) bank.Plugin) *bank.Bank {
	t.Helper()
	return fsBankWrapped(t, t.TempDir(), wrap)
}

// fsBankAt is a file-system bank in dir.
func fsBankAt(t testing.TB, dir string) *bank.Bank {
	t.Helper()
	return fsBankWrapped(t, dir, nil)
}

func fsBankWrapped(t testing.TB, dir string, wrap func(bank.Plugin) bank.Plugin) *bank.Bank {
	t.Helper()
	p, err := fs.New(context.Background(), fs.Options{Path: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	var bp bank.Plugin = p
	if wrap != nil {
		bp = wrap(p)
	}
	return bank.New(bp)
}

// section is a fresh checkpoint's section of the image's data.
func section(t testing.TB, b *bank.Bank, imageID string) *bank.Section {
	t.Helper()
	sec, err := b.Section(bank.ResourceDataPrefix(uuid.NewString(), imageID))
	require.NoError(t, err)
	return sec
}

// args are the hook arguments of the image for rc.
func args(op providers.Op, rc *karbor.RequestContext, imageID string, params map[string]string) *providers.HookArgs {
	return &providers.HookArgs{
		Op: op, Request: rc, Parameters: params, NewResources: &providers.NewResources{},
		Resource: graph.Resource{Type: karbor.ImageResourceType, ID: imageID, Name: "image"},
	}
}

func md5hex(b []byte) string {
	s := md5.Sum(b) //nolint:gosec // Glance's checksum
	return hex.EncodeToString(s[:])
}

// putHook is a bank plugin that calls before on each write first.
type putHook struct {
	bank.Plugin
	before func(ctx context.Context, key string) error
}

func (p putHook) PutObject(ctx context.Context, key string, obj bank.Object) error {
	if err := p.before(ctx, key); err != nil {
		return err
	}
	return p.Plugin.PutObject(ctx, key, obj)
}
