package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations is the schema, one numbered SQL file a version, applied in order by goose with
// the versions written in Go (fillEventLanes, version 3), which compute what SQL would have
// to define a second time. Add a new file for every change; never edit one that was released.
//
//go:embed migrations/*.sql
var migrations embed.FS

// The tables goose keeps in the database: the versions applied, and the lock that makes
// replicas starting at once migrate one at a time (a row with a lease, renewed while the
// migration runs, rather than a session advisory lock, which a connection pooler in
// transaction mode would break).
const (
	versionTable = "goose_db_version"
	lockTable    = "goose_lock"
)

// Migration lock timing: how often a replica that finds the lock taken tries again, for how
// long at most, and how long the lock outlives a replica that died holding it.
const (
	lockRetry    = 250 * time.Millisecond
	lockAttempts = 2400 // 10 minutes
	lockLease    = 30 * time.Second
)

// migrate applies the migrations the database lacks, holding goose's lock, so that of
// replicas starting at once one migrates and the others find nothing left to do.
func (db *DB) migrate(ctx context.Context, logger *slog.Logger) error {
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	locker, err := lock.NewPostgresTableLocker(lock.WithTableName(lockTable), lock.WithTableLockTimeout(lockRetry, lockAttempts),
		lock.WithTableLeaseDuration(lockLease), lock.WithTableLogger(logger))
	if err != nil {
		return fmt.Errorf("migrate store %s: %w", db.host, err)
	}
	files, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate store %s: %w", db.host, err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, files, goose.WithDisableGlobalRegistry(true),
		goose.WithTableName(versionTable), goose.WithLocker(locker), goose.WithSlog(logger), goose.WithGoMigrations(fillEventLanes))
	if err != nil {
		return fmt.Errorf("migrate store %s: %w", db.host, err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate store %s: %w", db.host, err)
	}
	for _, r := range results {
		logger.Info("store migrated", "database", db.host, "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration.String())
	}
	return nil
}
