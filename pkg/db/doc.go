// Package db writes the rows of karbor's SQL database that the Python
// protection service writes and the karbor API reads: the services row whose
// heartbeat makes os-services show the service up, operation_logs, and the
// status and per-resource results of restores and verifications.
//
// The database is the one named by [database] connection, in SQLAlchemy's
// URL syntax (mysql+pymysql://, mysql://, postgresql://,
// postgresql+psycopg2://, sqlite:///relative, sqlite:////absolute), reached
// through database/sql with go-sql-driver/mysql, pgx and modernc.org/sqlite.
// The tables are karbor's own; this package never migrates them, and creates
// them only in a SQLite database that has no table at all (a new local file).
//
// Open returns a Store; its Recorder is what flows record through, and its
// Run drives the heartbeat and the writes. Without a connection the Recorder
// writes nothing, so callers never branch.
//
// # Writes are asynchronous
//
// A recorder call checks its input, queues the write and returns: a slow or
// absent database never holds up an RPC reply for longer than
// Config.EnqueueTimeout (100 ms), which only a full queue (1024 writes)
// makes anyone wait. One writer performs the queued writes in order, so the
// writes to a row land in the order the flow made them. A write that fails
// for want of a database is retried every retry_interval, max_retries times
// (-1: for ever), the writes behind it waiting; one the database refuses
// (bad values) or whose row is gone is logged and dropped. Nothing a write
// does can fail an operation. When Run's context ends, what is still queued
// is written within Config.DrainTimeout.
//
// # What is written, and when
//
// As karbor's service.py, db/sqlalchemy/api.py and objects do:
//
//   - services: at start the live row of this host and binary
//     karbor-protection is used, or one is created (report_count 0,
//     disabled = not enable_new_services); every report_interval
//     report_count + 1 and updated_at; a row that was deleted is created
//     again. Stopping leaves the row alone (oslo's Service.stop does not
//     touch it).
//   - operation_logs: inserted when a flow is built (created_at and
//     started_at, deleted false, the rest NULL unless given), then status
//     and, at the end, ended_at.
//   - restores, verifications: status, and resources_status /
//     resources_reason as the JSON text json.dumps gives of the cumulative
//     dicts keyed "<type>#<id>" (an empty dict is not written). Results
//     from hooks running in parallel are merged under a lock per row.
//
// An update reads the row and writes only the columns whose value changes,
// with updated_at, as SQLAlchemy's unit of work does: a status the row
// already has leaves updated_at alone. Soft-deleted rows are not updated.
//
// Datetimes are naive UTC: on SQLite the text SQLAlchemy writes
// ("2026-11-22 01:57:31.917492"), on MySQL a DATETIME (whole seconds, as
// karbor's migrations declare it), on PostgreSQL a timestamp without time
// zone. Booleans are 0/1 on SQLite and MySQL.
//
// Memory records in memory, with Recorder's methods, for other packages'
// unit tests.
package db
