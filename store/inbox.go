package store

import (
	"bytes"
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
	if ev.Key == "" {
		return false, errors.New("add event: the event has no key")
	}
	added := false
	err := db.update(ctx, fmt.Sprintf("add event %s", ev.Key), func(tx *bolt.Tx) error {
		key := []byte(ev.Key)
		events := tx.Bucket(bucketEvents)
		if events.Get(key) != nil || tx.Bucket(bucketProcessed).Get(key) != nil {
			return nil
		}
		if err := putJSON(events, key, ev); err != nil {
			return err
		}
		added = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return added, nil
}

// Events returns the inbox, oldest first: by Received, then by key.
func (db *DB) Events(ctx context.Context) ([]bot.Event, error) {
	evs, err := readAll[bot.Event](ctx, db, bucketEvents, "the inbox")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(evs, func(a, b bot.Event) int {
		if c := a.Received.Compare(b.Received); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return evs, nil
}

// SaveEvent replaces an event in the inbox (to record its attempts, when to try again and
// why). It returns bot.ErrNotFound if the event is no longer in the inbox.
func (db *DB) SaveEvent(ctx context.Context, ev bot.Event) error {
	return db.update(ctx, fmt.Sprintf("save event %s", ev.Key), func(tx *bolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		key := []byte(ev.Key)
		if ev.Key == "" || events.Get(key) == nil {
			return bot.ErrNotFound
		}
		return putJSON(events, key, ev)
	})
}

// FinishEvent removes an event from the inbox, records its key as processed at processed,
// and enqueues out (see Enqueue), in one transaction. It returns bot.ErrNotFound, and changes
// nothing, if the event is not in the inbox.
func (db *DB) FinishEvent(ctx context.Context, key string, processed time.Time, out []bot.Outgoing) error {
	return db.update(ctx, fmt.Sprintf("finish event %s", key), func(tx *bolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		k := []byte(key)
		if key == "" || events.Get(k) == nil {
			return bot.ErrNotFound
		}
		if err := events.Delete(k); err != nil {
			return fmt.Errorf("delete from the inbox: %w", err)
		}
		if err := tx.Bucket(bucketProcessed).Put(k, formatTime(processed)); err != nil {
			return fmt.Errorf("record as processed: %w", err)
		}
		return enqueue(tx, out)
	})
}

// DeadLetterEvent removes an event from the inbox, keeps it (with at) for the operator in a
// dead-letter bucket, records its key as processed at at, and enqueues out (the notice to
// the space), all at once. The event need not be in the inbox any more.
func (db *DB) DeadLetterEvent(ctx context.Context, ev bot.Event, at time.Time, out []bot.Outgoing) error {
	if ev.Key == "" {
		return errors.New("dead-letter event: the event has no key")
	}
	return db.update(ctx, fmt.Sprintf("dead-letter event %s", ev.Key), func(tx *bolt.Tx) error {
		key := []byte(ev.Key)
		if err := tx.Bucket(bucketEvents).Delete(key); err != nil {
			return fmt.Errorf("delete from the inbox: %w", err)
		}
		if err := putDeadLetter(tx.Bucket(bucketEventDeadLetters), deadEvent{Event: ev, At: at}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketProcessed).Put(key, formatTime(at)); err != nil {
			return fmt.Errorf("record as processed: %w", err)
		}
		return enqueue(tx, out)
	})
}

// PruneProcessed forgets the keys of events processed before before, and the keys of
// outbox messages sent (or given up on) before before. A forgotten key is no longer
// deduplicated. It returns how many keys it forgot.
func (db *DB) PruneProcessed(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := db.update(ctx, "prune processed keys", func(tx *bolt.Tx) error {
		// Deleting while a cursor iterates can skip keys, so collect them first.
		var old [][]byte
		processed := tx.Bucket(bucketProcessed)
		err := processed.ForEach(func(k, v []byte) error {
			t, err := parseTime(k, v)
			if err != nil {
				return err
			}
			if t.Before(before) {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scan processed events: %w", err)
		}
		for _, k := range old {
			if err := processed.Delete(k); err != nil {
				return fmt.Errorf("delete processed event %q: %w", k, err)
			}
		}
		n += len(old)

		old = old[:0]
		keys := tx.Bucket(bucketOutboxKeys)
		err = keys.ForEach(func(k, v []byte) error {
			var m outboxMark
			if err := decodeJSON(k, v, &m); err != nil {
				return err
			}
			if !m.pending() && m.Done.Before(before) {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scan outbox keys: %w", err)
		}
		for _, k := range old {
			if err := keys.Delete(k); err != nil {
				return fmt.Errorf("delete outbox key %q: %w", k, err)
			}
		}
		n += len(old)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
