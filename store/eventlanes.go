package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// The inbox's lanes (bot.Event.Lane): the events of one space, handed out one at a time in
// the inbox's order. bucketEventLanes lists each lane's events in that order, kept by every
// write that adds an event to the inbox or removes one, so that a lane's head is found
// without reading the inbox.
//
// Since schema version 9 the index names a lane by a hash of it (laneHash), 8 bytes where
// the lane's text took about 75: a backlog's index takes a third fewer pages of the file,
// and of the memory that maps it (docs/benchmarks-engine.md). Two lanes may share a hash;
// the entries of the other lane are then told apart by reading their events, so a shared
// hash costs a read, never a wrong head.

// errNoEventLaneIndex is the error of a file opened read-only at a schema version before 9,
// whose lane index names lanes by their text, until it is opened for writing.
var errNoEventLaneIndex = errors.New("the file has no index of the inbox's lanes by hash: open it for writing once, to migrate it to schema version 9")

// laneHashLen is the length of laneHash's result, the prefix of every bucketEventLanes key.
const laneHashLen = 8

// laneHash returns the 64-bit FNV-1a hash of lane, big-endian: a lane's name in the lane
// index. FNV-1a is fixed by its definition, so every version computes the same hash.
func laneHash(lane string) []byte {
	h := fnv.New64a()
	_, _ = h.Write([]byte(lane)) // a hash.Hash never fails to write
	return h.Sum(make([]byte, 0, laneHashLen+16))
}

// eventLaneKey returns the bucketEventLanes key of ev: the hash of its lane (laneHash), its
// Seq and when it was received (so that the events kept by a version before Seq, all Seq 0,
// keep the inbox's order: sortArrival), both big-endian, then its key.
func eventLaneKey(ev bot.Event) []byte {
	k := laneHash(ev.Lane())
	k = binary.BigEndian.AppendUint64(k, ev.Seq)
	k = binary.BigEndian.AppendUint64(k, uint64(dueNanos(ev.Received)))
	return append(k, ev.Key...)
}

// eventLaneHead returns lane's head, the first of its events in the inbox, as stored, or
// false when the lane has none. The index's entries under lane's hash that belong to
// another lane (of the same hash) are skipped. known, an event already read (or the zero
// Event), is returned as it is when it turns out to be the head, without reading it again.
func eventLaneHead(tx *bolt.Tx, lane string, known bot.Event) (bot.Event, bool, error) {
	index := tx.Bucket(bucketEventLanes)
	if index == nil {
		return bot.Event{}, false, errNoEventLaneIndex
	}
	events := tx.Bucket(bucketEvents)
	prefix := laneHash(lane)
	c := index.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) < laneHashLen+16 {
			return bot.Event{}, false, fmt.Errorf("inbox lane index key %x is shorter than %d bytes", k, laneHashLen+16)
		}
		key := k[laneHashLen+16:]
		if known.Key != "" && string(key) == known.Key {
			return known, true, nil
		}
		ev, found, err := getEvent(events, key)
		if err != nil {
			return bot.Event{}, false, err
		}
		if !found {
			return bot.Event{}, false, fmt.Errorf("the inbox's lane index lists event %s, which is not in the inbox", key)
		}
		if ev.Lane() == lane {
			return ev, true, nil
		}
	}
	return bot.Event{}, false, nil
}

// eventAdded indexes ev, just put in the inbox with its Seq.
func eventAdded(tx *bolt.Tx, ev bot.Event) error {
	if err := tx.Bucket(bucketEventLanes).Put(eventLaneKey(ev), nil); err != nil {
		return fmt.Errorf("index the lane of event %s: %w", ev.Key, err)
	}
	return nil
}

// eventLeaving unindexes the inbox's event key, about to be removed from the inbox; an event
// not in the inbox has nothing to unindex.
func eventLeaving(tx *bolt.Tx, key string) error {
	ev, found, err := getEvent(tx.Bucket(bucketEvents), []byte(key))
	if err != nil || !found {
		return err
	}
	if err := tx.Bucket(bucketEventLanes).Delete(eventLaneKey(ev)); err != nil {
		return fmt.Errorf("unindex the lane of event %s: %w", key, err)
	}
	return nil
}

// migrateEventLanes is version 5 to 6: the events waiting in the inbox are indexed by lane
// (the bucket is created by Open before). It indexes them as this version does; the
// migration to version 9 indexes them again all the same.
func migrateEventLanes(tx *bolt.Tx) error {
	return tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
		ev, err := decodeEvent(k, v)
		if err != nil {
			return err
		}
		return eventAdded(tx, ev)
	})
}

// ClaimEvents claims, for owner until until, those of the events with keys that are in the
// inbox, due at now (NotBefore not after it), heads of their lanes, and not claimed by
// another owner under a lease that lives at now; an event owner holds already has its lease
// extended. It returns the claimed events as stored, in the order of keys. It reads the file
// and writes nothing to it.
//
// No other event of a head's lane can be claimed: the events of a lane are handed out only
// as its head, and an event never comes before one already in the inbox (Seq follows the
// order of bbolt's serial commits), so a lane's claimed event is its head until it leaves.
func (db *DB) ClaimEvents(ctx context.Context, keys []string, owner string, now, until time.Time) ([]bot.Event, error) {
	return db.claimEventHeads(ctx, fmt.Sprintf("claim %d events", len(keys)), keys, owner, now, until, func(tx *bolt.Tx, key string) (bot.Event, bool, error) {
		ev, found, err := getEvent(tx.Bucket(bucketEvents), []byte(key))
		if err != nil || !found {
			return ev, false, err
		}
		head, ok, err := eventLaneHead(tx, ev.Lane(), ev)
		return ev, ok && head.Key == key, err
	})
}

// ClaimEventLanes claims, for owner until until, the heads of those of lanes whose head is
// due at now and not claimed by another owner under a lease that lives at now (see
// ClaimEvents), and returns them as stored, in the order of lanes.
func (db *DB) ClaimEventLanes(ctx context.Context, lanes []string, owner string, now, until time.Time) ([]bot.Event, error) {
	return db.claimEventHeads(ctx, fmt.Sprintf("claim the heads of %d event lanes", len(lanes)), lanes, owner, now, until, func(tx *bolt.Tx, lane string) (bot.Event, bool, error) {
		return eventLaneHead(tx, lane, bot.Event{})
	})
}

// claimEventHeads claims, for owner until until, the events that head finds, as stored, for
// each of wanted (an event that heads its lane), when they are due at now and not claimed
// by another owner under a lease that lives at now; what names the claim in errors.
func (db *DB) claimEventHeads(ctx context.Context, what string, wanted []string, owner string, now, until time.Time, head func(tx *bolt.Tx, w string) (bot.Event, bool, error)) ([]bot.Event, error) {
	if owner == "" {
		return nil, errors.New("claim events: no owner")
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	var claimed []bot.Event
	err := db.view(ctx, what, func(tx *bolt.Tx) error {
		seen := map[string]bool{}
		for _, w := range wanted {
			ev, ok, err := head(tx, w)
			if err != nil {
				return err
			}
			if !ok || seen[ev.Key] {
				continue
			}
			seen[ev.Key] = true
			if ev.NotBefore.After(now) || db.claims.events.takenFrom(ev.Key, owner, now) {
				continue
			}
			claimed = append(claimed, ev)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ev := range claimed {
		db.claims.events[ev.Key] = lease{Owner: owner, Until: until}
	}
	return claimed, nil
}

// migrateHashedEventLanes is version 8 to 9: the lane index that named lanes by their text
// (bucketEventLanesByText) is dropped, and the events waiting in the inbox are indexed again
// under the hashes of their lanes, in bucketEventLanes (created by Open before, and filled
// already when the file came from before version 6).
func migrateHashedEventLanes(tx *bolt.Tx) error {
	if tx.Bucket(bucketEventLanesByText) != nil {
		if err := tx.DeleteBucket(bucketEventLanesByText); err != nil {
			return fmt.Errorf("drop the inbox's lane index by text: %w", err)
		}
	}
	if err := tx.DeleteBucket(bucketEventLanes); err != nil {
		return fmt.Errorf("empty the inbox's lane index: %w", err)
	}
	index, err := tx.CreateBucket(bucketEventLanes)
	if err != nil {
		return fmt.Errorf("create the inbox's lane index: %w", err)
	}
	index.FillPercent = appendOnlyFill(bucketEventLanes)
	return migrateEventLanes(tx)
}

// checkEventLanes verifies that bucketEventLanes indexes every event of the inbox, and
// nothing else.
func checkEventLanes(tx *bolt.Tx) error {
	if tx.Bucket(bucketEventLanes) == nil {
		return errNoEventLaneIndex
	}
	var errs []error
	n := 0
	err := tx.Bucket(bucketEvents).ForEach(func(k, v []byte) error {
		ev, err := decodeEvent(k, v)
		if err != nil {
			return err
		}
		n++
		if !has(tx.Bucket(bucketEventLanes), eventLaneKey(ev)) {
			errs = append(errs, fmt.Errorf("event %s (seq %d) is not in the index of lane %q", ev.Key, ev.Seq, ev.Lane()))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the inbox's lanes: %w", err)
	}
	if got := tx.Bucket(bucketEventLanes).Stats().KeyN; got != n {
		errs = append(errs, fmt.Errorf("the inbox's lane index has %d entries for %d waiting events", got, n))
	}
	return errors.Join(errs...)
}
