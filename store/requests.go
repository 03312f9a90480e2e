package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// CreateRequest saves a new request and enqueues out (see Enqueue) in one transaction. It
// returns an error wrapping bot.ErrExists, and changes nothing, when the id is taken.
func (db *DB) CreateRequest(ctx context.Context, r bot.Request, out []bot.Outgoing) error {
	if r.ID == "" {
		return errors.New("create request: the request has no id")
	}
	return db.update(ctx, fmt.Sprintf("create request %s", r.ID), func(tx *bolt.Tx) error {
		id := []byte(r.ID)
		reqs := tx.Bucket(bucketRequests)
		if reqs.Get(id) != nil {
			return bot.ErrExists
		}
		if err := putJSON(reqs, id, r); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRequestsByState).Put(stateKey(r.State, r.ID), nil); err != nil {
			return fmt.Errorf("index by state: %w", err)
		}
		if err := reindexPoll(tx, bot.Request{}, r); err != nil {
			return err
		}
		return enqueue(tx, out)
	})
}

// Request returns the request with id, or an error wrapping bot.ErrNotFound.
func (db *DB) Request(ctx context.Context, id string) (bot.Request, error) {
	var r bot.Request
	err := db.view(ctx, fmt.Sprintf("request %s", id), func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketRequests), []byte(id), &r)
		if err == nil && !found {
			err = bot.ErrNotFound
		}
		return err
	})
	if err != nil {
		return bot.Request{}, err
	}
	return r, nil
}

// UpdateRequest reads the request with id, lets fn change it, and saves it with the messages
// fn returns (see Enqueue), in one transaction, and returns it as saved. An error from fn
// changes nothing and is returned as is. fn runs inside a bbolt write transaction, so it
// must be quick, do no I/O and not use db. fn must not change the request's ID.
func (db *DB) UpdateRequest(ctx context.Context, id string, fn func(r *bot.Request) ([]bot.Outgoing, error)) (bot.Request, error) {
	var (
		r     bot.Request
		fnErr error
	)
	err := db.update(ctx, fmt.Sprintf("update request %s", id), func(tx *bolt.Tx) error {
		fnErr = nil // a transaction run again starts afresh
		var skipped, err error
		r, skipped, err = updateRequestTx(tx, id, func(r *bot.Request) ([]bot.Outgoing, error) {
			out, err := fn(r)
			fnErr = err
			return out, err
		})
		if skipped != nil {
			return skipped // rolls the transaction back
		}
		return err
	})
	if fnErr != nil {
		return bot.Request{}, fnErr
	}
	if err != nil {
		return bot.Request{}, err
	}
	return r, nil
}

// UpdateRequests is UpdateRequest for many requests in one transaction, for work that changes
// many at once (the status job records its poll answers so): fn is called for each id with
// the request as stored, and each request is saved with the messages fn returns. A request
// that does not exist, or that fn returns an error for, is left as it was while the others
// are saved; those errors are returned joined, each naming its request. A failure to write
// saves nothing. fn obeys the rules of UpdateRequest's fn.
func (db *DB) UpdateRequests(ctx context.Context, ids []string, fn func(id string, r *bot.Request) ([]bot.Outgoing, error)) error {
	if len(ids) == 0 {
		return nil
	}
	var skipped []error
	err := db.update(ctx, fmt.Sprintf("update %d requests", len(ids)), func(tx *bolt.Tx) (err error) {
		skipped, err = updateRequestsTx(tx, ids, fn)
		return err
	})
	if err != nil {
		return err
	}
	return errors.Join(skipped...)
}

// updateRequestsTx is UpdateRequests within tx: it returns the errors of the requests left
// as they were, and a failure to write, after which tx must be rolled back.
func updateRequestsTx(tx *bolt.Tx, ids []string, fn func(id string, r *bot.Request) ([]bot.Outgoing, error)) ([]error, error) {
	var skipped []error
	for _, id := range ids {
		_, skip, err := updateRequestTx(tx, id, func(r *bot.Request) ([]bot.Outgoing, error) { return fn(id, r) })
		if err != nil {
			return nil, fmt.Errorf("update request %s: %w", id, err)
		}
		if skip != nil {
			skipped = append(skipped, fmt.Errorf("update request %s: %w", id, skip))
		}
	}
	return skipped, nil
}

// updateRequestTx is UpdateRequest within tx. skipped is why nothing of the request was
// written: it is missing or unreadable, fn failed (its error as is), or fn changed the id.
// err is a failure to write, after which tx must be rolled back.
func updateRequestTx(tx *bolt.Tx, id string, fn func(r *bot.Request) ([]bot.Outgoing, error)) (r bot.Request, skipped, err error) {
	reqs := tx.Bucket(bucketRequests)
	found, err := getJSON(reqs, []byte(id), &r)
	if err != nil {
		return r, err, nil
	}
	if !found {
		return r, bot.ErrNotFound, nil
	}
	was := r
	out, err := fn(&r)
	if err != nil {
		return r, err, nil
	}
	if r.ID != id {
		return r, fmt.Errorf("the update changed the id to %q", r.ID), nil
	}
	if err := putJSON(reqs, []byte(id), r); err != nil {
		return r, nil, err
	}
	if r.State != was.State {
		index := tx.Bucket(bucketRequestsByState)
		if err := index.Delete(stateKey(was.State, id)); err != nil {
			return r, nil, fmt.Errorf("unindex state %s: %w", was.State, err)
		}
		if err := index.Put(stateKey(r.State, id), nil); err != nil {
			return r, nil, fmt.Errorf("index state %s: %w", r.State, err)
		}
	}
	if err := reindexPoll(tx, was, r); err != nil {
		return r, nil, err
	}
	return r, nil, enqueue(tx, out)
}

// Requests returns the requests f selects, newest first: by Created, then by ID, both
// descending. With States set it reads only the requests in those states, through an index,
// so it stays cheap however many requests have ended. A Limit of zero or less means no
// limit.
func (db *DB) Requests(ctx context.Context, f bot.RequestFilter) ([]bot.Request, error) {
	var rs []bot.Request
	err := db.view(ctx, "list requests", func(tx *bolt.Tx) error {
		reqs := tx.Bucket(bucketRequests)
		keep := func(k, v []byte) error {
			var r bot.Request
			if err := decodeJSON(k, v, &r); err != nil {
				return err
			}
			if f.RoomID == "" || r.RoomID == f.RoomID {
				rs = append(rs, r)
			}
			return nil
		}
		if len(f.States) == 0 {
			return reqs.ForEach(keep)
		}
		return eachInStates(tx, f.States, keep)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rs, func(a, b bot.Request) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if f.Limit > 0 && len(rs) > f.Limit {
		rs = slices.Clip(rs[:f.Limit])
	}
	return rs, nil
}

// eachInStates calls fn with the id and the stored value of every request in one of states,
// through the state index, state by state.
func eachInStates(tx *bolt.Tx, states []bot.State, fn func(id, v []byte) error) error {
	reqs := tx.Bucket(bucketRequests)
	states = slices.Clone(states)
	slices.Sort(states)
	c := tx.Bucket(bucketRequestsByState).Cursor()
	for _, s := range slices.Compact(states) {
		prefix := stateKey(s, "")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := k[len(prefix):]
			v := reqs.Get(id)
			if v == nil {
				return fmt.Errorf("the state index lists request %q, which does not exist", id)
			}
			if err := fn(id, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// stateKey returns the bucketRequestsByState key of the request with id in state s; with an
// empty id, the prefix of every key of state s.
func stateKey(s bot.State, id string) []byte {
	k := make([]byte, 0, len(s)+1+len(id))
	k = append(k, s...)
	k = append(k, 0)
	return append(k, id...)
}

// checkRequests verifies that bucketRequestsByState indexes exactly the requests there are,
// each under its state, and bucketPollsByTime exactly those in a polled state, each under its
// next poll.
func checkRequests(tx *bolt.Tx) error {
	reqs, index, polls := tx.Bucket(bucketRequests), tx.Bucket(bucketRequestsByState), tx.Bucket(bucketPollsByTime)
	if polls == nil {
		return errNoPollIndex
	}
	var errs []error
	n, polled := 0, 0
	err := reqs.ForEach(func(k, v []byte) error {
		var r bot.Request
		if err := decodeJSON(k, v, &r); err != nil {
			return err
		}
		if r.ID != string(k) {
			errs = append(errs, fmt.Errorf("request %q is stored under %q", r.ID, k))
		}
		if !has(index, stateKey(r.State, string(k))) {
			errs = append(errs, fmt.Errorf("request %s in state %s is not in the state index", k, r.State))
		}
		if key, ok := pollKey(r); ok {
			polled++
			switch v := polls.Get(key); {
			case !has(polls, key):
				errs = append(errs, fmt.Errorf("request %s, polled next at %s, is not in the poll index", k, r.NextPoll))
			case len(v) > 0 && !bytes.Equal(v, pollValue(r)):
				errs = append(errs, fmt.Errorf("the poll index entry of request %s does not hold its customer, status and organization as saved", k))
			}
		}
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the requests: %w", err)
	}
	if got := index.Stats().KeyN; got != n {
		errs = append(errs, fmt.Errorf("the state index has %d entries for %d requests", got, n))
	}
	if got := polls.Stats().KeyN; got != polled {
		errs = append(errs, fmt.Errorf("the poll index has %d entries for %d polled requests", got, polled))
	}
	return errors.Join(errs...)
}
