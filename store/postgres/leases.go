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
// inbox, due at now (NotBefore not after it), heads of their lanes (bot.Event.Lane: no event
// of the lane comes before them in seq order) with no other event of the lane claimed under a
// lease living at now, and not claimed by another owner under a lease that lives at now; an
// event owner holds already has its lease extended. It returns the claimed events as stored,
// in the order of keys. Rows another transaction is claiming at the same moment are skipped
// (FOR UPDATE SKIP LOCKED), not waited for: two replicas never both get one event. The claims
// of one lane take turns (claimEventLanesLock): each sees the claims committed before it, so
// that even an event whose smaller seq commits late is not claimed beside a later one.
func (db *DB) ClaimEvents(ctx context.Context, keys []string, owner string, now, until time.Time) ([]bot.Event, error) {
	claimed, err := db.claimEventHeads(ctx, fmt.Sprintf("claim %d events", len(keys)),
		`SELECT DISTINCT hashtext(lane) AS h FROM events WHERE key = ANY($1) AND processed_at IS NULL AND lane IS NOT NULL`,
		`SELECT key FROM events WHERE key = ANY($1)`, keys, owner, now, until)
	if err != nil {
		return nil, err
	}
	sortBy(claimed, keys, func(ev bot.Event) string { return ev.Key })
	return claimed, nil
}

// ClaimEventLanes claims, for owner until until, the heads of those of lanes whose head is
// due at now and that no other owner holds (see ClaimEvents), and returns them as stored, in
// the order of lanes.
func (db *DB) ClaimEventLanes(ctx context.Context, lanes []string, owner string, now, until time.Time) ([]bot.Event, error) {
	claimed, err := db.claimEventHeads(ctx, fmt.Sprintf("claim the heads of %d event lanes", len(lanes)),
		`SELECT DISTINCT hashtext(lane) AS h FROM unnest($1::text[]) AS l(lane)`,
		`SELECT DISTINCT ON (lane) key FROM events WHERE lane = ANY($1) AND processed_at IS NULL ORDER BY lane, seq`,
		lanes, owner, now, until)
	if err != nil {
		return nil, err
	}
	sortBy(claimed, lanes, func(ev bot.Event) string { return ev.Lane() })
	return claimed, nil
}

// claimEventLanesLock is the class of the transaction-scoped advisory locks, one per lane
// (by the hash of its name), under which the events of a lane are claimed.
const claimEventLanesLock = 0x61746c6e // "atln"

// claimEventHeads claims, for owner until until, the events that wanted ($1: args) selects
// (keys) that head their lanes and are free (see ClaimEvents), under the advisory locks of
// the lanes that lanes ($1: args) selects (hashes h), taken in the hashes' order so that two
// claims never deadlock; what names the claim in errors.
func (db *DB) claimEventHeads(ctx context.Context, what, lanes, wanted string, args []string, owner string, now, until time.Time) ([]bot.Event, error) {
	if owner == "" {
		return nil, errors.New("claim events: no owner")
	}
	var claimed []bot.Event
	err := db.write(ctx, what, func(tx *txn) error {
		// The locks go with the claim's query, in one round trip.
		tx.Defer(`SELECT pg_advisory_xact_lock($2, l.h) FROM (`+lanes+` ORDER BY h) l`, args, int32(claimEventLanesLock))
		rows, err := tx.Query(ctx, `WITH wanted AS (`+wanted+`), due AS (
				SELECT e.key FROM events e JOIN wanted w ON e.key = w.key
				WHERE e.processed_at IS NULL
					AND (e.not_before IS NULL OR e.not_before <= $3)
					AND (e.lease_owner IS NULL OR e.lease_owner = $2 OR e.lease_until <= $3)
					AND NOT EXISTS (SELECT 1 FROM events o WHERE o.lane = e.lane AND o.processed_at IS NULL AND o.seq < e.seq)
					AND NOT EXISTS (SELECT 1 FROM events o WHERE o.lane = e.lane AND o.processed_at IS NULL
						AND o.lease_owner IS NOT NULL AND o.lease_until > $3 AND o.key <> e.key)
				FOR UPDATE OF e SKIP LOCKED)
			UPDATE events e SET lease_owner = $2, lease_until = $4 FROM due WHERE e.key = due.key
			RETURNING e.key, e.seq, e.doc`, args, owner, now, until)
		if err != nil {
			return err
		}
		claimed, err = collectEvents(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

// sortBy sorts xs by where the string of returns for each first appears in order.
func sortBy[T any](xs []T, order []string, of func(T) string) {
	place := make(map[string]int, len(order))
	for i, k := range order {
		if _, seen := place[k]; !seen {
			place[k] = i
		}
	}
	slices.SortFunc(xs, func(a, b T) int { return place[of(a)] - place[of(b)] })
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
