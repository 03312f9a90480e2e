package store

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// Snapshot is everything a store holds, read in one transaction: what `attachbot
// migrate-store` copies into another store. Claims are not in it (a bbolt file's live only
// in the process that has it open).
type Snapshot struct {
	Inbox             []bot.Event // by Seq
	Processed         []KeyAt     // the processed event keys, and when
	EventDeadLetters  []EventDeadLetter
	Outbox            []bot.Outgoing // the waiting messages, by Seq
	OutboxDone        []OutboxDone   // the keys of the messages that left the outbox
	OutboxDeadLetters []OutgoingDeadLetter
	Requests          []bot.Request
	Batches           []BatchWithRows
	Subscriptions     []bot.Subscription
	Tokens            []NamedTokens
}

// KeyAt is a processed event's key and when it was processed.
type KeyAt struct {
	Key string
	At  time.Time
}

// EventDeadLetter is an event given up on, and when.
type EventDeadLetter struct {
	Event bot.Event
	At    time.Time
}

// OutboxDone is the key of a message that left the outbox, when, and whether it was given
// up on rather than sent.
type OutboxDone struct {
	Key  string
	At   time.Time
	Dead bool
}

// OutgoingDeadLetter is a message given up on, and when.
type OutgoingDeadLetter struct {
	Outgoing bot.Outgoing
	At       time.Time
}

// BatchWithRows is a batch and its rows.
type BatchWithRows struct {
	Batch bot.Batch
	Rows  []bot.BulkRow
}

// NamedTokens is an OAuth token set and its name.
type NamedTokens struct {
	Name   string
	Tokens bot.Tokens
}

// Snapshot reads everything the store holds, in one read transaction.
func (db *DB) Snapshot(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	err := db.view(ctx, fmt.Sprintf("snapshot store %s", db.path), func(tx *bolt.Tx) error {
		s = Snapshot{}
		return forEachAll(tx, []bucketReader{
			{bucketEvents, func(k, v []byte) error {
				ev, err := decodeEvent(k, v)
				s.Inbox = append(s.Inbox, ev)
				return err
			}},
			{bucketProcessed, func(k, v []byte) error {
				at, err := parseTime(k, v)
				s.Processed = append(s.Processed, KeyAt{Key: string(k), At: at})
				return err
			}},
			{bucketEventDeadLetters, func(k, v []byte) error {
				var d deadEvent
				err := decodeJSON(k, v, &d)
				s.EventDeadLetters = append(s.EventDeadLetters, EventDeadLetter(d))
				return err
			}},
			{bucketOutbox, func(k, v []byte) error { return appendJSON(&s.Outbox, k, v) }},
			{bucketOutboxKeys, func(k, v []byte) error {
				var m outboxMark
				if err := decodeJSON(k, v, &m); err != nil || m.pending() {
					return err
				}
				s.OutboxDone = append(s.OutboxDone, OutboxDone{Key: string(k), At: m.Done, Dead: m.Dead})
				return nil
			}},
			{bucketOutboxDeadLetters, func(k, v []byte) error {
				var d deadOutgoing
				err := decodeJSON(k, v, &d)
				s.OutboxDeadLetters = append(s.OutboxDeadLetters, OutgoingDeadLetter(d))
				return err
			}},
			{bucketRequests, func(k, v []byte) error { return appendJSON(&s.Requests, k, v) }},
			{bucketBatches, func(k, v []byte) error {
				var b BatchWithRows
				if err := decodeJSON(k, v, &b.Batch); err != nil {
					return err
				}
				if _, err := getJSON(tx.Bucket(bucketBatchRows), k, &b.Rows); err != nil {
					return err
				}
				s.Batches = append(s.Batches, b)
				return nil
			}},
			{bucketSubscriptions, func(k, v []byte) error { return appendJSON(&s.Subscriptions, k, v) }},
			{bucketTokens, func(k, v []byte) error {
				var t bot.Tokens
				err := decodeJSON(k, v, &t)
				s.Tokens = append(s.Tokens, NamedTokens{Name: string(k), Tokens: t})
				return err
			}},
		})
	})
	if err != nil {
		return Snapshot{}, err
	}
	sortInbox(s.Inbox)
	return s, nil
}

// bucketReader reads every entry of one bucket.
type bucketReader struct {
	bucket []byte
	each   func(k, v []byte) error
}

// forEachAll runs each reader over its bucket, in key order.
func forEachAll(tx *bolt.Tx, readers []bucketReader) error {
	for _, r := range readers {
		if err := tx.Bucket(r.bucket).ForEach(r.each); err != nil {
			return fmt.Errorf("read %s: %w", r.bucket, err)
		}
	}
	return nil
}

// appendJSON decodes v, stored under k, and appends it to all.
func appendJSON[T any](all *[]T, k, v []byte) error {
	var x T
	if err := decodeJSON(k, v, &x); err != nil {
		return err
	}
	*all = append(*all, x)
	return nil
}
