package manager

// table is the endpoint's method table: every public method of the Python
// ProtectionManager that karbor-api calls, the no-op start and suspend,
// and the original design's execute_operation and delete_checkpoint.
func (m *Manager) table() []method {
	return []method{
		{"protect", handle(m, m.protect)},
		{"copy", handle(m, m.copy)},
		{"restore", handle(m, m.restore)},
		{"verification", handle(m, m.verification)},
		{"delete", handle(m, m.delete)},
		{"reset_state", handle(m, m.resetState)},
		{"show_checkpoint", handle(m, m.showCheckpoint)},
		{"list_checkpoints", handle(m, m.listCheckpoints)},
		{"list_protectable_types", handle(m, m.listProtectableTypes)},
		{"show_protectable_type", handle(m, m.showProtectableType)},
		{"list_protectable_instances", handle(m, m.listProtectableInstances)},
		{"show_protectable_instance", handle(m, m.showProtectableInstance)},
		{"list_protectable_dependents", handle(m, m.listProtectableDependents)},
		{"show_provider", handle(m, m.showProvider)},
		{"list_providers", handle(m, m.listProviders)},
		{"start", startOrSuspend("start")},
		{"suspend", startOrSuspend("suspend")},
		{"execute_operation", handle(m, m.executeOperation)},
		{"delete_checkpoint", handle(m, m.deleteCheckpoint)},
	}
}
