// Package layers holds no code: its test enforces the one-way import rule of
// the module, so that a request travels AMQP → rpc → pkg/manager → providers
// → bank / taskflow and no package ever knows its caller.
//
// The rule, checked on the non-test imports of every package (directly or
// through any chain of imports):
//
//   - taskflow imports nothing of this module: the engine knows nothing of
//     checkpoints, plugins or karbor.
//   - rpc and bank import nothing of providers, pkg/manager, pkg/db or cmd:
//     the transport knows nothing of karbor's operations, the bank nothing of
//     flows or plugins.
//   - providers imports nothing of rpc, pkg/manager or cmd: plugins and flows
//     know nothing of RPC.
//   - pkg/manager imports nothing of cmd; nothing but cmd imports pkg/manager.
//   - shared leaves (pkg/python, pkg/registry, pkg/logctx, pkg/grace,
//     pkg/progress, pkg/opshttp, pkg/config, pkg/karbor) import no other
//     layer.
//   - test-support packages (named …test, such as rpc/rpctest) are exempt,
//     and production code never imports them.
package layers
