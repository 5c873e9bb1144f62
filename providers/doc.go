// Package providers is karbor's protection providers and what they do: the
// provider files of provider_config_dir, the protection plugins they name,
// and the operations (protect, restore, verify, delete, copy) run as flows of
// plugin hooks over a checkpoint's resource graph.
//
// # Providers
//
// Load reads every *.conf file of the provider directory (resolved as
// karbor's find_config does, else ConfigNotFound) in name order, each with
// oslo.config semantics: [provider] id, name, description, bank, plugin
// (repeated, in order) and enabled (default false); the other sections
// configure the bank and plugins of that provider. A disabled provider is
// skipped; so is, with its reason logged, a file that cannot be read or
// parsed, whose bank or a plugin is empty or unknown ("unknown protection
// plugin %q (forgotten import?)"), whose bank cannot open, or whose id an
// earlier file took. The Registry answers show_provider (Show, or
// ProviderNotFound) and list_providers (List: sorted by id, marker, filters,
// limit) with each provider's Dict, whose extended_info_schema has exactly
// the options, restore and saved-info maps, in the order the plugins declare
// their types.
//
// # Plugins
//
// Protection plugins register from init under karbor's entry-point names,
// as database/sql drivers do, and the program imports them for that:
//
//	import _ "github.com/gokarbor/karbor-protection/providers/noop"
//
// A provider file may also name a plugin or bank by its Python class path,
// as the Python service accepts. A provider builds one instance of each of
// its plugins from its file; the last plugin supporting a type serves it.
// For each resource an operation works on, the plugin gives Hooks: four
// steps ordered along the resource graph (see Hooks).
//
// # Operations
//
// A Builder does what the protect, restore, verification, delete and copy
// RPCs do before they reply: BuildProtect creates the checkpoint, expands
// the plan into its resource graph (protectables.Registry.BuildGraph),
// stores it packed in the checkpoint, records the operation-log row and
// builds the flow; BuildCopy does the same for each copy it creates; the
// others read the checkpoint's stored graph. Whoever creates a checkpoint
// owns its failure: a flow that cannot be built leaves its checkpoint in
// its failure status. Each returns an Operation that the manager runs in
// the background (Run) or, when it cannot start, abandons (Abandon: the
// failure status is recorded and nothing runs).
//
// A flow is karbor's: Initiate (status in progress) → the resource graph
// flow (flow.go) → Complete (final status), steps.go says what Initiate and
// Complete do for each operation; a hook failure or the cancellation of
// Run's context reverts it, and the Initiate task's revert records the
// failure status. Statuses:
//
//	protect   checkpoint protecting → available | error
//	delete    checkpoint deleting → deleted (indices removed) | error-deleting
//	copy      copy checkpoint wait_copying → copying → available | error
//	restore   restore row in_progress → success | fail
//	verify    verification row in_progress → success | fail
//
// What karbor keeps outside the bank (operation logs, restore and
// verification rows) goes through a Recorder, which pkg/db's Recorder
// implements (writing nothing when there is no database).
//
// # Recovery
//
// Recover, called at start and then periodically by the manager, moves to
// error the checkpoints that a dead service instance left protecting,
// copying, wait_copying or deleting (from error they can be deleted or
// reset), which the Python service leaves in progress for ever.
package providers
