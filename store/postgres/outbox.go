package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"attachbot/bot"
)

// outboxLock is the key of the transaction-scoped advisory lock under which a transaction
// numbers the messages it enqueues and commits: so the outbox's Seq follows commit order, as
// OutboxAfter needs (an identity column alone does not: a transaction that drew a smaller
// number may commit after a reader has seen a larger one). The lock is taken last, just
// before the commit, so it is held only for the inserts and the commit.
const outboxLock = 0x6174746163686f62 // "attachob"

// Enqueue adds messages to the outbox, in order, each with the next sequence number as its
// Seq. A message is skipped if a message with its key is waiting, was sent or was given up
// on (until PruneProcessed forgets the key), or came earlier in out. Every message needs a
// key.
func (db *DB) Enqueue(ctx context.Context, out []bot.Outgoing) error {
	if len(out) == 0 {
		return ctx.Err()
	}
	return db.write(ctx, "enqueue", func(tx *txn) error { return tx.enqueue(out) })
}

// enqueue adds out to what tx writes last (outboxBatch). A message without a key fails
// tx at once.
func (tx *txn) enqueue(out []bot.Outgoing) error {
	for _, o := range out {
		if o.Key == "" {
			return errors.New("a message has no key")
		}
	}
	tx.out = append(tx.out, out...)
	return nil
}

// outboxBatch returns the statements that write the messages enqueued in tx, under
// outboxLock (see there), to be sent with its COMMIT; an empty batch when there are none.
func (tx *txn) outboxBatch() (*pgx.Batch, error) {
	batch := &pgx.Batch{}
	if len(tx.out) == 0 {
		return batch, nil
	}
	batch.Queue(`SELECT pg_advisory_xact_lock($1)`, int64(outboxLock))
	for _, o := range tx.out {
		o.Seq = 0
		data, err := encode(o)
		if err != nil {
			return nil, fmt.Errorf("enqueue: %w", err)
		}
		batch.Queue(`INSERT INTO outbox (key, lane, doc, not_before) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
			o.Key, o.Lane(), data, nullTime(o.NotBefore))
	}
	return batch, nil
}

// Outbox returns the messages waiting to be sent, in the order they were enqueued.
func (db *DB) Outbox(ctx context.Context) ([]bot.Outgoing, error) {
	return db.OutboxAfter(ctx, 0)
}

// OutboxAfter returns the messages waiting to be sent whose Seq is greater than seq, in the
// order they were enqueued, which is the order they were committed in (see outboxLock).
func (db *DB) OutboxAfter(ctx context.Context, seq uint64) ([]bot.Outgoing, error) {
	return selectAll(ctx, db, "read the outbox", collectOutgoing,
		`SELECT key, seq, doc FROM outbox WHERE done_at IS NULL AND seq > $1 ORDER BY seq`, int64(seq))
}

// collectOutgoing reads rows of key, seq and doc as messages.
var collectOutgoing = collectSequenced("outgoing message", func(o *bot.Outgoing, seq uint64) { o.Seq = seq })

// SaveOutgoing replaces a waiting message, found by its key (to record its attempts, when to
// try again and why); its Seq stays what Enqueue assigned. It returns bot.ErrNotFound if no
// message with that key is waiting.
func (db *DB) SaveOutgoing(ctx context.Context, o bot.Outgoing) error {
	return db.write(ctx, fmt.Sprintf("save outgoing message %s", o.Key), func(tx *txn) error {
		return saveOutgoing(ctx, tx, o)
	})
}

// saveOutgoing is SaveOutgoing within tx.
func saveOutgoing(ctx context.Context, tx *txn, o bot.Outgoing) error {
	o.Seq = 0
	data, err := encode(o)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `UPDATE outbox SET doc = $2, not_before = $3 WHERE key = $1 AND done_at IS NULL`, o.Key, data, nullTime(o.NotBefore))
	if err == nil && tag.RowsAffected() == 0 {
		err = bot.ErrNotFound
	}
	return err
}

// MarkSent removes a message from the outbox and remembers its key as sent at at, so that it
// is not enqueued again. Marking a message that already left the outbox does nothing; an
// unknown key is bot.ErrNotFound.
func (db *DB) MarkSent(ctx context.Context, key string, at time.Time) error {
	return db.write(ctx, fmt.Sprintf("mark message %s sent", key), func(tx *txn) error {
		return markSent(ctx, tx, key, at)
	})
}

// markSent is MarkSent within tx.
func markSent(ctx context.Context, tx *txn, key string, at time.Time) error {
	var done bool
	err := tx.QueryRow(ctx, `SELECT done_at IS NOT NULL FROM outbox WHERE key = $1 FOR UPDATE`, key).Scan(&done)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return bot.ErrNotFound
	case err != nil || done:
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE outbox SET doc = NULL, not_before = NULL, done_at = $2 WHERE key = $1`, key, at)
	return err
}

// DeadLetterOutgoing removes a waiting message from the outbox, keeps o (with at) for the
// operator, remembers its key as done, so that it is not enqueued again, and enqueues out,
// at once. It returns bot.ErrNotFound if no message with o's key is waiting.
func (db *DB) DeadLetterOutgoing(ctx context.Context, o bot.Outgoing, at time.Time, out []bot.Outgoing) error {
	return db.write(ctx, fmt.Sprintf("dead-letter outgoing message %s", o.Key), func(tx *txn) error {
		return deadLetterOutgoing(ctx, tx, o, at, out)
	})
}

// deadLetterOutgoing is DeadLetterOutgoing within tx.
func deadLetterOutgoing(ctx context.Context, tx *txn, o bot.Outgoing, at time.Time, out []bot.Outgoing) error {
	err := tx.QueryRow(ctx, `UPDATE outbox SET doc = NULL, not_before = NULL, done_at = $2, dead = true
		WHERE key = $1 AND done_at IS NULL RETURNING seq`, o.Key, at).Scan(&o.Seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return bot.ErrNotFound
	}
	if err != nil {
		return err
	}
	data, err := encode(o)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox_dead_letters (key, doc, at) VALUES ($1, $2, $3)`, o.Key, data, at); err != nil {
		return err
	}
	return tx.enqueue(out)
}
