package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// outboxMark is a bucketOutboxKeys value: where a message with that key stands.
type outboxMark struct {
	Seq  uint64    `json:"seq,omitempty"`  // while the message waits: its key in bucketOutbox
	Done time.Time `json:"done,omitzero"`  // once it left the outbox: when
	Dead bool      `json:"dead,omitempty"` // it left because it was given up on, not sent
}

// pending reports whether the message is still in the outbox.
func (m outboxMark) pending() bool { return m.Done.IsZero() }

// deadOutgoing is a bucketOutboxDeadLetters value: a message given up on, and when.
type deadOutgoing struct {
	Outgoing bot.Outgoing `json:"outgoing"`
	At       time.Time    `json:"at"`
}

// Enqueue adds messages to the outbox, in order, each with the next sequence number as its
// Seq. A message is skipped if a message with its key is waiting, was sent or was given up
// on (until PruneProcessed forgets the key), or came earlier in out. Every message needs a
// key.
func (db *DB) Enqueue(ctx context.Context, out []bot.Outgoing) error {
	if len(out) == 0 {
		return ctx.Err()
	}
	return db.update(ctx, "enqueue", func(tx *bolt.Tx) error { return enqueue(tx, out) })
}

// enqueue is Enqueue within tx.
func enqueue(tx *bolt.Tx, out []bot.Outgoing) error {
	outbox, keys := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxKeys)
	for _, o := range out {
		if o.Key == "" {
			return errors.New("a message has no key")
		}
		key := []byte(o.Key)
		if keys.Get(key) != nil {
			continue
		}
		seq, err := outbox.NextSequence()
		if err != nil {
			return fmt.Errorf("next outbox sequence: %w", err)
		}
		o.Seq = seq
		if err := putJSON(outbox, seqKey(seq), o); err != nil {
			return err
		}
		if err := putJSON(keys, key, outboxMark{Seq: seq}); err != nil {
			return err
		}
		if err := laneEnqueued(tx, o); err != nil {
			return err
		}
	}
	return nil
}

// Outbox returns the messages waiting to be sent, in the order they were enqueued.
func (db *DB) Outbox(ctx context.Context) ([]bot.Outgoing, error) {
	return readAll[bot.Outgoing](ctx, db, bucketOutbox, "the outbox", nil)
}

// OutboxAfter returns the messages waiting to be sent whose Seq is greater than seq, in the
// order they were enqueued. It reads only those: the bot loads the outbox with seq 0 once,
// then asks for what was enqueued after the last message it knows of. Sequence numbers
// are assigned in commit order (bbolt commits one writer at a time).
func (db *DB) OutboxAfter(ctx context.Context, seq uint64) ([]bot.Outgoing, error) {
	var out []bot.Outgoing
	err := db.view(ctx, "read the outbox", func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(seqKey(seq + 1)); k != nil; k, v = c.Next() {
			var o bot.Outgoing
			if err := decodeJSON(k, v, &o); err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SaveOutgoing replaces a waiting message, found by its key (to record its attempts, when to
// try again and why); its Seq stays what Enqueue assigned. It returns bot.ErrNotFound if no
// message with that key is waiting.
func (db *DB) SaveOutgoing(ctx context.Context, o bot.Outgoing) error {
	return db.update(ctx, fmt.Sprintf("save outgoing message %s", o.Key), func(tx *bolt.Tx) error {
		return saveOutgoing(tx, o)
	})
}

// saveOutgoing is SaveOutgoing within tx.
func saveOutgoing(tx *bolt.Tx, o bot.Outgoing) error {
	m, err := waitingMark(tx, o.Key)
	if err != nil {
		return err
	}
	o.Seq = m.Seq
	if err := putJSON(tx.Bucket(bucketOutbox), seqKey(m.Seq), o); err != nil {
		return err
	}
	return laneSaved(tx, o)
}

// MarkSent removes a message from the outbox and remembers its key as sent at at, so that it
// is not enqueued again. Marking a message that already left the outbox does nothing; an
// unknown key is bot.ErrNotFound.
func (db *DB) MarkSent(ctx context.Context, key string, at time.Time) error {
	return db.update(ctx, fmt.Sprintf("mark message %s sent", key), func(tx *bolt.Tx) error {
		return markSent(tx, key, at)
	})
}

// markSent is MarkSent within tx.
func markSent(tx *bolt.Tx, key string, at time.Time) error {
	m, err := markOf(tx, key)
	if err != nil {
		return err
	}
	if !m.pending() {
		return nil
	}
	return leaveOutbox(tx, key, m.Seq, outboxMark{Done: at})
}

// DeadLetterOutgoing removes a waiting message from the outbox, keeps o (with at) for the
// operator in a dead-letter bucket, and remembers its key as done, so that it is not
// enqueued again. It returns bot.ErrNotFound if no message with o's key is waiting.
func (db *DB) DeadLetterOutgoing(ctx context.Context, o bot.Outgoing, at time.Time, out []bot.Outgoing) error {
	return db.update(ctx, fmt.Sprintf("dead-letter outgoing message %s", o.Key), func(tx *bolt.Tx) error {
		return deadLetterOutgoing(tx, o, at, out)
	})
}

// deadLetterOutgoing is DeadLetterOutgoing within tx.
func deadLetterOutgoing(tx *bolt.Tx, o bot.Outgoing, at time.Time, out []bot.Outgoing) error {
	m, err := waitingMark(tx, o.Key)
	if err != nil {
		return err
	}
	o.Seq = m.Seq
	if err := putDeadLetter(tx.Bucket(bucketOutboxDeadLetters), deadOutgoing{Outgoing: o, At: at}); err != nil {
		return err
	}
	if err := leaveOutbox(tx, o.Key, m.Seq, outboxMark{Done: at, Dead: true}); err != nil {
		return err
	}
	return enqueue(tx, out)
}

// markOf returns the mark of key, or bot.ErrNotFound if the key is unknown.
func markOf(tx *bolt.Tx, key string) (outboxMark, error) {
	var m outboxMark
	if key == "" {
		return m, bot.ErrNotFound
	}
	found, err := getJSON(tx.Bucket(bucketOutboxKeys), []byte(key), &m)
	if err != nil {
		return m, err
	}
	if !found {
		return m, bot.ErrNotFound
	}
	return m, nil
}

// waitingMark returns the mark of the waiting message with key, or bot.ErrNotFound if no
// message with key is waiting.
func waitingMark(tx *bolt.Tx, key string) (outboxMark, error) {
	m, err := markOf(tx, key)
	if err != nil {
		return m, err
	}
	if !m.pending() {
		return m, fmt.Errorf("already left the outbox: %w", bot.ErrNotFound)
	}
	return m, nil
}

// leaveOutbox deletes the message with key and seq from the outbox, and from its lane, and
// marks its key done.
func leaveOutbox(tx *bolt.Tx, key string, seq uint64, done outboxMark) error {
	var o bot.Outgoing
	if _, err := getJSON(tx.Bucket(bucketOutbox), seqKey(seq), &o); err != nil {
		return err
	}
	if err := tx.Bucket(bucketOutbox).Delete(seqKey(seq)); err != nil {
		return fmt.Errorf("delete from the outbox: %w", err)
	}
	if err := laneLeft(tx, o); err != nil {
		return err
	}
	if err := tx.Bucket(bucketOutboxDoneByTime).Put(timeKey(done.Done, []byte(key)), nil); err != nil {
		return fmt.Errorf("index the outbox key as done: %w", err)
	}
	return putJSON(tx.Bucket(bucketOutboxKeys), []byte(key), done)
}

// checkOutbox verifies that bucketOutbox and bucketOutboxKeys agree: every waiting message
// has a pending mark with its seq, and every pending mark a waiting message.
func checkOutbox(tx *bolt.Tx) error {
	outbox, keys := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxKeys)
	var errs []error
	err := outbox.ForEach(func(k, v []byte) error {
		var o bot.Outgoing
		if err := decodeJSON(k, v, &o); err != nil {
			return err
		}
		var m outboxMark
		found, err := getJSON(keys, []byte(o.Key), &m)
		switch {
		case err != nil:
			return err
		case string(k) != string(seqKey(o.Seq)):
			errs = append(errs, fmt.Errorf("outbox entry %x holds message %s with seq %d", k, o.Key, o.Seq))
		case !found || !m.pending() || m.Seq != o.Seq:
			errs = append(errs, fmt.Errorf("outbox message %s (seq %d) has mark %+v (found %t)", o.Key, o.Seq, m, found))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the outbox: %w", err)
	}
	err = keys.ForEach(func(k, v []byte) error {
		var m outboxMark
		if err := decodeJSON(k, v, &m); err != nil {
			return err
		}
		if m.pending() && outbox.Get(seqKey(m.Seq)) == nil {
			errs = append(errs, fmt.Errorf("outbox key %s is pending as seq %d, which is not in the outbox", k, m.Seq))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the outbox keys: %w", err)
	}
	return errors.Join(errs...)
}
