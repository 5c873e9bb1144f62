-- karbor's database schema for PostgreSQL, as karbor-manage db sync creates it.
--
-- Written from karbor's migrations at the commit before the tree was retired
-- (karbor/db/sqlalchemy/migrate_repo/versions/001_karbor_init.py,
-- 002_add_verification_table.py, 003_add_quotas_table.py) and
-- karbor/db/sqlalchemy/models.py, rendered as SQLAlchemy 1.4's PostgreSQL
-- dialect renders those Column types: DateTime -> TIMESTAMP WITHOUT TIME ZONE
-- (microseconds), Boolean -> BOOLEAN, Integer primary key -> SERIAL,
-- String(n) -> VARCHAR(n), Text -> TEXT. No column has a server default
-- (karbor's defaults are ORM-side); "binary" is quoted, a reserved word.
-- migrate_version is sqlalchemy-migrate's own table. Same tables, columns,
-- nullability and indexes as schema-sqlite.sql (checked by
-- TestSchemasDefineTheSameTables).
CREATE TABLE migrate_version (
	repository_id VARCHAR(250) NOT NULL, 
	repository_path TEXT, 
	version INTEGER, 
	PRIMARY KEY (repository_id)
);
CREATE TABLE services (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN, 
	id SERIAL NOT NULL, 
	host VARCHAR(255), 
	"binary" VARCHAR(255), 
	topic VARCHAR(255), 
	report_count INTEGER NOT NULL, 
	disabled BOOLEAN, 
	disabled_reason VARCHAR(255), 
	modified_at TIMESTAMP WITHOUT TIME ZONE, 
	rpc_current_version VARCHAR(36), 
	rpc_available_version VARCHAR(36), 
	PRIMARY KEY (id)
);
CREATE TABLE plans (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN, 
	id VARCHAR(36) NOT NULL, 
	name VARCHAR(255), 
	description VARCHAR(255), 
	provider_id VARCHAR(36), 
	project_id VARCHAR(255), 
	status VARCHAR(64), 
	parameters TEXT, 
	PRIMARY KEY (id)
);
CREATE TABLE resources (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN, 
	id SERIAL NOT NULL, 
	plan_id VARCHAR(36) NOT NULL, 
	resource_id VARCHAR(36), 
	resource_type VARCHAR(64), 
	resource_name VARCHAR(255), 
	resource_extra_info TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(plan_id) REFERENCES plans (id)
);
CREATE TABLE restores (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN, 
	id VARCHAR(36) NOT NULL, 
	project_id VARCHAR(255), 
	provider_id VARCHAR(36), 
	checkpoint_id VARCHAR(36), 
	restore_target VARCHAR(255), 
	parameters TEXT, 
	status VARCHAR(64), 
	resources_status TEXT, 
	resources_reason TEXT, 
	PRIMARY KEY (id)
);
CREATE TABLE operation_logs (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	project_id VARCHAR(255) NOT NULL, 
	operation_type VARCHAR(255) NOT NULL, 
	checkpoint_id VARCHAR(36), 
	plan_id VARCHAR(36), 
	provider_id VARCHAR(36), 
	restore_id VARCHAR(36), 
	scheduled_operation_id VARCHAR(36), 
	status VARCHAR(64), 
	started_at TIMESTAMP WITHOUT TIME ZONE, 
	ended_at TIMESTAMP WITHOUT TIME ZONE, 
	error_info TEXT, 
	extra_info TEXT, 
	PRIMARY KEY (id)
);
CREATE TABLE triggers (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	project_id VARCHAR(255) NOT NULL, 
	type VARCHAR(64) NOT NULL, 
	properties TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE trigger_executions (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	trigger_id VARCHAR(36) NOT NULL, 
	execution_time TIMESTAMP WITHOUT TIME ZONE NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE scheduled_operations (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	description VARCHAR(255), 
	operation_type VARCHAR(64) NOT NULL, 
	user_id VARCHAR(64) NOT NULL, 
	project_id VARCHAR(255) NOT NULL, 
	trigger_id VARCHAR(36) NOT NULL, 
	operation_definition TEXT NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(trigger_id) REFERENCES triggers (id)
);
CREATE TABLE scheduled_operation_states (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN NOT NULL, 
	id SERIAL NOT NULL, 
	operation_id VARCHAR(36) NOT NULL, 
	service_id INTEGER NOT NULL, 
	trust_id VARCHAR(64) NOT NULL, 
	state VARCHAR(32) NOT NULL, 
	end_time_for_run TIMESTAMP WITHOUT TIME ZONE, 
	PRIMARY KEY (id), 
	FOREIGN KEY(operation_id) REFERENCES scheduled_operations (id) ON DELETE CASCADE, 
	FOREIGN KEY(service_id) REFERENCES services (id)
);
CREATE TABLE scheduled_operation_logs (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN NOT NULL, 
	id SERIAL NOT NULL, 
	operation_id VARCHAR(36) NOT NULL, 
	expect_start_time TIMESTAMP WITHOUT TIME ZONE, 
	triggered_time TIMESTAMP WITHOUT TIME ZONE, 
	actual_start_time TIMESTAMP WITHOUT TIME ZONE, 
	end_time TIMESTAMP WITHOUT TIME ZONE, 
	state VARCHAR(32) NOT NULL, 
	extend_info TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(operation_id) REFERENCES scheduled_operations (id) ON DELETE CASCADE
);
CREATE TABLE checkpoint_records (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN NOT NULL, 
	id VARCHAR(36) NOT NULL, 
	project_id VARCHAR(36) NOT NULL, 
	checkpoint_id VARCHAR(36) NOT NULL, 
	checkpoint_status VARCHAR(36) NOT NULL, 
	provider_id VARCHAR(36) NOT NULL, 
	plan_id VARCHAR(36) NOT NULL, 
	operation_id VARCHAR(36), 
	create_by VARCHAR(36), 
	extend_info TEXT, 
	PRIMARY KEY (id)
);
CREATE TABLE verifications (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN, 
	id VARCHAR(36) NOT NULL, 
	project_id VARCHAR(255) NOT NULL, 
	provider_id VARCHAR(36) NOT NULL, 
	checkpoint_id VARCHAR(36) NOT NULL, 
	status VARCHAR(64), 
	parameters TEXT, 
	resources_status TEXT, 
	resources_reason TEXT, 
	PRIMARY KEY (id)
);
CREATE TABLE quotas (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN, 
	id SERIAL NOT NULL, 
	project_id VARCHAR(255) NOT NULL, 
	resource VARCHAR(255) NOT NULL, 
	hard_limit INTEGER, 
	PRIMARY KEY (id)
);
CREATE TABLE quota_classes (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN, 
	id SERIAL NOT NULL, 
	class_name VARCHAR(255) NOT NULL, 
	resource VARCHAR(255) NOT NULL, 
	hard_limit INTEGER, 
	PRIMARY KEY (id)
);
CREATE TABLE quota_usages (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN, 
	id SERIAL NOT NULL, 
	project_id VARCHAR(255) NOT NULL, 
	resource VARCHAR(255) NOT NULL, 
	in_use INTEGER, 
	reserved INTEGER, 
	until_refresh INTEGER, 
	PRIMARY KEY (id)
);
CREATE TABLE reservations (
	created_at TIMESTAMP WITHOUT TIME ZONE, 
	updated_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted_at TIMESTAMP WITHOUT TIME ZONE, 
	deleted BOOLEAN, 
	id SERIAL NOT NULL, 
	uuid VARCHAR(36) NOT NULL, 
	usage_id INTEGER NOT NULL, 
	project_id VARCHAR(255), 
	resource VARCHAR(255), 
	delta INTEGER NOT NULL, 
	expire TIMESTAMP WITHOUT TIME ZONE, 
	PRIMARY KEY (id), 
	FOREIGN KEY(usage_id) REFERENCES quota_usages (id)
);
CREATE INDEX ix_reservations_project_id ON reservations (project_id);
CREATE INDEX ix_scheduled_operation_logs_operation_id ON scheduled_operation_logs (operation_id);
CREATE UNIQUE INDEX ix_scheduled_operation_states_operation_id ON scheduled_operation_states (operation_id);
CREATE INDEX ix_scheduled_operations_trigger_id ON scheduled_operations (trigger_id);
CREATE INDEX ix_trigger_executions_execution_time ON trigger_executions (execution_time);
CREATE UNIQUE INDEX ix_trigger_executions_trigger_id ON trigger_executions (trigger_id);
