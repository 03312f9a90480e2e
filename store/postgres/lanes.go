package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"attachbot/bot"
)

// The outbox's lanes (bot.Outgoing.Lane) are claimed like inbox events, a lease in a row of
// outbox_lanes: the head of a lane (its waiting message with the smallest seq) is sent only
// by the owner holding the lane.

// laneHeads selects the head of every lane that has a waiting message, as a table of lane,
// key, seq, doc and not_before, for the queries below to filter.
const laneHeads = `SELECT DISTINCT ON (lane) lane, key, seq, doc, not_before FROM outbox
	WHERE done_at IS NULL ORDER BY lane, seq`

// DueLanes returns the heads of at most limit lanes (no limit when limit is zero or less)
// whose head is due at now and that no owner holds under a lease living at now, oldest head
// first.
func (db *DB) DueLanes(ctx context.Context, now time.Time, limit int) ([]bot.Outgoing, error) {
	return selectAll(ctx, db, "read the due lanes", collectOutgoing, `SELECT h.key, h.seq, h.doc FROM (`+laneHeads+`) h
		LEFT JOIN outbox_lanes l ON l.lane = h.lane
		WHERE (h.not_before IS NULL OR h.not_before <= $1) AND (l.lease_until IS NULL OR l.lease_until <= $1)
		ORDER BY h.seq LIMIT $2`, now, limitOrNull(limit))
}

// ClaimLanes claims, for owner until until, those of lanes whose head is due at now and that
// no other owner holds under a lease living at now (owner's own claims are extended), and
// returns their heads as stored, by seq. A lane another transaction is claiming at the same
// moment is skipped (FOR UPDATE SKIP LOCKED).
func (db *DB) ClaimLanes(ctx context.Context, lanes []string, owner string, now, until time.Time) ([]bot.Outgoing, error) {
	if owner == "" {
		return nil, errors.New("claim lanes: no owner")
	}
	var heads []bot.Outgoing
	err := db.write(ctx, fmt.Sprintf("claim %d lanes", len(lanes)), func(tx *txn) error {
		// Only lanes with a waiting message get a row: a lane nobody sends to leaves none.
		// (Sent with the query below, in one round trip.)
		tx.Defer(`INSERT INTO outbox_lanes (lane)
			SELECT DISTINCT lane FROM outbox WHERE lane = ANY($1) AND done_at IS NULL
			ON CONFLICT (lane) DO NOTHING`, lanes)
		rows, err := tx.Query(ctx, `WITH free AS (
				SELECT lane FROM outbox_lanes WHERE lane = ANY($1)
					AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until <= $3)
				FOR UPDATE SKIP LOCKED),
			heads AS (SELECT DISTINCT ON (o.lane) o.lane, o.key, o.seq, o.doc, o.not_before
				FROM outbox o JOIN free USING (lane) WHERE o.done_at IS NULL ORDER BY o.lane, o.seq),
			due AS (SELECT * FROM heads WHERE not_before IS NULL OR not_before <= $3),
			claimed AS (UPDATE outbox_lanes l SET lease_owner = $2, lease_until = $4 FROM due WHERE l.lane = due.lane)
			SELECT key, seq, doc FROM due ORDER BY seq`, lanes, owner, now, until)
		if err != nil {
			return err
		}
		heads, err = collectOutgoing(rows)
		return err
	})
	return heads, err
}

// RenewLanes extends owner's claims on lanes until until. It returns bot.ErrLeaseLost, and
// changes nothing, when owner does not hold one of them.
func (db *DB) RenewLanes(ctx context.Context, lanes []string, owner string, until time.Time) error {
	return db.write(ctx, "renew lanes", func(tx *txn) error {
		return renewRows(ctx, tx, `UPDATE outbox_lanes SET lease_until = $3 WHERE lane = ANY($1) AND lease_owner = $2`, lanes, owner, until)
	})
}

// ReleaseLane saves o, a waiting message (its attempts, when to try again, why), and gives
// up owner's claim on its lane, at once. It returns bot.ErrLeaseLost, and changes nothing,
// when owner does not hold the lane; bot.ErrNotFound when o is not waiting.
func (db *DB) ReleaseLane(ctx context.Context, o bot.Outgoing, owner string) error {
	return db.holdingLane(ctx, o.Lane(), owner, fmt.Sprintf("release the lane of message %s", o.Key), func(tx *txn) error {
		return saveOutgoing(ctx, tx, o)
	})
}

// FinishLane marks the waiting message key sent at at (as MarkSent) and gives up owner's
// claim on its lane, at once. It returns bot.ErrLeaseLost, and changes nothing, when owner
// does not hold the lane; bot.ErrNotFound when no message with key is waiting. It costs two
// round trips: finding the message's lane and locking it, then the updates and the commit.
func (db *DB) FinishLane(ctx context.Context, key, owner string, at time.Time) error {
	return db.write(ctx, fmt.Sprintf("mark message %s sent", key), func(tx *txn) error {
		var lane string
		var held bool
		err := tx.QueryRow(ctx, `SELECT o.lane, coalesce(l.lease_owner = $2, false) FROM outbox o JOIN outbox_lanes l USING (lane)
			WHERE o.key = $1 AND o.done_at IS NULL FOR UPDATE OF l`, key, owner).Scan(&lane, &held)
		if errors.Is(err, pgx.ErrNoRows) {
			var waiting bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE key = $1 AND done_at IS NULL)`, key).Scan(&waiting); err != nil {
				return err
			}
			if !waiting {
				return bot.ErrNotFound
			}
			return fmt.Errorf("the lane of message %s: %w", key, bot.ErrLeaseLost)
		}
		if err != nil {
			return err
		}
		if !held {
			return fmt.Errorf("lane %q: %w", lane, bot.ErrLeaseLost)
		}
		// The lane is locked, so no other holder marks it; MarkSent meanwhile makes this a no-op.
		tx.Defer(`UPDATE outbox SET doc = NULL, not_before = NULL, done_at = $2 WHERE key = $1 AND done_at IS NULL`, key, at)
		releaseLane(tx, lane)
		return nil
	})
}

// DeadLetterLane gives o up (as DeadLetterOutgoing, enqueueing out) and owner's claim on its
// lane, at once. It returns bot.ErrLeaseLost, and changes nothing, when owner does not hold
// the lane.
func (db *DB) DeadLetterLane(ctx context.Context, o bot.Outgoing, owner string, at time.Time, out []bot.Outgoing) error {
	return db.holdingLane(ctx, o.Lane(), owner, fmt.Sprintf("dead-letter outgoing message %s", o.Key), func(tx *txn) error {
		return deadLetterOutgoing(ctx, tx, o, at, out)
	})
}

// holdingLane runs fn in a transaction that first locks lane's row, provided owner holds
// the lane (bot.ErrLeaseLost otherwise), and gives the claim up with fn's changes.
func (db *DB) holdingLane(ctx context.Context, lane, owner, what string, fn func(tx *txn) error) error {
	return db.write(ctx, what, func(tx *txn) error {
		var held bool
		err := tx.QueryRow(ctx, `SELECT coalesce(lease_owner = $2, false) FROM outbox_lanes WHERE lane = $1 FOR UPDATE`, lane, owner).Scan(&held)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !held) {
			return fmt.Errorf("lane %q: %w", lane, bot.ErrLeaseLost)
		}
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		releaseLane(tx, lane)
		return nil
	})
}

// releaseLane drops the claim on lane, with tx's commit.
func releaseLane(tx *txn, lane string) {
	tx.Defer(`UPDATE outbox_lanes SET lease_owner = NULL, lease_until = NULL WHERE lane = $1`, lane)
}

// renewRows runs sql, an UPDATE of the rows of keys ($1) held by owner ($2) to until ($3),
// and returns bot.ErrLeaseLost (which rolls the transaction back) unless it updated a row
// for every distinct key.
func renewRows(ctx context.Context, tx *txn, sql string, keys []string, owner string, until time.Time) error {
	distinct := distinctOf(keys)
	tag, err := tx.Exec(ctx, sql, distinct, owner, until)
	if err != nil {
		return err
	}
	if n := tag.RowsAffected(); n != int64(len(distinct)) {
		return fmt.Errorf("%d of %d are not claimed by %s: %w", int64(len(distinct))-n, len(distinct), owner, bot.ErrLeaseLost)
	}
	return nil
}

// limitOrNull returns limit for a LIMIT clause: NULL, no limit, when it is zero or less.
func limitOrNull(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}
