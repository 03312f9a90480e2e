package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"attachbot/bot"
)

// AddEvent puts a verified event in the inbox. It reports false, and changes nothing, when
// an event with the same key is in the inbox or was processed (and not pruned since).
func (db *DB) AddEvent(ctx context.Context, ev bot.Event) (bool, error) {
	added, err := db.AddEvents(ctx, []bot.Event{ev})
	if err != nil {
		return false, err
	}
	return added[0], nil
}

// AddEvents puts verified events in the inbox in one transaction, sets the Seq of each
// event added (its order of arrival), and reports for each whether it was added: an event
// whose key is in the inbox, was processed (and not pruned since), or came earlier in evs
// is not. Deduplication is exact across replicas: the key is the row's primary key, so a
// second insert of it waits for the first's transaction and then does nothing. An event
// without a key fails the whole batch.
func (db *DB) AddEvents(ctx context.Context, evs []bot.Event) ([]bool, error) {
	docs := make([][]byte, len(evs))
	for i, ev := range evs {
		if ev.Key == "" {
			return nil, errors.New("add events: an event has no key")
		}
		ev.Seq = 0
		data, err := encode(ev)
		if err != nil {
			return nil, fmt.Errorf("add events: %w", err)
		}
		docs[i] = data
	}
	added := make([]bool, len(evs))
	seqs := make([]uint64, len(evs))
	err := db.write(ctx, fmt.Sprintf("add %d events", len(evs)), func(tx *txn) error {
		clear(added)
		batch := &pgx.Batch{}
		for i, ev := range evs {
			batch.Queue(`INSERT INTO events (key, doc, not_before, lane) VALUES ($1, $2, $3, $4)
				ON CONFLICT (key) DO NOTHING RETURNING seq`, ev.Key, docs[i], nullTime(ev.NotBefore), ev.Lane()).
				QueryRow(func(row pgx.Row) error {
					err := row.Scan(&seqs[i])
					if errors.Is(err, pgx.ErrNoRows) {
						return nil
					}
					added[i] = err == nil
					return err
				})
		}
		return tx.SendBatch(ctx, batch)
	})
	if err != nil {
		return nil, err
	}
	for i := range evs {
		if added[i] {
			evs[i].Seq = seqs[i]
		}
	}
	return added, nil
}

// Events returns the inbox in the order it arrived.
func (db *DB) Events(ctx context.Context) ([]bot.Event, error) {
	return selectAll(ctx, db, "read the inbox", collectEvents, `SELECT key, seq, doc FROM events WHERE processed_at IS NULL ORDER BY seq`)
}

// EventRefs returns the Key, Seq, RoomID, Received and NotBefore of each inbox event, in the
// order of Events, reading only those fields of each event's doc.
func (db *DB) EventRefs(ctx context.Context) ([]bot.EventRef, error) {
	return selectAll(ctx, db, "read the inbox's index", collectEventRefs,
		`SELECT key, seq, coalesce(doc->>'roomId', ''), doc->>'received', doc->>'notBefore'
		FROM events WHERE processed_at IS NULL ORDER BY seq`)
}

// collectEventRefs reads rows of key, seq, room id and the received and not-before times
// (as JSON encodes them; not-before may be null) as event refs.
func collectEventRefs(rows pgx.Rows) ([]bot.EventRef, error) {
	defer rows.Close()
	var refs []bot.EventRef
	for rows.Next() {
		var ref bot.EventRef
		var seq int64
		var received string
		var notBefore *string
		if err := rows.Scan(&ref.Key, &seq, &ref.RoomID, &received, &notBefore); err != nil {
			return nil, err
		}
		ref.Seq = uint64(seq)
		var err error
		if ref.Received, err = time.Parse(time.RFC3339Nano, received); err != nil {
			return nil, fmt.Errorf("event %s: received: %w", ref.Key, err)
		}
		if notBefore != nil {
			if ref.NotBefore, err = time.Parse(time.RFC3339Nano, *notBefore); err != nil {
				return nil, fmt.Errorf("event %s: not before: %w", ref.Key, err)
			}
		}
		refs = append(refs, ref)
	}
	return refs, rows.Err()
}

// collectEvents reads rows of key, seq and doc as events.
var collectEvents = collectSequenced("event", func(ev *bot.Event, seq uint64) { ev.Seq = seq })

// SaveEvent replaces an event in the inbox (its attempts, when to try again and why); its
// Seq, and any claim on it, stay. It returns bot.ErrNotFound if the event is no longer in the
// inbox.
func (db *DB) SaveEvent(ctx context.Context, ev bot.Event) error {
	return db.write(ctx, fmt.Sprintf("save event %s", ev.Key), func(tx *txn) error {
		return replaceEvent(ctx, tx, ev, "")
	})
}

// replaceEvent replaces a waiting event's doc, due time and lane, keeping its Seq; with an owner,
// only if owner holds its claim, which it then gives up. bot.ErrNotFound if no such row.
func replaceEvent(ctx context.Context, tx *txn, ev bot.Event, owner string) error {
	ev.Seq = 0
	data, err := encode(ev)
	if err != nil {
		return err
	}
	sql := `UPDATE events SET doc = $2, not_before = $3, lane = $4 WHERE key = $1 AND processed_at IS NULL`
	args := []any{ev.Key, data, nullTime(ev.NotBefore), ev.Lane()}
	if owner != "" {
		sql = `UPDATE events SET doc = $2, not_before = $3, lane = $4, lease_owner = NULL, lease_until = NULL
			WHERE key = $1 AND processed_at IS NULL AND lease_owner = $5`
		args = append(args, owner)
	}
	tag, err := tx.Exec(ctx, sql, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return bot.ErrNotFound
	}
	return nil
}

// FinishEvent removes an event from the inbox, drops owner's claim on it, records its key as
// processed at processed and enqueues out (see Enqueue), in one transaction. It returns
// bot.ErrNotFound, and changes nothing, if the event is not in the inbox, and
// bot.ErrLeaseLost if owner does not hold its claim (an empty owner: if another owner holds
// it under a lease living at processed).
func (db *DB) FinishEvent(ctx context.Context, key, owner string, processed time.Time, out []bot.Outgoing) error {
	return db.write(ctx, fmt.Sprintf("finish event %s", key), func(tx *txn) error {
		if err := holdsEvent(ctx, tx, key, owner, processed, false); err != nil {
			return err
		}
		// Sent with the messages and the commit, in one round trip.
		tx.Defer(`UPDATE events SET doc = NULL, not_before = NULL, lease_owner = NULL, lease_until = NULL,
			processed_at = $2 WHERE key = $1`, key, processed)
		return tx.enqueue(out)
	})
}

// holdsEvent locks event key's row and checks that owner holds its claim (an empty owner:
// that no owner holds it under a lease living at now): bot.ErrLeaseLost otherwise. An event
// not in the inbox is bot.ErrNotFound, or, when absentOK, fine for an empty owner.
func holdsEvent(ctx context.Context, tx *txn, key, owner string, now time.Time, absentOK bool) error {
	var holder *string
	var until *time.Time
	err := tx.QueryRow(ctx, `SELECT lease_owner, lease_until FROM events WHERE key = $1 AND processed_at IS NULL FOR UPDATE`,
		key).Scan(&holder, &until)
	switch {
	case errors.Is(err, pgx.ErrNoRows) && owner != "" && absentOK:
		return fmt.Errorf("event %s: %w", key, bot.ErrLeaseLost)
	case errors.Is(err, pgx.ErrNoRows) && absentOK:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return bot.ErrNotFound
	case err != nil:
		return err
	}
	held := holder != nil && until != nil && until.After(now)
	if (owner != "" && (holder == nil || *holder != owner)) || (owner == "" && held) {
		return fmt.Errorf("event %s: %w", key, bot.ErrLeaseLost)
	}
	return nil
}

// DeadLetterEvent removes an event from the inbox, keeps it (with at) for the operator,
// records its key as processed at at, and enqueues out (the notice to the space), all at
// once. It returns bot.ErrLeaseLost, and changes nothing, if owner does not hold the event's
// claim (an empty owner: if another owner holds it under a lease living at at; the event need
// not be in the inbox then).
func (db *DB) DeadLetterEvent(ctx context.Context, ev bot.Event, owner string, at time.Time, out []bot.Outgoing) error {
	if ev.Key == "" {
		return errors.New("dead-letter event: the event has no key")
	}
	data, err := encode(ev)
	if err != nil {
		return fmt.Errorf("dead-letter event %s: %w", ev.Key, err)
	}
	return db.write(ctx, fmt.Sprintf("dead-letter event %s", ev.Key), func(tx *txn) error {
		if err := holdsEvent(ctx, tx, ev.Key, owner, at, true); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO event_dead_letters (key, doc, at) VALUES ($1, $2, $3)`, ev.Key, data, at); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO events (key, processed_at) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET doc = NULL, not_before = NULL, lease_owner = NULL, lease_until = NULL,
			processed_at = EXCLUDED.processed_at`, ev.Key, at)
		if err != nil {
			return err
		}
		return tx.enqueue(out)
	})
}

// PruneProcessed forgets the keys of events processed before before, and the keys of
// outbox messages sent (or given up on) before before. A forgotten key is no longer
// deduplicated. It returns how many keys it forgot; the indexes on the times make it read
// only what it forgets.
func (db *DB) PruneProcessed(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := db.write(ctx, "prune processed keys", func(tx *txn) error {
		events, err := tx.Exec(ctx, `DELETE FROM events WHERE processed_at < $1`, before)
		if err != nil {
			return fmt.Errorf("processed events: %w", err)
		}
		sent, err := tx.Exec(ctx, `DELETE FROM outbox WHERE done_at < $1`, before)
		if err != nil {
			return fmt.Errorf("outbox keys: %w", err)
		}
		// The claim rows of lanes that have nothing waiting and no lease since before.
		if _, err := tx.Exec(ctx, `DELETE FROM outbox_lanes l WHERE (lease_until IS NULL OR lease_until < $1)
			AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.lane = l.lane AND o.done_at IS NULL)`, before); err != nil {
			return fmt.Errorf("idle lanes: %w", err)
		}
		n = int(events.RowsAffected() + sent.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
