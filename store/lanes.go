package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// The outbox's lanes (bot.Outgoing.Lane): the messages to one destination, sent one at a time
// in Seq order. Two indexes, kept by every write to the outbox, find a lane's head without
// reading the outbox: bucketOutboxLanes lists each lane's waiting messages in order, and
// bucketOutboxLaneHeads holds each lane's head and when it is due.

// laneKey returns the bucketOutboxLanes key of the message with seq in lane; with seq 0, the
// prefix of the lane's keys.
func laneKey(lane string, seq uint64) []byte {
	k := make([]byte, 0, len(lane)+9)
	k = append(append(k, lane...), 0)
	if seq == 0 {
		return k
	}
	return binary.BigEndian.AppendUint64(k, seq)
}

// laneHead is a bucketOutboxLaneHeads value: the Seq of a lane's head, and when it is due
// (its NotBefore, as Unix nanoseconds; 0 for at once).
type laneHead struct {
	seq uint64
	due int64
}

func (h laneHead) encode() []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, h.seq), uint64(h.due))
}

func decodeLaneHead(lane, v []byte) (laneHead, error) {
	if len(v) != 16 {
		return laneHead{}, fmt.Errorf("lane head %q: %d bytes, want 16", lane, len(v))
	}
	return laneHead{seq: binary.BigEndian.Uint64(v), due: int64(binary.BigEndian.Uint64(v[8:]))}, nil
}

// dueNanos encodes when a message is due.
func dueNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.UnixNano(), 0)
}

// isDue reports whether a head is due at now.
func (h laneHead) isDue(now time.Time) bool { return h.due <= dueNanos(now) }

// laneEnqueued indexes o, just put in the outbox with its Seq: it is its lane's head when the
// lane had no waiting message.
func laneEnqueued(tx *bolt.Tx, o bot.Outgoing) error {
	lane := o.Lane()
	if err := tx.Bucket(bucketOutboxLanes).Put(laneKey(lane, o.Seq), nil); err != nil {
		return fmt.Errorf("index lane %q: %w", lane, err)
	}
	heads := tx.Bucket(bucketOutboxLaneHeads)
	if heads.Get([]byte(lane)) != nil {
		return nil
	}
	return putLaneHead(heads, lane, laneHead{seq: o.Seq, due: dueNanos(o.NotBefore)})
}

func putLaneHead(heads *bolt.Bucket, lane string, h laneHead) error {
	if err := heads.Put([]byte(lane), h.encode()); err != nil {
		return fmt.Errorf("index the head of lane %q: %w", lane, err)
	}
	return nil
}

// laneSaved updates the head's due time when o, saved, is its lane's head.
func laneSaved(tx *bolt.Tx, o bot.Outgoing) error {
	heads := tx.Bucket(bucketOutboxLaneHeads)
	lane := o.Lane()
	h, err := decodeLaneHead([]byte(lane), heads.Get([]byte(lane)))
	if err != nil || h.seq != o.Seq {
		return err
	}
	return putLaneHead(heads, lane, laneHead{seq: o.Seq, due: dueNanos(o.NotBefore)})
}

// laneLeft unindexes o, which left the outbox; when it was its lane's head, the next waiting
// message of the lane becomes the head, or the lane goes.
func laneLeft(tx *bolt.Tx, o bot.Outgoing) error {
	lane := o.Lane()
	lanes := tx.Bucket(bucketOutboxLanes)
	if err := lanes.Delete(laneKey(lane, o.Seq)); err != nil {
		return fmt.Errorf("unindex lane %q: %w", lane, err)
	}
	heads := tx.Bucket(bucketOutboxLaneHeads)
	h, err := decodeLaneHead([]byte(lane), heads.Get([]byte(lane)))
	if err != nil || h.seq != o.Seq {
		return err
	}
	prefix := laneKey(lane, 0)
	k, _ := lanes.Cursor().Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		if err := heads.Delete([]byte(lane)); err != nil {
			return fmt.Errorf("unindex the head of lane %q: %w", lane, err)
		}
		return nil
	}
	var next bot.Outgoing
	if _, err := getJSON(tx.Bucket(bucketOutbox), k[len(prefix):], &next); err != nil {
		return err
	}
	return putLaneHead(heads, lane, laneHead{seq: next.Seq, due: dueNanos(next.NotBefore)})
}

// headOf returns the head of lane as stored, and whether the lane has a waiting message.
func headOf(tx *bolt.Tx, lane string) (laneHead, bot.Outgoing, bool, error) {
	var o bot.Outgoing
	v := tx.Bucket(bucketOutboxLaneHeads).Get([]byte(lane))
	if v == nil {
		return laneHead{}, o, false, nil
	}
	h, err := decodeLaneHead([]byte(lane), v)
	if err != nil {
		return h, o, false, err
	}
	found, err := getJSON(tx.Bucket(bucketOutbox), seqKey(h.seq), &o)
	if err == nil && !found {
		err = fmt.Errorf("the head of lane %q is message %d, which is not in the outbox", lane, h.seq)
	}
	return h, o, err == nil, err
}

// DueLanes returns the heads of at most limit lanes whose head is due at now and that no
// owner holds under a lease living at now, oldest head first. It reads the lane heads' index
// (one entry per lane with waiting messages) and decodes only the heads it returns.
func (db *DB) DueLanes(ctx context.Context, now time.Time, limit int) ([]bot.Outgoing, error) {
	var out []bot.Outgoing
	err := db.view(ctx, "read the due lanes", func(tx *bolt.Tx) error {
		var due []laneHead
		db.claims.mu.Lock()
		err := tx.Bucket(bucketOutboxLaneHeads).ForEach(func(lane, v []byte) error {
			h, err := decodeLaneHead(lane, v)
			if err == nil && h.isDue(now) && !db.claims.lanes.busy(string(lane), now) {
				due = append(due, h)
			}
			return err
		})
		db.claims.mu.Unlock()
		if err != nil {
			return err
		}
		slices.SortFunc(due, func(a, b laneHead) int { return cmp.Compare(a.seq, b.seq) })
		for _, h := range clip(due, limit) {
			var o bot.Outgoing
			if _, err := getJSON(tx.Bucket(bucketOutbox), seqKey(h.seq), &o); err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// ClaimLanes claims, for owner until until, those of lanes whose head is due at now and that
// no other owner holds under a lease living at now (owner's own claims are extended), and
// returns their heads as stored, in Seq order. It reads the file and writes nothing to it.
func (db *DB) ClaimLanes(ctx context.Context, lanes []string, owner string, now, until time.Time) ([]bot.Outgoing, error) {
	if owner == "" {
		return nil, errors.New("claim lanes: no owner")
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	var heads []bot.Outgoing
	err := db.view(ctx, fmt.Sprintf("claim %d lanes", len(lanes)), func(tx *bolt.Tx) error {
		for _, lane := range slices.Compact(slices.Sorted(slices.Values(lanes))) {
			h, o, found, err := headOf(tx, lane)
			if err != nil {
				return err
			}
			if found && h.isDue(now) && !db.claims.lanes.takenFrom(lane, owner, now) {
				heads = append(heads, o)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, o := range heads {
		db.claims.lanes[o.Lane()] = lease{Owner: owner, Until: until}
	}
	slices.SortFunc(heads, compareSeq)
	return heads, nil
}

// RenewLanes extends owner's claims on lanes until until; bot.ErrLeaseLost, changing
// nothing, when owner does not hold one of them.
func (db *DB) RenewLanes(ctx context.Context, lanes []string, owner string, until time.Time) error {
	return db.renew(ctx, db.claims.lanes, "lanes", lanes, owner, until)
}

// ReleaseLane saves o, a waiting message (its attempts, when to try again, why), and gives
// up owner's claim on its lane, at once: the lane is due again when its head is. It returns
// bot.ErrLeaseLost, and changes nothing, when owner does not hold the lane.
func (db *DB) ReleaseLane(ctx context.Context, o bot.Outgoing, owner string) error {
	return db.updateHolding(ctx, db.claims.lanes, o.Lane(), owner, fmt.Sprintf("release the lane of message %s", o.Key), func(tx *bolt.Tx) error {
		return saveOutgoing(tx, o)
	})
}

// FinishLane marks the waiting message key sent at at (see MarkSent) and gives up owner's
// claim on its lane, at once. It returns bot.ErrLeaseLost, and changes nothing, when owner
// does not hold the lane, and bot.ErrNotFound when key is unknown.
func (db *DB) FinishLane(ctx context.Context, key, owner string, at time.Time) error {
	var o bot.Outgoing
	err := db.view(ctx, fmt.Sprintf("find message %s", key), func(tx *bolt.Tx) error {
		m, err := waitingMark(tx, key)
		if err != nil {
			return err
		}
		_, err = getJSON(tx.Bucket(bucketOutbox), seqKey(m.Seq), &o)
		return err
	})
	if err != nil {
		return err
	}
	return db.updateHolding(ctx, db.claims.lanes, o.Lane(), owner, fmt.Sprintf("mark message %s sent", key), func(tx *bolt.Tx) error {
		return markSent(tx, key, at)
	})
}

// DeadLetterLane gives o up (see DeadLetterOutgoing), enqueues out and gives up owner's
// claim on o's lane, at once. It returns bot.ErrLeaseLost, and changes nothing, when owner
// does not hold the lane.
func (db *DB) DeadLetterLane(ctx context.Context, o bot.Outgoing, owner string, at time.Time, out []bot.Outgoing) error {
	return db.updateHolding(ctx, db.claims.lanes, o.Lane(), owner, fmt.Sprintf("dead-letter outgoing message %s", o.Key), func(tx *bolt.Tx) error {
		return deadLetterOutgoing(tx, o, at, out)
	})
}

// checkLanes verifies that the lane indexes list exactly the waiting messages, each lane's
// head being its first.
func checkLanes(tx *bolt.Tx) error {
	var errs []error
	n := 0
	heads := map[string]uint64{}
	err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		var o bot.Outgoing
		if err := decodeJSON(k, v, &o); err != nil {
			return err
		}
		n++
		lane := o.Lane()
		if !has(tx.Bucket(bucketOutboxLanes), laneKey(lane, o.Seq)) {
			errs = append(errs, fmt.Errorf("message %s (seq %d) is not in the index of lane %q", o.Key, o.Seq, lane))
		}
		if _, ok := heads[lane]; !ok {
			heads[lane] = o.Seq
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the lanes: %w", err)
	}
	if got := tx.Bucket(bucketOutboxLanes).Stats().KeyN; got != n {
		errs = append(errs, fmt.Errorf("the lane index has %d entries for %d waiting messages", got, n))
	}
	if got := tx.Bucket(bucketOutboxLaneHeads).Stats().KeyN; got != len(heads) {
		errs = append(errs, fmt.Errorf("the lane heads index has %d entries for %d lanes", got, len(heads)))
	}
	for lane, seq := range heads {
		h, err := decodeLaneHead([]byte(lane), tx.Bucket(bucketOutboxLaneHeads).Get([]byte(lane)))
		if err != nil || h.seq != seq {
			errs = append(errs, fmt.Errorf("the head of lane %q is %d (%v), want %d", lane, h.seq, err, seq))
		}
	}
	return errors.Join(errs...)
}

// migrateLanes is version 3 to 4: the waiting messages get their entries in the lane indexes
// (the buckets are created by Open before).
func migrateLanes(tx *bolt.Tx) error {
	return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		var o bot.Outgoing
		if err := decodeJSON(k, v, &o); err != nil {
			return err
		}
		return laneEnqueued(tx, o)
	})
}
