package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// ClaimPolls claims, for owner until until, at most limit requests in a polled state whose
// NextPoll is due at now and that no owner holds under a lease living at now, and returns
// them as stored, earliest NextPoll first. It reads the polled requests through the state
// index and writes nothing to the file.
func (db *DB) ClaimPolls(ctx context.Context, owner string, now, until time.Time, limit int) ([]bot.Request, error) {
	if owner == "" {
		return nil, errors.New("claim polls: no owner")
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	var due []bot.Request
	err := db.view(ctx, "claim polls", func(tx *bolt.Tx) error {
		// Only the fields that choose are decoded from every polled request; the chosen
		// ones are decoded whole after: a sweep claims many times over a large store.
		var found []pollCandidate
		err := eachInStates(tx, bot.PolledStates(), func(id, v []byte) error {
			var c pollCandidate
			if err := decodePollCandidate(id, v, &c); err != nil {
				return err
			}
			if c.NextPoll.After(now) || db.claims.polls.busy(c.ID, now) {
				return nil
			}
			found = append(found, c)
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(found, func(a, b pollCandidate) int {
			if c := a.NextPoll.Compare(b.NextPoll); c != 0 {
				return c
			}
			if c := b.Created.Compare(a.Created); c != 0 { // as Requests lists them: newest first
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		found = clip(found, limit)
		due = make([]bot.Request, len(found))
		reqs := tx.Bucket(bucketRequests)
		for i, c := range found {
			if _, err := getJSON(reqs, []byte(c.ID), &due[i]); err != nil {
				return err
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

// pollCandidate is what ClaimPolls reads of every polled request to choose those it claims.
type pollCandidate struct {
	ID       string    `json:"id"`
	Created  time.Time `json:"created"`
	NextPoll time.Time `json:"nextPoll"`
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
