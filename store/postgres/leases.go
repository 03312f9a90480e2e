package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"attachbot/bot"
)

// ClaimEvents claims, for owner until until, those of the events with keys that are in the
// inbox, due at now (NotBefore not after it) and not claimed by another owner under a lease
// that lives at now; an event owner holds already has its lease extended. It returns the
// claimed events as stored, in the order of keys. Rows another transaction is claiming at
// the same moment are skipped (FOR UPDATE SKIP LOCKED), not waited for: two replicas never
// both get one event.
func (db *DB) ClaimEvents(ctx context.Context, keys []string, owner string, now, until time.Time) ([]bot.Event, error) {
	if owner == "" {
		return nil, errors.New("claim events: no owner")
	}
	var claimed []bot.Event
	err := db.write(ctx, fmt.Sprintf("claim %d events", len(keys)), func(tx *txn) error {
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT key FROM events
				WHERE key = ANY($1) AND processed_at IS NULL
					AND (not_before IS NULL OR not_before <= $3)
					AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until <= $3)
				FOR UPDATE SKIP LOCKED)
			UPDATE events e SET lease_owner = $2, lease_until = $4 FROM due WHERE e.key = due.key
			RETURNING e.key, e.seq, e.doc`, keys, owner, now, until)
		if err != nil {
			return err
		}
		claimed, err = collectEvents(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	place := make(map[string]int, len(keys))
	for i, k := range keys {
		if _, seen := place[k]; !seen {
			place[k] = i
		}
	}
	slices.SortFunc(claimed, func(a, b bot.Event) int { return place[a.Key] - place[b.Key] })
	return claimed, nil
}

// RenewEvents extends owner's claims on the events with keys until until. It returns
// bot.ErrLeaseLost, and changes nothing, when one of them is not claimed by owner any more
// (another owner took it after the lease ran out, or it left the inbox).
func (db *DB) RenewEvents(ctx context.Context, keys []string, owner string, until time.Time) error {
	return db.write(ctx, "renew claims", func(tx *txn) error {
		return renewRows(ctx, tx, `UPDATE events SET lease_until = $3
			WHERE key = ANY($1) AND processed_at IS NULL AND lease_owner = $2`, keys, owner, until)
	})
}

// DueEvents returns, in the order of arrival, at most limit inbox events (no limit when
// limit is zero or less) due at now that no owner holds under a lease living at now: the
// work a replica that died left, and the events other replicas accepted.
func (db *DB) DueEvents(ctx context.Context, now time.Time, limit int) ([]bot.Event, error) {
	return selectAll(ctx, db, "read the due events", collectEvents, `SELECT key, seq, doc FROM events WHERE processed_at IS NULL
		AND (not_before IS NULL OR not_before <= $1) AND (lease_until IS NULL OR lease_until <= $1)
		ORDER BY seq LIMIT $2`, now, limitOrNull(limit))
}

// distinctOf returns keys sorted, without repeats.
func distinctOf(keys []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(keys)))
}

// ReleaseEvent gives up owner's claim on an event after a failure, and saves ev (its
// attempts, when to try again, why; its Seq stays) with it, at once: the event is due again
// at ev.NotBefore, for any owner. It returns bot.ErrLeaseLost, and changes nothing, when
// owner does not hold the claim.
func (db *DB) ReleaseEvent(ctx context.Context, ev bot.Event, owner string) error {
	if owner == "" {
		return fmt.Errorf("release event %s: no owner: %w", ev.Key, bot.ErrLeaseLost)
	}
	return db.write(ctx, fmt.Sprintf("release event %s", ev.Key), func(tx *txn) error {
		err := replaceEvent(ctx, tx, ev, owner)
		if errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("event %s is not claimed by %q: %w", ev.Key, owner, bot.ErrLeaseLost)
		}
		return err
	})
}
