// Package postgres keeps attachbot's durable state in PostgreSQL, for several replicas
// sharing one database: the event inbox, the outbox, attach requests, digest subscriptions
// and OAuth tokens. DB implements bot.Store with the same contract as the bbolt store
// (store/storetest): every method is one transaction; a claim on an inbox event is a lease
// in the event's row, taken with FOR UPDATE SKIP LOCKED, so that a replica that dies loses
// its claims when their leases run out.
//
// The schema is the versioned SQL of migrations/, embedded in the binary and applied by Open
// (migrate.go) under a lock, so that replicas starting at once migrate once.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"attachbot/bot"
)

// Options tune Open. The zero value is pgx's pool size, the server's statement timeout, the
// system clock and no log.
type Options struct {
	// MaxConns is the most connections the pool opens; zero or less means pgx's default
	// (the greater of 4 and the number of CPUs).
	MaxConns int32
	// StatementTimeout ends any statement that runs longer (PostgreSQL's statement_timeout,
	// set on every connection); zero means the server's setting.
	StatementTimeout time.Duration
	// Clock times the waits for a database that is down at start-up.
	Clock bot.Clock
	// Logger says, at every wait, that the database is unreachable and when Open tries again.
	Logger *slog.Logger
}

// DB is attachbot's state in a PostgreSQL database. It is safe for concurrent use, by
// several processes too. Open one with Open and release it with Close.
type DB struct {
	pool *pgxpool.Pool
	host string // the server, for errors; no password
}

var _ bot.Store = (*DB)(nil)

// Open connects to the database at url (a postgres:// URL or a libpq key=value string),
// waiting for it while it is unreachable (see Options), and brings its schema up to date. It
// fails at once on a malformed url, and when ctx ends.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's error may quote the URL, password and all: say only what is wrong.
		return nil, errors.New("open store: DATABASE_URL is not a PostgreSQL URL such as postgres://user:password@host:5432/attachbot")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(opts.StatementTimeout.Milliseconds())
	}
	if opts.Clock == nil {
		opts.Clock = bot.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db := &DB{pool: pool, host: fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)}
	if err := db.waitReachable(ctx, opts.Clock, opts.Logger); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.migrate(ctx, opts.Logger); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Backoff of Open's waits for an unreachable database: the first wait, and the longest.
const (
	firstWait = 500 * time.Millisecond
	maxWait   = 30 * time.Second
)

// waitReachable pings the database until it answers, waiting twice as long after each
// failure (up to maxWait), and logs every failure; it returns ctx's error if ctx ends first.
func (db *DB) waitReachable(ctx context.Context, clock bot.Clock, logger *slog.Logger) error {
	wait := firstWait
	for attempt := 1; ; attempt++ {
		err := db.pool.Ping(ctx)
		if err == nil {
			if attempt > 1 {
				logger.Info("database reachable", "database", db.host, "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("open store %s: gave up waiting for the database: %w", db.host, ctx.Err())
		}
		logger.Warn("database unreachable; waiting for it (DATABASE_URL)", "database", db.host, "attempt", attempt, "retry_in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("open store %s: gave up waiting for the database: %w", db.host, ctx.Err())
		case <-clock.After(wait):
		}
		wait = min(2*wait, maxWait)
	}
}

// Close releases the pool's connections. Nothing may use db afterwards.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping reports whether the database can be written, for health checks: one small write
// transaction, which counts the probes in the health table.
func (db *DB) Ping(ctx context.Context) error {
	return db.write(ctx, fmt.Sprintf("ping store %s", db.host), func(tx *txn) error {
		_, err := tx.Exec(ctx, `INSERT INTO health (id, probes) VALUES (1, 1)
			ON CONFLICT (id) DO UPDATE SET probes = health.probes + 1`)
		return err
	})
}

// write runs fn in a read-write transaction (READ COMMITTED; fn locks the rows it changes)
// and commits it together with the messages fn enqueued (see Enqueue). A transaction that
// PostgreSQL aborts for a deadlock or a serialization failure, or that lost its connection
// before its commit (a restarted server, a failover), is run again, fn and all. An error
// from fn, or the database's, is wrapped with what the transaction does; what ctx's end
// causes is returned as is.
func (db *DB) write(ctx context.Context, what string, fn func(tx *txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		committing, err := db.writeOnce(ctx, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt < maxAttempts && (aborted(err) || (!committing && db.connLost(err))) {
			continue
		}
		return fmt.Errorf("%s: %w", what, err)
	}
}

// maxAttempts is how often write or read runs what PostgreSQL keeps aborting.
const maxAttempts = 5

// writeOnce is one attempt of write; committing reports that the error came from the
// commit, whose outcome is then unknown.
func (db *DB) writeOnce(ctx context.Context, fn func(tx *txn) error) (committing bool, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	tx := &txn{conn: conn}
	// After a commit rollback does nothing; after a failure the failure is what matters.
	defer tx.rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return false, err
	}
	return tx.commit(ctx)
}

// aborted reports whether PostgreSQL aborted a transaction that may simply be run again: a
// deadlock it broke, or a serialization failure.
func aborted(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// connLost reports whether err says the connection was lost (the server shut down or ended
// it, or the network failed) rather than that a statement failed; then the pool's other
// connections are likely lost too, and are dropped, so that the next attempt connects anew.
func (db *DB) connLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if !strings.HasPrefix(pgErr.Code, "57P") && !strings.HasPrefix(pgErr.Code, "08") {
			return false
		}
	} else if !pgconn.SafeToRetry(err) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) && !isNetError(err) {
		return false
	}
	db.pool.Reset()
	return true
}

// isNetError reports whether err is a network failure.
func isNetError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr)
}

// read runs fn, one or more queries, again after a lost connection, and wraps its error
// with what it reads; what ctx's end causes is returned as is.
func (db *DB) read(ctx context.Context, what string, fn func(q querier) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := fn(db.pool)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt < maxAttempts && db.connLost(err) {
			continue
		}
		return fmt.Errorf("%s: %w", what, err)
	}
}

// selectAll runs sql, a query of db's, and reads its rows with collect; what names it in
// errors (see read).
func selectAll[T any](ctx context.Context, db *DB, what string, collect func(pgx.Rows) ([]T, error), sql string, args ...any) ([]T, error) {
	var all []T
	err := db.read(ctx, what, func(q querier) error {
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		all, err = collect(rows)
		return err
	})
	return all, err
}

// collectSequenced reads rows of key, seq and doc: each doc decoded into a T (what names it
// in errors), whose Seq setSeq sets from the seq column.
func collectSequenced[T any](what string, setSeq func(*T, uint64)) func(pgx.Rows) ([]T, error) {
	return func(rows pgx.Rows) ([]T, error) {
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
			var (
				x   T
				key string
				seq uint64
				doc []byte
			)
			if err := row.Scan(&key, &seq, &doc); err != nil {
				return x, err
			}
			if err := decode(what+" "+key, doc, &x); err != nil {
				return x, err
			}
			setSeq(&x, seq)
			return x, nil
		})
	}
}

// collectKeyed reads rows of key and doc: each doc decoded into a T (what names it in
// errors).
func collectKeyed[T any](what string) func(pgx.Rows) ([]T, error) {
	return func(rows pgx.Rows) ([]T, error) {
		return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) {
			var (
				x   T
				key string
				doc []byte
			)
			if err := row.Scan(&key, &doc); err != nil {
				return x, err
			}
			return x, decode(what+" "+key, doc, &x)
		})
	}
}

// querier is what a read needs: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// encode returns v as JSON for a json column.
func encode(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return data, nil
}

// decode decodes a json column's value into v; key names the row in an error.
func decode(key string, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// nullTime returns t for a timestamptz column, or nil (NULL) for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
