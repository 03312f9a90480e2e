package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// migrations[v] brings a file of schema version v to version v+1, within Open's
// read-write transaction.
var migrations = map[int]func(tx *bolt.Tx) error{
	1: migrateOutgoingRequestIDs,
	2: migrateTimeIndexes,
	3: migrateLanes,
	4: func(*bolt.Tx) error { return nil }, // the batch buckets are new: Open creates them
	5: migrateEventLanes,
	6: storeEventsAgain,
	7: migratePollIndex,
	8: migrateHashedEventLanes,
	9: storeEventsAgain,
}

// migrate brings a file of schema version from to SchemaVersion, one version at a time.
func migrate(tx *bolt.Tx, from int) error {
	for v := from; v < SchemaVersion; v++ {
		step, ok := migrations[v]
		if !ok {
			return fmt.Errorf("schema version %d is unknown (this attachbot knows %d)", v, SchemaVersion)
		}
		if err := step(tx); err != nil {
			return fmt.Errorf("migrate schema version %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}

// migrateOutgoingRequestIDs is version 1 to 2: a waiting or given-up message about a request
// gets Outgoing.RequestID, which version 1 kept only inside the key.
func migrateOutgoingRequestIDs(tx *bolt.Tx) error {
	if err := rewriteAll(tx.Bucket(bucketOutbox), func(o *bot.Outgoing) { fillRequestID(o) }); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := rewriteAll(tx.Bucket(bucketOutboxDeadLetters), func(d *deadOutgoing) { fillRequestID(&d.Outgoing) }); err != nil {
		return fmt.Errorf("outbox dead letters: %w", err)
	}
	return nil
}

// migrateTimeIndexes is version 2 to 3: the processed event keys and the outbox keys that
// left the outbox get their entries in the time-ordered indexes that PruneProcessed reads
// (the buckets are created by Open before).
func migrateTimeIndexes(tx *bolt.Tx) error {
	byTime := tx.Bucket(bucketProcessedByTime)
	err := tx.Bucket(bucketProcessed).ForEach(func(k, v []byte) error {
		at, err := parseTime(k, v)
		if err != nil {
			return err
		}
		return byTime.Put(timeKey(at, k), nil)
	})
	if err != nil {
		return fmt.Errorf("index processed events: %w", err)
	}
	doneByTime := tx.Bucket(bucketOutboxDoneByTime)
	err = tx.Bucket(bucketOutboxKeys).ForEach(func(k, v []byte) error {
		var m outboxMark
		if err := decodeJSON(k, v, &m); err != nil {
			return err
		}
		if m.pending() {
			return nil
		}
		return doneByTime.Put(timeKey(m.Done, k), nil)
	})
	if err != nil {
		return fmt.Errorf("index outbox keys: %w", err)
	}
	return nil
}

// fillRequestID sets o.RequestID from its key when it has none.
func fillRequestID(o *bot.Outgoing) {
	if o.RequestID == "" {
		o.RequestID = bot.RequestIDOfKey(o.Key)
	}
}

// rewriteAll decodes every value of b, changes it with change and stores it again. A bucket
// that does not exist yet has nothing to rewrite.
func rewriteAll[T any](b *bolt.Bucket, change func(*T)) error {
	if b == nil {
		return nil
	}
	type entry struct {
		key []byte
		v   T
	}
	var all []entry
	err := b.ForEach(func(k, v []byte) error {
		var x T
		if err := decodeJSON(k, v, &x); err != nil {
			return err
		}
		change(&x)
		all = append(all, entry{key: append([]byte(nil), k...), v: x})
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range all {
		if err := putJSON(b, e.key, e.v); err != nil {
			return err
		}
	}
	return nil
}
