package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"attachbot/bot"
	"attachbot/store"
)

// ImportCount is, for one kind of record, how many a snapshot had, how many Import added,
// and how many of the snapshot's the database holds after it.
type ImportCount struct {
	Kind       string
	InSnapshot int
	Added      int
	Found      int
}

// importKind is one kind of record of a snapshot: its rows to insert, and the query that
// counts how many of them the database holds.
type importKind struct {
	name    string
	inserts []insert
	count   string // counts the rows of $1 (keys) and, for dead letters, $2 (times)
	keys    []string
	times   []time.Time
}

// insert is one statement of an import, and its arguments.
type insert struct {
	sql  string
	args []any
}

// Import copies a snapshot of another store (a bbolt file's) into the database, in one
// transaction, and verifies it: for each kind of record it returns how many the snapshot
// had, how many it added, and how many of them the database holds after. It adds only what
// the database lacks, keeping what it has (a request the bot changed since is not put back):
// importing one snapshot twice gives the same database as once. The waiting messages keep
// their order, after any the database has.
func (db *DB) Import(ctx context.Context, s store.Snapshot) ([]ImportCount, error) {
	kinds, err := importKinds(s)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	counts := make([]ImportCount, len(kinds))
	err = db.write(ctx, "import", func(tx *txn) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(outboxLock)); err != nil {
			return err
		}
		for i, k := range kinds {
			counts[i] = ImportCount{Kind: k.name, InSnapshot: len(k.inserts)}
			batch := &pgx.Batch{}
			for _, in := range k.inserts {
				batch.Queue(in.sql, in.args...).Exec(func(tag pgconn.CommandTag) error {
					counts[i].Added += int(tag.RowsAffected())
					return nil
				})
			}
			if err := tx.SendBatch(ctx, batch); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, k := range kinds {
		args := []any{k.keys}
		if k.times != nil {
			args = append(args, k.times)
		}
		err := db.read(ctx, "verify the import of "+k.name, func(q querier) error {
			return q.QueryRow(ctx, k.count, args...).Scan(&counts[i].Found)
		})
		if err != nil {
			return counts, err
		}
	}
	return counts, nil
}

// The statements of an import: each adds a row only if the database lacks it.
const (
	importEvent           = `INSERT INTO events (key, doc, not_before, lane) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`
	importProcessed       = `INSERT INTO events (key, processed_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`
	importEventDeadLetter = `INSERT INTO event_dead_letters (key, doc, at) SELECT $1, $2, $3
		WHERE NOT EXISTS (SELECT 1 FROM event_dead_letters WHERE key = $1 AND at = $3)`
	importOutgoing           = `INSERT INTO outbox (key, lane, doc, not_before) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`
	importOutboxDone         = `INSERT INTO outbox (key, done_at, dead) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`
	importOutgoingDeadLetter = `INSERT INTO outbox_dead_letters (key, doc, at) SELECT $1, $2, $3
		WHERE NOT EXISTS (SELECT 1 FROM outbox_dead_letters WHERE key = $1 AND at = $3)`
	importRequest = `INSERT INTO requests (id, state, room_id, created, next_poll, doc) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO NOTHING`
	importBatch = `WITH added AS (INSERT INTO batches (id, state, created, doc) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING RETURNING id)
		INSERT INTO batch_rows (batch_id, doc) SELECT id, $5 FROM added`
	importSubscription = `INSERT INTO subscriptions (room_id, doc) VALUES ($1, $2) ON CONFLICT (room_id) DO NOTHING`
	importTokens       = `INSERT INTO tokens (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`
)

// countDeadLetters counts the (key, at) pairs of $1 and $2 that a dead-letter table holds.
const countDeadLetters = `SELECT count(*) FROM unnest($1::text[], $2::timestamptz[]) AS s(key, at)
	WHERE EXISTS (SELECT 1 FROM %s d WHERE d.key = s.key AND d.at = s.at)`

// importKinds lays out the rows of a snapshot, kind by kind, in the order they are
// imported.
func importKinds(s store.Snapshot) ([]importKind, error) {
	var (
		kinds []importKind
		errs  []error
	)
	add := func(k *importKind, key string, sql string, args ...any) {
		k.keys = append(k.keys, key)
		k.inserts = append(k.inserts, insert{sql: sql, args: args})
	}
	doc := func(v any) []byte {
		data, err := encode(v)
		errs = append(errs, err)
		return data
	}
	inbox := importKind{name: "inbox events", count: `SELECT count(*) FROM events WHERE key = ANY($1)`}
	for _, ev := range s.Inbox {
		ev.Seq = 0
		add(&inbox, ev.Key, importEvent, ev.Key, doc(ev), nullTime(ev.NotBefore), ev.Lane())
	}
	processed := importKind{name: "processed event keys", count: `SELECT count(*) FROM events WHERE key = ANY($1) AND processed_at IS NOT NULL`}
	for _, p := range s.Processed {
		add(&processed, p.Key, importProcessed, p.Key, p.At)
	}
	deadEvents := importKind{name: "dead-letter events", count: fmt.Sprintf(countDeadLetters, "event_dead_letters"), times: []time.Time{}}
	for _, d := range s.EventDeadLetters {
		add(&deadEvents, d.Event.Key, importEventDeadLetter, d.Event.Key, doc(d.Event), d.At)
		deadEvents.times = append(deadEvents.times, d.At)
	}
	outbox := importKind{name: "waiting messages", count: `SELECT count(*) FROM outbox WHERE key = ANY($1)`}
	for _, o := range s.Outbox {
		o.Seq = 0
		add(&outbox, o.Key, importOutgoing, o.Key, o.Lane(), doc(o), nullTime(o.NotBefore))
	}
	done := importKind{name: "sent message keys", count: `SELECT count(*) FROM outbox WHERE key = ANY($1) AND done_at IS NOT NULL`}
	for _, d := range s.OutboxDone {
		add(&done, d.Key, importOutboxDone, d.Key, d.At, d.Dead)
	}
	deadOut := importKind{name: "dead-letter messages", count: fmt.Sprintf(countDeadLetters, "outbox_dead_letters"), times: []time.Time{}}
	for _, d := range s.OutboxDeadLetters {
		add(&deadOut, d.Outgoing.Key, importOutgoingDeadLetter, d.Outgoing.Key, doc(d.Outgoing), d.At)
		deadOut.times = append(deadOut.times, d.At)
	}
	reqs := importKind{name: "requests", count: `SELECT count(*) FROM requests WHERE id = ANY($1)`}
	for _, r := range s.Requests {
		add(&reqs, r.ID, importRequest, r.ID, string(r.State), r.RoomID, r.Created, nullTime(r.NextPoll), doc(r))
	}
	batches := importKind{name: "batches", count: `SELECT count(*) FROM batches WHERE id = ANY($1)`}
	for _, b := range s.Batches {
		rows := b.Rows
		if rows == nil {
			rows = []bot.BulkRow{}
		}
		add(&batches, b.Batch.ID, importBatch, b.Batch.ID, string(b.Batch.State), b.Batch.Created, doc(b.Batch), doc(rows))
	}
	subs := importKind{name: "subscriptions", count: `SELECT count(*) FROM subscriptions WHERE room_id = ANY($1)`}
	for _, sub := range s.Subscriptions {
		add(&subs, sub.RoomID, importSubscription, sub.RoomID, doc(sub))
	}
	tokens := importKind{name: "token sets", count: `SELECT count(*) FROM tokens WHERE name = ANY($1)`}
	for _, t := range s.Tokens {
		add(&tokens, t.Name, importTokens, t.Name, doc(t.Tokens))
	}
	kinds = append(kinds, inbox, processed, deadEvents, outbox, done, deadOut, reqs, batches, subs, tokens)
	for i := range kinds {
		if kinds[i].keys == nil {
			kinds[i].keys = []string{}
		}
	}
	return kinds, errors.Join(errs...)
}
