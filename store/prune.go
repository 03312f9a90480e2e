package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// timeKey returns the key of key in a time-ordered index: at as big-endian Unix nanoseconds,
// then key, so that a cursor meets the oldest first.
func timeKey(at time.Time, key []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(max(at.UnixNano(), 0))), key...)
}

// splitTimeKey undoes timeKey.
func splitTimeKey(k []byte) (time.Time, []byte, error) {
	if len(k) < 8 {
		return time.Time{}, nil, fmt.Errorf("time index key %x is shorter than 8 bytes", k)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), k[8:], nil
}

// PruneProcessed forgets the keys of events processed before before, and the keys of
// outbox messages sent (or given up on) before before. A forgotten key is no longer
// deduplicated. It returns how many keys it forgot. It reads only what it forgets: the
// time-ordered indexes bucketProcessedByTime and bucketOutboxDoneByTime, from their oldest
// entry up to before.
func (db *DB) PruneProcessed(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := db.update(ctx, "prune processed keys", func(tx *bolt.Tx) error {
		n = 0
		forgot, err := pruneIndex(tx.Bucket(bucketProcessedByTime), before, func(key []byte) (bool, error) {
			processed := tx.Bucket(bucketProcessed)
			v := processed.Get(key)
			if v == nil {
				return false, nil
			}
			at, err := parseTime(key, v)
			if err != nil || !at.Before(before) {
				return false, err // processed again later: a later index entry prunes it
			}
			return true, processed.Delete(key)
		})
		if err != nil {
			return fmt.Errorf("processed events: %w", err)
		}
		n += forgot
		forgot, err = pruneIndex(tx.Bucket(bucketOutboxDoneByTime), before, func(key []byte) (bool, error) {
			keys := tx.Bucket(bucketOutboxKeys)
			var m outboxMark
			found, err := getJSON(keys, key, &m)
			if err != nil || !found || m.pending() || !m.Done.Before(before) {
				return false, err
			}
			return true, keys.Delete(key)
		})
		if err != nil {
			return fmt.Errorf("outbox keys: %w", err)
		}
		n += forgot
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// pruneIndex deletes the entries of a time-ordered index older than before, calling forget
// with each one's key; it returns how many times forget reported that it forgot the key.
func pruneIndex(index *bolt.Bucket, before time.Time, forget func(key []byte) (bool, error)) (int, error) {
	// Deleting while a cursor iterates can skip keys, so collect them first.
	var old [][]byte
	c := index.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		at, _, err := splitTimeKey(k)
		if err != nil {
			return 0, err
		}
		if !at.Before(before) {
			break
		}
		old = append(old, bytes.Clone(k))
	}
	n := 0
	for _, k := range old {
		_, key, _ := splitTimeKey(k)
		forgot, err := forget(key)
		if err != nil {
			return 0, fmt.Errorf("forget %q: %w", key, err)
		}
		if forgot {
			n++
		}
		if err := index.Delete(k); err != nil {
			return 0, fmt.Errorf("delete index entry %x: %w", k, err)
		}
	}
	return n, nil
}
