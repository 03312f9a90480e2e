package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// The inbox's lanes (bot.Event.Lane): the events of one space, handed out one at a time in
// the inbox's order. bucketEventLanes lists each lane's events in that order, kept by every
// write that adds an event to the inbox or removes one, so that a lane's head is found
// without reading the inbox.

// eventLaneKey returns the bucketEventLanes key of ev: its lane, 0x00, its Seq and when it
// was received (so that the events kept by a version before Seq, all Seq 0, keep the inbox's
// order: sortArrival), then its key.
func eventLaneKey(ev bot.Event) []byte {
	k := eventLanePrefix(ev.Lane())
	k = binary.BigEndian.AppendUint64(k, ev.Seq)
	k = binary.BigEndian.AppendUint64(k, uint64(dueNanos(ev.Received)))
	return append(k, ev.Key...)
}

// eventLanePrefix returns the prefix of the bucketEventLanes keys of lane.
func eventLanePrefix(lane string) []byte {
	k := make([]byte, 0, len(lane)+17)
	return append(append(k, lane...), 0)
}

// eventLaneHead returns the key of lane's head, the first of its events in the inbox, or
// false when the lane has none.
func eventLaneHead(tx *bolt.Tx, lane string) (string, bool) {
	prefix := eventLanePrefix(lane)
	k, _ := tx.Bucket(bucketEventLanes).Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) < len(prefix)+16 {
		return "", false
	}
	return string(k[len(prefix)+16:]), true
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
// (the bucket is created by Open before).
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
		head, ok := eventLaneHead(tx, ev.Lane())
		return ev, ok && head == key, nil
	})
}

// ClaimEventLanes claims, for owner until until, the heads of those of lanes whose head is
// due at now and not claimed by another owner under a lease that lives at now (see
// ClaimEvents), and returns them as stored, in the order of lanes.
func (db *DB) ClaimEventLanes(ctx context.Context, lanes []string, owner string, now, until time.Time) ([]bot.Event, error) {
	return db.claimEventHeads(ctx, fmt.Sprintf("claim the heads of %d event lanes", len(lanes)), lanes, owner, now, until, func(tx *bolt.Tx, lane string) (bot.Event, bool, error) {
		key, ok := eventLaneHead(tx, lane)
		if !ok {
			return bot.Event{}, false, nil
		}
		ev, found, err := getEvent(tx.Bucket(bucketEvents), []byte(key))
		if err == nil && !found {
			err = fmt.Errorf("the head of inbox lane %q is event %s, which is not in the inbox", lane, key)
		}
		return ev, err == nil, err
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

// checkEventLanes verifies that bucketEventLanes indexes every event of the inbox, and
// nothing else.
func checkEventLanes(tx *bolt.Tx) error {
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
