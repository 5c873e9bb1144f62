package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/swift/swifttest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// pythonSwiftNoop is karbor's own etc/providers.d/noop.conf, unchanged but
// for the Keystone URL, the credentials of the test account and (so that
// tests do not share a bank) the container.
const pythonSwiftNoop = `[provider]
name = No-Op Provider
description = This provider does nothing for each protect and restore operation. Used for testing
id = b766f37c-d011-4026-8228-28730d734a3f

plugin=karbor-noop-protection-plugin
bank=karbor-swift-bank-plugin

enabled=True

[swift_client]
swift_auth_url=%s
swift_user=%s
swift_key=%s
swift_tenant_name=%s

[swift_bank_plugin]
bank_swift_object_container=%s
lease_expire_window=120
lease_renew_window=100
lease_validity_window=100
`

// TestSwiftBankLifecycle: the Python noop provider with its swift bank
// loads as it is, and a protect → available → list → show → delete cycle
// over RPC lands in the real Swift, in the Python layout.
func TestSwiftBankLifecycle(t *testing.T) {
	acct := swifttest.Keystone(t)
	container := "karbor-e2e-" + uuid.NewString()[:8]
	t.Cleanup(func() { acct.RemoveContainer(t, container) })
	provider := fmt.Sprintf(pythonSwiftNoop, acct.AuthURL, acct.User, acct.Password, acct.Project, container)

	url := rpctest.Vhost(t)
	newService(t, url, serviceConfig{provider: provider})
	c := pyClient(t, url)
	member := requestContext(t, projectA, false)

	var shown map[string]any
	require.NoError(t, json.Unmarshal(result(t, call(t, c, "show_provider", member, map[string]any{"provider_id": noopID})), &shown))
	assert.Equal(t, "No-Op Provider", shown["name"])

	id := protect(t, c, member, "632d8f7d-e2c3-4f31-82ea-900d8afb9880", projectA, 3)
	waitStatus(t, c, member, id, "available")
	assert.Contains(t, listIDs(t, c, member, nil), id)
	var cp map[string]any
	require.NoError(t, json.Unmarshal(result(t, call(t, c, "show_checkpoint", member, map[string]any{"provider_id": noopID, "checkpoint_id": id})), &cp))
	assert.Equal(t, id, cp["id"])
	assert.Equal(t, "available", cp["status"])

	// In Swift, the Python plugin's way: a serialized index.json under the
	// leading-slash key, and the service's lease.
	p, err := bank.Open(context.Background(), "karbor-swift-bank-plugin", bank.ConfigMap{
		"swift_client":      {"swift_auth_url": acct.AuthURL, "swift_user": acct.User, "swift_key": acct.Password, "swift_tenant_name": acct.Project},
		"swift_bank_plugin": {"bank_swift_object_container": container},
	}, bank.Holder{})
	require.NoError(t, err)
	defer p.Close()
	obj, err := p.GetObject(context.Background(), "/checkpoints/"+id+"/index.json")
	require.NoError(t, err)
	assert.True(t, obj.Serialized)
	var index map[string]any
	require.NoError(t, json.Unmarshal(obj.Data, &index))
	assert.Equal(t, "available", index["status"])
	owner, _ := index["owner_id"].(string)
	require.NotEmpty(t, owner)
	l, ok, err := p.Lease(context.Background(), owner)
	require.NoError(t, err)
	require.True(t, ok, "the service holds its lease in Swift")
	assert.Equal(t, serviceHost, l.Holder.Host)

	assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", member, map[string]any{"provider_id": noopID, "checkpoint_id": id}))))
	waitStatus(t, c, member, id, "deleted")
	assert.NotContains(t, listIDs(t, c, member, nil), id)
}
