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
// a lease living at now, and returns what a poll reads of them as stored, earliest NextPoll
// first. A request another transaction is claiming or updating at the same moment is
// skipped (FOR UPDATE SKIP LOCKED). It reads the due requests through the index
// requests_polls_due, whose condition its own names (claimPollsQuery), and returns the
// fields a poll reads from their documents, not the documents.
func (db *DB) ClaimPolls(ctx context.Context, owner string, now, until time.Time, limit int) ([]bot.PollClaim, error) {
	if owner == "" {
		return nil, errors.New("claim polls: no owner")
	}
	type claimed struct {
		bot.PollClaim
		created time.Time
	}
	var all []claimed
	err := db.write(ctx, "claim polls", func(tx *txn) error {
		rows, err := tx.Query(ctx, claimPollsQuery(), owner, now, until, limitOrNull(limit))
		if err != nil {
			return err
		}
		all, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (c claimed, err error) {
			var next *time.Time
			err = row.Scan(&c.ID, &c.CustomerID, &c.WebexStatus, &c.OrgID, &next, &c.created)
			c.NextPoll = polledAt(next)
			return c, err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b claimed) int {
		if c := a.NextPoll.Compare(b.NextPoll); c != 0 {
			return c
		}
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	claims := make([]bot.PollClaim, len(all))
	for i, c := range all {
		claims[i] = c.PollClaim
	}
	return claims, nil
}

// polledStates returns the polled states as SQL literals, for a condition the planner
// matches with the partial index requests_polls_due's (migration 4).
func polledStates() string {
	states := make([]string, 0, len(bot.PolledStates()))
	for _, s := range bot.PolledStates() {
		states = append(states, "'"+strings.ReplaceAll(string(s), "'", "''")+"'")
	}
	return strings.Join(states, ", ")
}

// claimPollsQuery returns ClaimPolls' statement, with $1 the owner, $2 now, $3 until and $4
// the limit or null. It names the polled states as literals, not as a parameter, so that the
// planner sees that the partial index requests_polls_due (migration 4) holds every row
// it selects, and reads them in that index's order, stopping at the first not due.
func claimPollsQuery() string {
	return `WITH due AS (
			SELECT id FROM requests WHERE state IN (` + polledStates() + `)
				AND COALESCE(next_poll, '-infinity'::timestamptz) <= $2
				AND (poll_until IS NULL OR poll_until <= $2)
			ORDER BY COALESCE(next_poll, '-infinity'::timestamptz), created DESC, id DESC LIMIT $4
			FOR UPDATE SKIP LOCKED)
		UPDATE requests r SET poll_owner = $1, poll_until = $3 FROM due WHERE r.id = due.id
		RETURNING r.id, COALESCE(r.doc->>'customerId', ''), COALESCE(r.doc->>'webexStatus', ''),
			COALESCE(r.doc->'spec'->>'orgId', ''), r.next_poll, r.created`
}

// polledAt returns a next_poll as the store's contract gives it: the zero time for null (a
// request never scheduled) or a time before 1970.
func polledAt(next *time.Time) time.Time {
	if next == nil || next.Before(time.Unix(0, 0)) {
		return time.Time{}
	}
	return *next
}

// firstPollPage is how many of the next polls FirstPoll reads at first; it reads four times
// as many each time skip refused all it read.
const firstPollPage = 64

// FirstPoll returns the earliest NextPoll of the polled requests for whose id skip is false,
// and whether there is one, reading the ids and next polls in the order of the index
// requests_polls_due, a page at a time, until skip is false for one.
func (db *DB) FirstPoll(ctx context.Context, skip func(id string) bool) (time.Time, bool, error) {
	type entry struct {
		id   string
		next *time.Time
	}
	sql := firstPollQuery()
	for page := firstPollPage; ; page *= 4 {
		entries, err := selectAll(ctx, db, "read the first poll", func(rows pgx.Rows) ([]entry, error) {
			return pgx.CollectRows(rows, func(row pgx.CollectableRow) (e entry, err error) {
				return e, row.Scan(&e.id, &e.next)
			})
		}, sql, page)
		if err != nil {
			return time.Time{}, false, err
		}
		for _, e := range entries {
			if !skip(e.id) {
				return polledAt(e.next), true, nil
			}
		}
		if len(entries) < page {
			return time.Time{}, false, nil
		}
	}
}

// firstPollQuery returns FirstPoll's statement, with $1 the page's size: the ids and next
// polls of the polled requests in the order of requests_polls_due (see claimPollsQuery).
func firstPollQuery() string {
	return `SELECT id, next_poll FROM requests WHERE state IN (` + polledStates() + `)
		ORDER BY COALESCE(next_poll, '-infinity'::timestamptz), created DESC, id DESC LIMIT $1`
}

// duePollsQuery returns DuePolls' statement, with $1 now: how many polled requests are due,
// and the earliest next poll among them (null when one was never scheduled), through
// requests_polls_due (see claimPollsQuery).
func duePollsQuery() string {
	return `SELECT count(*), CASE WHEN bool_or(next_poll IS NULL) THEN NULL ELSE min(next_poll) END
		FROM requests WHERE state IN (` + polledStates() + `) AND COALESCE(next_poll, '-infinity'::timestamptz) <= $1`
}

// DuePolls counts the polled requests whose NextPoll is due at now, and returns the earliest
// NextPoll among them, through the index requests_polls_due.
func (db *DB) DuePolls(ctx context.Context, now time.Time) (int, time.Time, error) {
	var (
		n     int
		first *time.Time
	)
	err := db.read(ctx, "count the due polls", func(q querier) error {
		return q.QueryRow(ctx, duePollsQuery(), now).Scan(&n, &first)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return n, polledAt(first), nil
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
