package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sirupsen/logrus"

	dbschema "github.com/gokarbor/karbor-protection/pkg/db/schema"
)

// karbor's sqlalchemy-migrate repository and the version of its last
// migration (003_add_quotas_table): the migrate_version row karbor-manage
// db sync writes, so that it finds a file made here up to date.
const (
	migrateRepository = "karbor"
	migrateVersion    = 3
)

// createSQLiteSchema gives a SQLite database without any table karbor's
// schema, as karbor-manage db sync would, so that a local run (no database
// server, no karbor-manage) has the services heartbeat, operation logs and
// restore progress. Only an empty database is touched: one with any table
// is left as it is, whoever made it. SQLite is a local file the service
// opens itself, so doing this at start cannot race another process's
// migration the way a shared server could; on MySQL and PostgreSQL the
// tables remain karbor-manage's job.
func createSQLiteSchema(ctx context.Context, db *sql.DB, log *logrus.Entry) error {
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&tables); err != nil {
		return fmt.Errorf("read the SQLite database's tables: %w", err)
	}
	if tables > 0 {
		return nil
	}
	stmts, err := dbschema.Statements(string(SQLite))
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create karbor's tables: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("create karbor's tables: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO migrate_version (repository_id, repository_path, version) VALUES (?, ?, ?)",
		migrateRepository, "karbor/db/sqlalchemy/migrate_repo", migrateVersion); err != nil {
		return fmt.Errorf("create karbor's tables: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create karbor's tables: %w", err)
	}
	log.Info("The SQLite database was empty: created karbor's tables in it")
	return nil
}
