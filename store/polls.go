package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// ClaimPolls claims, for owner until until, at most limit requests in a polled state whose
// NextPoll is due at now and that no owner holds under a lease living at now, and returns
// them as stored, earliest NextPoll first (then newest first, as Requests lists them). It
// reads the due requests only, through the index of the polled requests by next poll
// (pollindex.go), and writes nothing to the file.
func (db *DB) ClaimPolls(ctx context.Context, owner string, now, until time.Time, limit int) ([]bot.Request, error) {
	if owner == "" {
		return nil, errors.New("claim polls: no owner")
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	var due []bot.Request
	err := db.view(ctx, "claim polls", func(tx *bolt.Tx) error {
		ids, err := duePolls(tx, now, limit, func(id string) bool { return db.claims.polls.busy(id, now) })
		if err != nil {
			return err
		}
		due = make([]bot.Request, len(ids))
		reqs := tx.Bucket(bucketRequests)
		for i, id := range ids {
			found, err := getJSON(reqs, []byte(id), &due[i])
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("the poll index lists request %q, which does not exist", id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim polls: %w", err)
	}
	for _, r := range due {
		db.claims.polls[r.ID] = lease{Owner: owner, Until: until}
	}
	return due, nil
}

// RenewPolls extends owner's claims on requests until until; bot.ErrLeaseLost, changing
// nothing, when owner does not hold one of them.
func (db *DB) RenewPolls(ctx context.Context, ids []string, owner string, until time.Time) error {
	return db.renew(ctx, db.claims.polls, "polls", ids, owner, until)
}

// ReleasePolls gives up owner's claims on requests; the claims owner does not hold are left
// alone.
func (db *DB) ReleasePolls(ctx context.Context, ids []string, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.claims.letGo(db.claims.polls, db.claims.hold(db.claims.polls, ids, owner), true)
	return nil
}

// FinishPolls is UpdateRequests for the requests owner holds, giving up their claims once it
// committed: a request owner does not hold is left as it was, with an error wrapping
// bot.ErrLeaseLost among those returned joined. A failure to write saves nothing and keeps
// the claims.
func (db *DB) FinishPolls(ctx context.Context, ids []string, owner string, fn func(id string, r *bot.Request) ([]bot.Outgoing, error)) error {
	held := db.claims.hold(db.claims.polls, ids, owner)
	var skipped []error
	for _, id := range ids {
		if !slices.Contains(held, id) {
			skipped = append(skipped, fmt.Errorf("record the poll of %s: %w", id, bot.ErrLeaseLost))
		}
	}
	var failed []error
	err := db.update(ctx, fmt.Sprintf("record %d polls", len(held)), func(tx *bolt.Tx) (err error) {
		failed, err = updateRequestsTx(tx, held, fn) // set afresh if the transaction runs again
		return err
	})
	db.claims.letGo(db.claims.polls, held, err == nil)
	if err != nil {
		return err
	}
	return errors.Join(append(skipped, failed...)...)
}
