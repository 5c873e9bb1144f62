// Package bank is where karbor keeps what it knows about protections: the
// bank plugin interface (objects and leases) with its registry, key
// validation and sections, and the checkpoint collection on top of it
// (index.json, the by-provider/by-date/by-plan indices, the status machine,
// listing and project isolation).
//
// The layout and encodings are those of the Python karbor-protection
// service, so either service reads what the other wrote. Backends live in
// sub-packages (bank/fs) and register themselves by their entry-point names
// from init, as database/sql drivers do:
//
//	import _ "github.com/gokarbor/karbor-protection/bank/fs"
//
//	p, err := bank.Open(ctx, "karbor-fs-bank-plugin", providerConfig, holder)
//	cps := bank.NewCheckpoints(bank.New(p))
//
// The package knows nothing of RPC or karbor's exception catalog: errors.go
// says which karbor exception each error becomes.
package bank
