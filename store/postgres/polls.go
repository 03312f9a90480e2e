package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"attachbot/bot"
)

// The status polls of requests in a polled state are claimed like inbox events: a lease in
// the request's row (poll_owner, poll_until), so that one replica polls a request at a time.

// ClaimPolls claims, for owner until until, at most limit requests (no limit when limit is
// zero or less) in a polled state whose NextPoll is due at now and that no owner holds under
// a lease living at now, and returns them as stored, earliest NextPoll first. A request
// another transaction is claiming or updating at the same moment is skipped (FOR UPDATE
// SKIP LOCKED). It reads the due requests through the index requests_polls_due, whose
// condition its own names (claimPollsQuery).
func (db *DB) ClaimPolls(ctx context.Context, owner string, now, until time.Time, limit int) ([]bot.Request, error) {
	if owner == "" {
		return nil, errors.New("claim polls: no owner")
	}
	var claimed []bot.Request
	err := db.write(ctx, "claim polls", func(tx *txn) error {
		rows, err := tx.Query(ctx, claimPollsQuery(), owner, now, until, limitOrNull(limit))
		if err != nil {
			return err
		}
		claimed, err = collectRequests(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(claimed, func(a, b bot.Request) int {
		if c := a.NextPoll.Compare(b.NextPoll); c != 0 {
			return c
		}
		return compareNewestFirst(a, b)
	})
	return claimed, nil
}

// claimPollsQuery returns ClaimPolls' statement, with $1 the owner, $2 now, $3 until and $4
// the limit or null. It names the polled states as literals, not as a parameter, so that the
// planner sees that the partial index requests_polls_due (migration 4) holds every row
// it selects, and reads them in that index's order, stopping at the first not due.
func claimPollsQuery() string {
	states := make([]string, 0, len(bot.PolledStates()))
	for _, s := range bot.PolledStates() {
		states = append(states, "'"+strings.ReplaceAll(string(s), "'", "''")+"'")
	}
	return `WITH due AS (
			SELECT id FROM requests WHERE state IN (` + strings.Join(states, ", ") + `)
				AND COALESCE(next_poll, '-infinity'::timestamptz) <= $2
				AND (poll_until IS NULL OR poll_until <= $2)
			ORDER BY COALESCE(next_poll, '-infinity'::timestamptz), created DESC, id DESC LIMIT $4
			FOR UPDATE SKIP LOCKED)
		UPDATE requests r SET poll_owner = $1, poll_until = $3 FROM due WHERE r.id = due.id
		RETURNING r.id, r.doc`
}

// RenewPolls extends owner's claims on requests until until. It returns bot.ErrLeaseLost,
// and changes nothing, when owner does not hold one of them.
func (db *DB) RenewPolls(ctx context.Context, ids []string, owner string, until time.Time) error {
	return db.write(ctx, "renew polls", func(tx *txn) error {
		return renewRows(ctx, tx, `UPDATE requests SET poll_until = $3 WHERE id = ANY($1) AND poll_owner = $2`, ids, owner, until)
	})
}

// ReleasePolls gives up owner's claims on requests, changing nothing else; the claims owner
// does not hold are left alone.
func (db *DB) ReleasePolls(ctx context.Context, ids []string, owner string) error {
	return db.write(ctx, "release polls", func(tx *txn) error {
		_, err := tx.Exec(ctx, `UPDATE requests SET poll_owner = NULL, poll_until = NULL WHERE id = ANY($1) AND poll_owner = $2`, ids, owner)
		return err
	})
}

// FinishPolls is UpdateRequests for the polled requests owner holds, giving up the claims at
// once: a request owner does not hold is left as it was, with an error wrapping
// bot.ErrLeaseLost among those returned joined. A failure to write changes nothing, and the
// claims stay.
func (db *DB) FinishPolls(ctx context.Context, ids []string, owner string, fn func(id string, r *bot.Request) ([]bot.Outgoing, error)) error {
	var skipped []error
	err := db.write(ctx, fmt.Sprintf("record %d polls", len(ids)), func(tx *txn) error {
		skipped = nil
		var held []string
		rows, err := tx.Query(ctx, `SELECT id FROM requests WHERE id = ANY($1) AND poll_owner = $2 ORDER BY id FOR UPDATE`, distinctOf(ids), owner)
		if err != nil {
			return err
		}
		if held, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		var mine []string
		for _, id := range ids {
			if slices.Contains(held, id) {
				mine = append(mine, id)
			} else {
				skipped = append(skipped, fmt.Errorf("record the poll of %s: %w", id, bot.ErrLeaseLost))
			}
		}
		failed, err := updateRequestsTx(ctx, tx, mine, fn)
		if err != nil {
			return err
		}
		skipped = append(skipped, failed...)
		_, err = tx.Exec(ctx, `UPDATE requests SET poll_owner = NULL, poll_until = NULL WHERE id = ANY($1)`, held)
		return err
	})
	if err != nil {
		return err
	}
	return errors.Join(skipped...)
}
