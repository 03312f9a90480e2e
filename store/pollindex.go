package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// The requests in a polled state are indexed by when they are next polled
// (bucketPollsByTime), so that ClaimPolls reads the due ones only: a sweep claims many times
// over a store of many requests. Every write of a request keeps the index in the same
// transaction (CreateRequest, updateRequestTx), and Check verifies it.

// errNoPollIndex is the error of a file opened read-only at a schema version before 7, which
// has no poll index until it is opened for writing.
var errNoPollIndex = errors.New("the file has no index of the polls by next poll: open it for writing once, to migrate it to schema version 8")

// pollKeyPrefix is the length of a poll key's times: NextPoll, then Created inverted.
const pollKeyPrefix = 16

// pollKey returns r's key in bucketPollsByTime, and false when r is in no polled state. The
// key is r.NextPoll as big-endian Unix nanoseconds, then r.Created likewise but with every
// bit inverted, then r.ID: a cursor meets the earliest next poll first and, among the
// requests due at the same instant, the newest first, as Requests lists them (ClaimPolls
// orders the ids of requests created at the same instant itself).
func pollKey(r bot.Request) ([]byte, bool) {
	if !r.State.Polled() {
		return nil, false
	}
	k := make([]byte, 0, pollKeyPrefix+len(r.ID))
	k = binary.BigEndian.AppendUint64(k, indexNanos(r.NextPoll))
	k = binary.BigEndian.AppendUint64(k, ^indexNanos(r.Created))
	return append(k, r.ID...), true
}

// indexNanos returns t as Unix nanoseconds for an index key: a time before 1970 (the zero
// time of a request never scheduled) as 0, and one after 2262, which int64 nanoseconds cannot
// hold, as the largest.
func indexNanos(t time.Time) uint64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// reindexPoll moves a request's entry in bucketPollsByTime from where it was as before to
// where it is as after (either may be in no polled state: no entry). before is the zero
// Request for a request just created.
func reindexPoll(tx *bolt.Tx, before, after bot.Request) error {
	oldKey, wasPolled := pollKey(before)
	newKey, polled := pollKey(after)
	if wasPolled && polled && bytes.Equal(oldKey, newKey) {
		return nil
	}
	index := tx.Bucket(bucketPollsByTime)
	if wasPolled {
		if err := index.Delete(oldKey); err != nil {
			return fmt.Errorf("unindex the poll of %s: %w", before.ID, err)
		}
	}
	if polled {
		if err := index.Put(newKey, nil); err != nil {
			return fmt.Errorf("index the poll of %s: %w", after.ID, err)
		}
	}
	return nil
}

// duePolls returns the ids of at most limit (no limit when limit is zero or less) polled
// requests whose next poll is due at now and for which skip is false, earliest next poll
// first, then newest first (by Created, then by ID, both descending). It reads the index from
// its start up to the last one it returns, and past it only over the requests due at the same
// instant and created at the same instant as that last one.
func duePolls(tx *bolt.Tx, now time.Time, limit int, skip func(id string) bool) ([]string, error) {
	index := tx.Bucket(bucketPollsByTime)
	if index == nil {
		return nil, errNoPollIndex
	}
	var found [][]byte
	until := indexNanos(now)
	c := index.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) < pollKeyPrefix {
			return nil, fmt.Errorf("poll index key %x is shorter than %d bytes", k, pollKeyPrefix)
		}
		if binary.BigEndian.Uint64(k) > until {
			break
		}
		if limit > 0 && len(found) >= limit && !bytes.Equal(k[:pollKeyPrefix], found[len(found)-1][:pollKeyPrefix]) {
			break // the ids of one instant are ordered below: read that instant to its end
		}
		if skip(string(k[pollKeyPrefix:])) {
			continue
		}
		found = append(found, k)
	}
	slices.SortStableFunc(found, func(a, b []byte) int {
		if c := bytes.Compare(a[:pollKeyPrefix], b[:pollKeyPrefix]); c != 0 {
			return c
		}
		return bytes.Compare(b[pollKeyPrefix:], a[pollKeyPrefix:])
	})
	found = clip(found, limit)
	ids := make([]string, len(found))
	for i, k := range found {
		ids[i] = string(k[pollKeyPrefix:])
	}
	return ids, nil
}

// migratePollIndex is version 7 to 8: the requests in a polled state get their entries in
// bucketPollsByTime (created by Open before).
func migratePollIndex(tx *bolt.Tx) error {
	err := eachInStates(tx, bot.PolledStates(), func(id, v []byte) error {
		var r bot.Request
		if err := decodeJSON(id, v, &r); err != nil {
			return err
		}
		return reindexPoll(tx, bot.Request{}, r)
	})
	if err != nil {
		return fmt.Errorf("index the polled requests: %w", err)
	}
	return nil
}
