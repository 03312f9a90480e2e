package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// deadEvent is a bucketEventDeadLetters value: an event given up on, and when.
type deadEvent struct {
	Event bot.Event `json:"event"`
	At    time.Time `json:"at"`
}

// AddEvent puts a verified event in the inbox. It reports false, and changes nothing, when
// an event with the same key is in the inbox or was processed (and not pruned since).
func (db *DB) AddEvent(ctx context.Context, ev bot.Event) (bool, error) {
	added, err := db.AddEvents(ctx, []bot.Event{ev})
	if err != nil {
		return false, err
	}
	return added[0], nil
}

// AddEvents puts verified events in the inbox in one transaction (one fsync for them all),
// sets the Seq of each event added, and reports for each whether it was added: an event whose key is in the inbox, was
// processed (and not pruned since), or came earlier in evs is not. An event without a key
// fails the whole batch.
func (db *DB) AddEvents(ctx context.Context, evs []bot.Event) ([]bool, error) {
	for _, ev := range evs {
		if ev.Key == "" {
			return nil, errors.New("add events: an event has no key")
		}
	}
	added := make([]bool, len(evs))
	err := db.update(ctx, fmt.Sprintf("add %d events", len(evs)), func(tx *bolt.Tx) error {
		clear(added) // a retried transaction starts again
		events, processed := tx.Bucket(bucketEvents), tx.Bucket(bucketProcessed)
		for i, ev := range evs {
			key := []byte(ev.Key)
			if events.Get(key) != nil || processed.Get(key) != nil {
				continue
			}
			seq, err := events.NextSequence()
			if err != nil {
				return fmt.Errorf("next inbox sequence: %w", err)
			}
			ev.Seq = seq
			if err := putEvent(events, ev); err != nil {
				return err
			}
			if err := eventAdded(tx, ev); err != nil {
				return err
			}
			evs[i].Seq = seq
			added[i] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// Events returns the inbox in the order it arrived: by Seq (the events kept by a version
// before it, Seq 0, first), then by Received, then by key.
func (db *DB) Events(ctx context.Context) ([]bot.Event, error) {
	// The events of a backlog share a few spaces, senders and kinds: each such string is
	// kept once, so that a large inbox read at start holds only what differs per event.
	shared := map[string]string{}
	once := func(s *string) {
		if kept, ok := shared[*s]; ok {
			*s = kept
			return
		}
		shared[*s] = *s
	}
	evs, err := readAll(ctx, db, bucketEvents, "the inbox", func(k, v []byte) (bot.Event, error) {
		ev, err := decodeEvent(k, v)
		once(&ev.Resource)
		once(&ev.Event)
		once(&ev.ActorID)
		once(&ev.RoomID)
		return ev, err
	})
	if err != nil {
		return nil, err
	}
	sortInbox(evs)
	return evs, nil
}

// EventRefs returns the Key, Seq, RoomID, Received and NotBefore of each inbox event, in the
// order of Events.
func (db *DB) EventRefs(ctx context.Context) ([]bot.EventRef, error) {
	var refs []bot.EventRef
	rooms := map[string]string{} // each space's id kept once
	err := db.view(ctx, "read the inbox's index", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		if n := b.Stats().KeyN; n > 0 {
			refs = make([]bot.EventRef, 0, n)
		}
		return b.ForEach(func(k, v []byte) error {
			ev, err := decodeEvent(k, v)
			if err != nil {
				return err
			}
			if kept, ok := rooms[ev.RoomID]; ok {
				ev.RoomID = kept
			} else {
				rooms[ev.RoomID] = ev.RoomID
			}
			refs = append(refs, bot.EventRef{Key: ev.Key, Seq: ev.Seq, RoomID: ev.RoomID, Received: ev.Received, NotBefore: ev.NotBefore})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sortArrival(refs, func(r bot.EventRef) (uint64, time.Time, string) { return r.Seq, r.Received, r.Key })
	return refs, nil
}

// sortInbox sorts events in the order they arrived (see sortArrival).
func sortInbox(evs []bot.Event) {
	sortArrival(evs, func(ev bot.Event) (uint64, time.Time, string) { return ev.Seq, ev.Received, ev.Key })
}

// sortArrival sorts the inbox's entries in the order they arrived: by Seq (the events kept
// by a version before it, Seq 0, first), then by Received, then by key; place returns
// those of an entry.
func sortArrival[T any](xs []T, place func(T) (uint64, time.Time, string)) {
	slices.SortFunc(xs, func(a, b T) int {
		aSeq, aReceived, aKey := place(a)
		bSeq, bReceived, bKey := place(b)
		if c := cmp.Compare(aSeq, bSeq); c != 0 {
			return c
		}
		if c := aReceived.Compare(bReceived); c != 0 {
			return c
		}
		return strings.Compare(aKey, bKey)
	})
}

// SaveEvent replaces an event in the inbox (to record its attempts, when to try again and
// why); its Seq stays what AddEvents assigned. It returns bot.ErrNotFound if the event is no
// longer in the inbox.
func (db *DB) SaveEvent(ctx context.Context, ev bot.Event) error {
	return db.update(ctx, fmt.Sprintf("save event %s", ev.Key), func(tx *bolt.Tx) error {
		return replaceEvent(tx.Bucket(bucketEvents), ev)
	})
}

// replaceEvent replaces an event in the inbox, keeping its Seq; bot.ErrNotFound if it is not
// there.
func replaceEvent(events *bolt.Bucket, ev bot.Event) error {
	stored, found, err := getEvent(events, []byte(ev.Key))
	if err != nil {
		return err
	}
	if ev.Key == "" || !found {
		return bot.ErrNotFound
	}
	ev.Seq = stored.Seq
	if before, after := eventLaneKey(stored), eventLaneKey(ev); !bytes.Equal(before, after) {
		// Its lane or its place in it changed: indexed again.
		lanes := events.Tx().Bucket(bucketEventLanes)
		if err := lanes.Delete(before); err != nil {
			return fmt.Errorf("unindex the lane of event %s: %w", ev.Key, err)
		}
		if err := lanes.Put(after, nil); err != nil {
			return fmt.Errorf("index the lane of event %s: %w", ev.Key, err)
		}
	}
	return putEvent(events, ev)
}

// FinishEvent removes an event from the inbox, records its key as processed at processed,
// and enqueues out (see Enqueue), in one transaction; then it drops the claim on the event.
// It returns bot.ErrNotFound, and changes nothing, if the event is not in the inbox, and
// bot.ErrLeaseLost if owner does not hold its claim (an empty owner: if another owner holds
// it under a lease living at processed).
func (db *DB) FinishEvent(ctx context.Context, key, owner string, processed time.Time, out []bot.Outgoing) error {
	return db.completeEvent(ctx, key, owner, processed, fmt.Sprintf("finish event %s", key), func(tx *bolt.Tx) error {
		k := []byte(key)
		if err := eventLeaving(tx, key); err != nil {
			return err
		}
		if err := tx.Bucket(bucketEvents).Delete(k); err != nil {
			return fmt.Errorf("delete from the inbox: %w", err)
		}
		if err := recordProcessed(tx, k, processed); err != nil {
			return err
		}
		return enqueue(tx, out)
	}, false)
}

// DeadLetterEvent removes an event from the inbox, keeps it (with at) for the operator in a
// dead-letter bucket, records its key as processed at at, and enqueues out (the notice to
// the space), all at once; then it drops the claim on the event. It returns
// bot.ErrLeaseLost, and changes nothing, if owner does not hold the event's claim (an empty
// owner: if another owner holds it under a lease living at at; the event need not be in the
// inbox then).
func (db *DB) DeadLetterEvent(ctx context.Context, ev bot.Event, owner string, at time.Time, out []bot.Outgoing) error {
	if ev.Key == "" {
		return errors.New("dead-letter event: the event has no key")
	}
	return db.completeEvent(ctx, ev.Key, owner, at, fmt.Sprintf("dead-letter event %s", ev.Key), func(tx *bolt.Tx) error {
		key := []byte(ev.Key)
		if err := eventLeaving(tx, ev.Key); err != nil {
			return err
		}
		if err := tx.Bucket(bucketEvents).Delete(key); err != nil {
			return fmt.Errorf("delete from the inbox: %w", err)
		}
		if err := putDeadLetter(tx.Bucket(bucketEventDeadLetters), deadEvent{Event: ev, At: at}); err != nil {
			return err
		}
		if err := recordProcessed(tx, key, at); err != nil {
			return err
		}
		return enqueue(tx, out)
	}, true)
}

// completeEvent runs fn, the completion of event key, in a write transaction when owner
// holds the event's claim (see claims.finishEvent) and, unless absentOK, the event is in the
// inbox; then it drops the claim. While the transaction commits, the claim cannot be taken.
func (db *DB) completeEvent(ctx context.Context, key, owner string, now time.Time, what string, fn func(tx *bolt.Tx) error, absentOK bool) error {
	var end func(drop bool)
	err := db.update(ctx, what, func(tx *bolt.Tx) error {
		if key == "" || (!absentOK && tx.Bucket(bucketEvents).Get([]byte(key)) == nil) {
			return bot.ErrNotFound
		}
		var err error
		if end, err = db.claims.finishEvent(key, owner, now); err != nil {
			return err
		}
		return fn(tx)
	})
	if end != nil {
		end(err == nil)
	}
	return err
}

// recordProcessed remembers key as processed at at, and indexes it by that time for
// PruneProcessed.
func recordProcessed(tx *bolt.Tx, key []byte, at time.Time) error {
	if err := tx.Bucket(bucketProcessed).Put(key, formatTime(at)); err != nil {
		return fmt.Errorf("record as processed: %w", err)
	}
	if err := tx.Bucket(bucketProcessedByTime).Put(timeKey(at, key), nil); err != nil {
		return fmt.Errorf("index as processed: %w", err)
	}
	return nil
}
