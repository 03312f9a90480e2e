package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"attachbot/bot"
)

// txn is a write transaction on one of the pool's connections that costs as few round trips
// to the server as it can: BEGIN goes with its first statement, the statements whose
// results nothing reads (Defer) go with the next statement or with the COMMIT, and so do the
// messages enqueued in it (see Enqueue), which it writes last. A transaction that does one
// statement and commits costs two round trips; pgx's own transactions cost one more for
// BEGIN, and one more for each deferred statement.
type txn struct {
	conn    *pgxpool.Conn
	begun   bool               // BEGIN was sent
	pending []*pgx.QueuedQuery // deferred statements not yet sent
	out     []bot.Outgoing
}

// Defer queues a statement whose result nothing reads: it is sent with the next one, or with
// the COMMIT; its error, if any, fails that one (and so the transaction).
func (tx *txn) Defer(sql string, args ...any) {
	tx.pending = append(tx.pending, &pgx.QueuedQuery{SQL: sql, Arguments: args})
}

// prefixed returns b's queries after BEGIN (when not sent yet) and the deferred statements,
// which it forgets, and how many queries come before b's.
func (tx *txn) prefixed(b *pgx.Batch) (*pgx.Batch, int) {
	var head []*pgx.QueuedQuery
	if !tx.begun {
		head = append(head, &pgx.QueuedQuery{SQL: "begin"})
		tx.begun = true
	}
	head = append(head, tx.pending...)
	tx.pending = nil
	return &pgx.Batch{QueuedQueries: append(head, b.QueuedQueries...)}, len(head)
}

// SendBatch sends b's queries (after what prefixed adds) and reads their results, calling
// the functions they were queued with.
func (tx *txn) SendBatch(ctx context.Context, b *pgx.Batch) error {
	all, _ := tx.prefixed(b)
	return tx.conn.SendBatch(ctx, all).Close()
}

// Exec runs one statement and returns its command tag.
func (tx *txn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if tx.begun && len(tx.pending) == 0 {
		return tx.conn.Exec(ctx, sql, args...)
	}
	var tag pgconn.CommandTag
	b := &pgx.Batch{}
	b.Queue(sql, args...).Exec(func(t pgconn.CommandTag) error {
		tag = t
		return nil
	})
	err := tx.SendBatch(ctx, b)
	return tag, err
}

// Query runs one query; its rows must be closed before the transaction's next statement.
func (tx *txn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if tx.begun && len(tx.pending) == 0 {
		return tx.conn.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	all, before := tx.prefixed(b)
	br := tx.conn.SendBatch(ctx, all)
	for range before {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, results: br}, nil
}

// QueryRow runs a query that returns at most one row, read by the Row's Scan (which returns
// pgx.ErrNoRows when there is none).
func (tx *txn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := tx.Query(ctx, sql, args...)
	return &firstRow{rows: rows, err: err}
}

// commit writes the enqueued messages (flushOutbox) and commits, in one round trip with the
// deferred statements. committing reports that the outcome is unknown: the connection
// failed once the COMMIT may have been sent (a statement the server refused rolled it all
// back, and a failure before anything was sent changed nothing).
func (tx *txn) commit(ctx context.Context) (committing bool, err error) {
	if !tx.begun && len(tx.pending) == 0 && len(tx.out) == 0 {
		return false, nil // nothing was done
	}
	b, err := tx.outboxBatch()
	if err != nil {
		return false, err
	}
	var tag pgconn.CommandTag
	b.Queue("commit").Exec(func(t pgconn.CommandTag) error {
		tag = t
		return nil
	})
	if err := tx.SendBatch(ctx, b); err != nil {
		var pgErr *pgconn.PgError
		return !errors.As(err, &pgErr) && !pgconn.SafeToRetry(err), err
	}
	if tag.String() != "COMMIT" {
		return false, fmt.Errorf("commit: the server answered %q", tag.String())
	}
	tx.begun = false
	return false, nil
}

// rollback ends a transaction that did not commit, if it began. The connection is dropped
// rather than given back to the pool if that fails (the pool drops a connection left in a
// transaction).
func (tx *txn) rollback(ctx context.Context) {
	if tx.begun {
		if _, err := tx.conn.Exec(ctx, "rollback"); err == nil {
			tx.begun = false
		}
	}
}

// batchRows are the rows of a query sent in a batch: closing them reads the batch's end.
type batchRows struct {
	pgx.Rows
	results  pgx.BatchResults
	closeErr error
	closed   bool
}

// Close closes the rows and the batch.
func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.closeErr = r.results.Close()
}

// Err returns the rows' error, or the batch's.
func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// firstRow is QueryRow's row: the first of rows.
type firstRow struct {
	rows pgx.Rows
	err  error
}

// Scan reads the first row into dest, and closes the rows.
func (r *firstRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		r.rows.Close()
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
