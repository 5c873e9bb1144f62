// Package manager is karbor's protection manager: the RPC endpoint
// "ProtectionManager" (version 1.0, no namespace) that karbor-api calls on
// topic karbor-protection, one method per RPC of the Python service
// (karbor/services/protection/manager.py), with the same keyword arguments,
// the same optional ones, the same results and the same exceptions.
//
// Each method turns its arguments into calls on the provider registry,
// the provider's checkpoints and the operation builder, and maps what fails
// to the karbor exception (or Python builtin) the Python service raises there
// (errors.go holds that one table). It knows nothing of AMQP: the rpc
// package decodes requests and sends the results and failures.
//
// # Methods
//
//	protect(plan, checkpoint_properties=None)        → checkpoint id
//	copy(plan)                                        → [{checkpoint_protect_id, checkpoint_copy_id}]
//	restore(restore, restore_auth)                    → None
//	verification(verification)                        → None
//	delete(provider_id, checkpoint_id)                → None
//	reset_state(provider_id, checkpoint_id, state)    → None
//	show_checkpoint(provider_id, checkpoint_id)       → checkpoint dict
//	list_checkpoints(provider_id, marker=None, limit=None, sort_keys=None,
//	                 sort_dirs=None, filters=None, all_tenants=False)
//	list_protectable_types()
//	show_protectable_type(protectable_type)
//	list_protectable_instances(protectable_type=None, marker=None, limit=None,
//	                 sort_keys=None, sort_dirs=None, filters=None, parameters=None)
//	show_protectable_instance(protectable_type, protectable_id, parameters=None)
//	list_protectable_dependents(protectable_id, protectable_type, protectable_name)
//	show_provider(provider_id)
//	list_providers(marker=None, limit=None, sort_keys=None, sort_dirs=None, filters=None)
//	start(), suspend()                                → None (no-ops, as in Python)
//
// and the three calls of karbor's original protection-service design
// (doc/source/specs/protection-service/protection-service.rst), which no
// karbor release served, mapped onto the same code paths:
//
//	execute_operation(backup_plan, action)
//	    action "protect": backup_plan is a Plan primitive; exactly
//	        protect(plan=backup_plan); returns the checkpoint id.
//	    action "restore": backup_plan is a Restore primitive; exactly
//	        restore(restore=backup_plan, restore_auth=None); returns None.
//	    any other action: InvalidInput.
//	delete_checkpoint(provider_id, checkpoint_id)
//	    exactly delete(provider_id, checkpoint_id); returns None.
//
// (list_providers, show_provider, list_checkpoints and show_checkpoint of
// that design are the methods above.)
//
// # Background operations
//
// protect, copy, restore, verification and delete reply once the operation
// is built; it then runs on the manager's operation pool, whose goroutines
// Run owns. With max_concurrent_operations > 0 the RPC handler waits for a
// free slot before it replies, as the Python service's green pool makes it
// wait; 0 means no limit. When Run's context ends, the pool takes no new
// operation (one arriving then is failed at once: its checkpoint, restore
// or verification gets its failure status), waits up to the grace period
// for the running ones, then cancels them (they revert to their failure
// status) and waits for them to finish.
//
// # Recovery
//
// Recover fails what a dead service instance left in progress (see
// providers.Builder.Recover); the program calls it before the RPC server
// consumes. Run repeats it every RecoveryInterval (karbor's
// periodic_interval, after a random delay of up to RecoveryDelay), so that a
// checkpoint whose owner dies after this instance started (its lease
// expires, or a Python instance's heartbeat goes stale) is failed without a
// restart.
package manager
