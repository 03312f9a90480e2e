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
// over a store of many requests. An entry's value holds what a poll reads of its request
// (pollValue), so that a claim decodes no request, and FirstPoll and DuePolls read the keys
// only. Every write of a request keeps the index in the same transaction (CreateRequest,
// updateRequestTx), and Check verifies it. The entries written before the values were kept
// are empty, which needs no new schema version: ClaimPolls reads such an entry's request,
// and the request's next write gives its entry a value.

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

// pollValueVersion starts every pollValue, so that an entry's value says how it is written.
const pollValueVersion = 1

// pollValue returns r's value in bucketPollsByTime: pollValueVersion, then r.CustomerID,
// r.WebexStatus and r.Spec.OrgID, each as its length (uvarint) and its bytes. The key holds
// the rest of a bot.PollClaim.
func pollValue(r bot.Request) []byte {
	v := make([]byte, 0, 1+3*binary.MaxVarintLen16+len(r.CustomerID)+len(r.WebexStatus)+len(r.Spec.OrgID))
	v = append(v, pollValueVersion)
	for _, f := range []string{r.CustomerID, r.WebexStatus, r.Spec.OrgID} {
		v = binary.AppendUvarint(v, uint64(len(f)))
		v = append(v, f...)
	}
	return v
}

// pollClaimOf returns the claim of the request an index entry names: from the entry alone
// when it has a value (pollValue), and false when it has none (written before the values
// were kept).
func pollClaimOf(k, v []byte) (bot.PollClaim, bool, error) {
	c := bot.PollClaim{ID: string(k[pollKeyPrefix:]), NextPoll: indexTime(binary.BigEndian.Uint64(k))}
	if len(v) == 0 {
		return c, false, nil
	}
	if v[0] != pollValueVersion {
		return c, false, fmt.Errorf("the poll index entry of %s is of version %d, not %d", c.ID, v[0], pollValueVersion)
	}
	rest := v[1:]
	for _, f := range []*string{&c.CustomerID, &c.WebexStatus, &c.OrgID} {
		n, size := binary.Uvarint(rest)
		if size <= 0 || n > uint64(len(rest)-size) {
			return c, false, fmt.Errorf("the poll index entry of %s is cut short", c.ID)
		}
		*f, rest = string(rest[size:size+int(n)]), rest[size+int(n):]
	}
	if len(rest) > 0 {
		return c, false, fmt.Errorf("the poll index entry of %s has %d bytes too many", c.ID, len(rest))
	}
	return c, true, nil
}

// indexTime is the time of indexNanos(t): the zero time for 0 (a time before 1970, such as
// the zero NextPoll of a request never scheduled).
func indexTime(nanos uint64) time.Time {
	if nanos == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(nanos)).UTC()
}

// reindexPoll moves a request's entry in bucketPollsByTime from where it was as before to
// where it is as after, with after's value (either may be in no polled state: no entry).
// before is the zero Request for a request just created.
func reindexPoll(tx *bolt.Tx, before, after bot.Request) error {
	oldKey, wasPolled := pollKey(before)
	newKey, polled := pollKey(after)
	index := tx.Bucket(bucketPollsByTime)
	if wasPolled && polled && bytes.Equal(oldKey, newKey) {
		if value := pollValue(after); !bytes.Equal(index.Get(newKey), value) {
			if err := index.Put(newKey, value); err != nil {
				return fmt.Errorf("index the poll of %s: %w", after.ID, err)
			}
		}
		return nil
	}
	if wasPolled {
		if err := index.Delete(oldKey); err != nil {
			return fmt.Errorf("unindex the poll of %s: %w", before.ID, err)
		}
	}
	if polled {
		if err := index.Put(newKey, pollValue(after)); err != nil {
			return fmt.Errorf("index the poll of %s: %w", after.ID, err)
		}
	}
	return nil
}

// duePolls returns the claims (pollClaimOf) of at most limit (no limit when limit is zero
// or less) polled requests whose next poll is due at now and for which skip is false,
// earliest next poll first, then newest first (by Created, then by ID, both descending).
// read reads the request of an entry without a value. It reads the index from its start up
// to the last one it returns, and past it only over the requests due at the same instant
// and created at the same instant as that last one.
func duePolls(tx *bolt.Tx, now time.Time, limit int, skip func(id string) bool, read func(id string) (bot.Request, error)) ([]bot.PollClaim, error) {
	type entry struct{ k, v []byte }
	var found []entry
	err := eachPoll(tx, func(k, v []byte) (bool, error) {
		if binary.BigEndian.Uint64(k) > indexNanos(now) {
			return false, nil
		}
		if limit > 0 && len(found) >= limit && !bytes.Equal(k[:pollKeyPrefix], found[len(found)-1].k[:pollKeyPrefix]) {
			return false, nil // the ids of one instant are ordered below: read that instant to its end
		}
		if !skip(string(k[pollKeyPrefix:])) {
			found = append(found, entry{k, v})
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(found, func(a, b entry) int {
		if c := bytes.Compare(a.k[:pollKeyPrefix], b.k[:pollKeyPrefix]); c != 0 {
			return c
		}
		return bytes.Compare(b.k[pollKeyPrefix:], a.k[pollKeyPrefix:])
	})
	found = clip(found, limit)
	claims := make([]bot.PollClaim, len(found))
	for i, e := range found {
		c, complete, err := pollClaimOf(e.k, e.v)
		if err != nil {
			return nil, err
		}
		if !complete {
			r, err := read(c.ID)
			if err != nil {
				return nil, err
			}
			c.CustomerID, c.WebexStatus, c.OrgID = r.CustomerID, r.WebexStatus, r.Spec.OrgID
		}
		claims[i] = c
	}
	return claims, nil
}

// eachPoll calls fn with the entries of bucketPollsByTime in order, earliest next poll
// first, until fn reports false.
func eachPoll(tx *bolt.Tx, fn func(k, v []byte) (bool, error)) error {
	index := tx.Bucket(bucketPollsByTime)
	if index == nil {
		return errNoPollIndex
	}
	c := index.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) < pollKeyPrefix {
			return fmt.Errorf("poll index key %x is shorter than %d bytes", k, pollKeyPrefix)
		}
		if more, err := fn(k, v); err != nil || !more {
			return err
		}
	}
	return nil
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
