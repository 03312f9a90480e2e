package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// ClaimPolls claims, for owner until until, at most limit requests in a polled state whose
// NextPoll is due at now and that no owner holds under a lease living at now, and returns
// what a poll reads of them as stored, earliest NextPoll first (then newest first, as
// Requests lists them). It reads the index of the polled requests by next poll
// (pollindex.go), whose entries hold what a poll reads, up to the due ones only, and writes
// nothing to the file.
func (db *DB) ClaimPolls(ctx context.Context, owner string, now, until time.Time, limit int) ([]bot.PollClaim, error) {
	if owner == "" {
		return nil, errors.New("claim polls: no owner")
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	var due []bot.PollClaim
	err := db.view(ctx, "claim polls", func(tx *bolt.Tx) (err error) {
		reqs := tx.Bucket(bucketRequests)
		read := func(id string) (r bot.Request, err error) {
			found, err := getJSON(reqs, []byte(id), &r)
			if err == nil && !found {
				err = fmt.Errorf("the poll index lists request %q, which does not exist", id)
			}
			return r, err
		}
		due, err = duePolls(tx, now, limit, func(id string) bool { return db.claims.polls.busy(id, now) }, read)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim polls: %w", err)
	}
	for _, c := range due {
		db.claims.polls[c.ID] = lease{Owner: owner, Until: until}
	}
	return due, nil
}

// FirstPoll returns the earliest NextPoll of the polled requests for whose id skip is false,
// and whether there is one, from the index of the polls by next poll (its keys only).
func (db *DB) FirstPoll(ctx context.Context, skip func(id string) bool) (time.Time, bool, error) {
	var (
		first time.Time
		found bool
	)
	err := db.view(ctx, "read the first poll", func(tx *bolt.Tx) error {
		return eachPoll(tx, func(k, _ []byte) (bool, error) {
			if skip(string(k[pollKeyPrefix:])) {
				return true, nil
			}
			first, found = indexTime(binary.BigEndian.Uint64(k)), true
			return false, nil
		})
	})
	if err != nil {
		return time.Time{}, false, err
	}
	return first, found, nil
}

// DuePolls counts the polled requests whose NextPoll is due at now, and returns the earliest
// NextPoll among them, from the index of the polls by next poll (its keys only, from its
// start up to the first not due).
func (db *DB) DuePolls(ctx context.Context, now time.Time) (int, time.Time, error) {
	var (
		n     int
		first time.Time
	)
	err := db.view(ctx, "count the due polls", func(tx *bolt.Tx) error {
		return eachPoll(tx, func(k, _ []byte) (bool, error) {
			at := binary.BigEndian.Uint64(k)
			if at > indexNanos(now) {
				return false, nil
			}
			if n == 0 {
				first = indexTime(at)
			}
			n++
			return true, nil
		})
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return n, first, nil
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
