package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// claims is every claim with a lease: on inbox events, outbox lanes, polls and named leases.
// A bbolt file belongs to one process at a time (Open locks it), and the claims of a process
// end with it: so they are kept in memory, beside the file, and cost no write to it. A store
// shared by several processes keeps them in its tables instead (the contract,
// store/storetest, is the same).
//
// A claim being completed is marked finishing while its transaction commits: it lives
// whatever the clock says, so that no claimer reads the state from before the commit and
// hands the work out again. A claimer holds mu while it reads the file.
type claims struct {
	mu     sync.Mutex
	events leaseTable // Event.Key → its claim
	lanes  leaseTable // Outgoing.Lane() → its claim
	polls  leaseTable // Request.ID → its claim
	named  leaseTable // a named lease's name → its holder
}

// newClaims returns empty claims.
func newClaims() claims {
	return claims{events: leaseTable{}, lanes: leaseTable{}, polls: leaseTable{}, named: leaseTable{}}
}

// leaseTable is one kind of claims, by what they claim.
type leaseTable map[string]lease

// lease is who claimed something, and until when.
type lease struct {
	Owner     string
	Until     time.Time
	finishing bool // its completion is committing: it lives until then
}

// live reports whether the lease still holds at now.
func (l lease) live(now time.Time) bool { return l.finishing || l.Until.After(now) }

// takenFrom reports whether key is held at now by an owner other than owner.
func (t leaseTable) takenFrom(key, owner string, now time.Time) bool {
	l, held := t[key]
	return held && l.Owner != owner && l.live(now)
}

// busy reports whether anyone holds key at now.
func (t leaseTable) busy(key string, now time.Time) bool {
	l, held := t[key]
	return held && l.live(now)
}

// own returns bot.ErrLeaseLost when owner does not hold key. c.mu is held.
func (t leaseTable) own(key, owner string) error {
	if l, ok := t[key]; !ok || l.Owner != owner {
		return fmt.Errorf("%s: %w", key, bot.ErrLeaseLost)
	}
	return nil
}

// renew extends owner's claims on keys until until, or returns bot.ErrLeaseLost and changes
// nothing when owner does not hold one of them.
func (c *claims) renew(t leaseTable, keys []string, owner string, until time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, key := range keys {
		if err := t.own(key, owner); err != nil {
			return err
		}
	}
	for _, key := range keys {
		l := t[key]
		l.Until = until
		t[key] = l
	}
	return nil
}

// hold marks those of keys that owner holds as finishing, and returns them.
func (c *claims) hold(t leaseTable, keys []string, owner string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var held []string
	for _, key := range keys {
		if t.own(key, owner) == nil {
			l := t[key]
			l.finishing = true
			t[key] = l
			held = append(held, key)
		}
	}
	return held
}

// letGo ends hold on keys: it drops their claims when drop, else keeps them as they were.
func (c *claims) letGo(t leaseTable, keys []string, drop bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, key := range keys {
		l, ok := t[key]
		switch {
		case !ok:
		case drop:
			delete(t, key)
		default:
			l.finishing = false
			t[key] = l
		}
	}
}

// updateHolding runs fn in a write transaction when owner holds key in t, and drops the
// claim once it committed; it returns bot.ErrLeaseLost, and changes nothing, when owner does
// not hold key. While it commits, the claim cannot be taken.
func (db *DB) updateHolding(ctx context.Context, t leaseTable, key, owner, what string, fn func(tx *bolt.Tx) error) error {
	if len(db.claims.hold(t, []string{key}, owner)) == 0 {
		return fmt.Errorf("%s: %s: %w", what, key, bot.ErrLeaseLost)
	}
	err := db.update(ctx, what, fn)
	db.claims.letGo(t, []string{key}, err == nil)
	return err
}

// finishEvent marks the claim on event key as finishing, provided owner holds it (an empty
// owner: provided no owner holds it under a lease living at now), or returns
// bot.ErrLeaseLost. It returns the function that ends the mark once the completion is over:
// drop forgets the claim, else the claim is put back as it was.
func (c *claims) finishEvent(key, owner string, now time.Time) (func(drop bool), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	before, held := c.events[key]
	if (owner != "" && (!held || before.Owner != owner)) || (owner == "" && held && before.live(now)) {
		return nil, fmt.Errorf("%s: %w", key, bot.ErrLeaseLost)
	}
	c.events[key] = lease{Owner: owner, Until: before.Until, finishing: true}
	return func(drop bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if drop || !held {
			delete(c.events, key)
		} else {
			c.events[key] = before
		}
	}, nil
}

// RenewEvents extends owner's claims on the events with keys until until. It returns
// bot.ErrLeaseLost, and changes nothing, when one of them is not claimed by owner any more
// (another owner took it after the lease ran out, or it left the inbox).
func (db *DB) RenewEvents(ctx context.Context, keys []string, owner string, until time.Time) error {
	return db.renew(ctx, db.claims.events, "events", keys, owner, until)
}

// renew extends owner's claims on keys in t until until, or returns bot.ErrLeaseLost and
// changes nothing; what names the claims in the error.
func (db *DB) renew(ctx context.Context, t leaseTable, what string, keys []string, owner string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.claims.renew(t, keys, owner, until); err != nil {
		return fmt.Errorf("renew claims on %s: %w", what, err)
	}
	return nil
}

// ReleaseEvent gives up owner's claim on an event after a failure, and saves ev (its
// attempts, when to try again, why; its Seq stays) with it, at once: the event is due again
// at ev.NotBefore, for any owner. It returns bot.ErrLeaseLost, and changes nothing, when
// owner does not hold the claim.
func (db *DB) ReleaseEvent(ctx context.Context, ev bot.Event, owner string) error {
	return db.updateHolding(ctx, db.claims.events, ev.Key, owner, fmt.Sprintf("release event %s", ev.Key), func(tx *bolt.Tx) error {
		err := replaceEvent(tx.Bucket(bucketEvents), ev)
		if errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("event %s left the inbox: %w", ev.Key, bot.ErrLeaseLost)
		}
		return err
	})
}

// DueEvents returns, in the order of arrival, at most limit inbox events due at now that no
// owner holds under a lease living at now. It reads the whole inbox, but only the Seq and
// NotBefore of each event (eventPlace); it keeps the keys of at most about twice limit events
// at a time, and of none that come after limit kept ones already; and it decodes only the
// events it returns. The bot calls it on a period, not per event, to find the work no process
// of its own knows of (with bbolt, one process owns the file, so it finds only what the bot's
// own loops dropped): over a backlog of all but unheld events, as a drain is, a scan that
// decoded every event would be a burst of garbage the size of the backlog.
func (db *DB) DueEvents(ctx context.Context, now time.Time, limit int) ([]bot.Event, error) {
	type candidate struct {
		seq uint64
		key string
	}
	var due []bot.Event
	err := db.view(ctx, "read the due events", func(tx *bolt.Tx) error {
		var found []candidate
		cutoff, full := uint64(0), false // once full, an event after cutoff is not among the earliest
		keep := func() {
			slices.SortFunc(found, func(a, b candidate) int { return cmp.Compare(a.seq, b.seq) })
			found = clip(found, limit)
			if limit > 0 && len(found) == limit {
				cutoff, full = found[limit-1].seq, true
			}
		}
		events := tx.Bucket(bucketEvents)
		err := events.ForEach(func(k, v []byte) error {
			seq, notBefore, err := eventPlace(k, v)
			if err != nil {
				return err
			}
			if notBefore.After(now) || (full && seq > cutoff) {
				return nil
			}
			db.claims.mu.Lock()
			l, held := db.claims.events[string(k)]
			db.claims.mu.Unlock()
			if held && l.live(now) {
				return nil
			}
			found = append(found, candidate{seq: seq, key: string(k)})
			if limit > 0 && len(found) >= 2*limit {
				keep()
			}
			return nil
		})
		if err != nil {
			return err
		}
		keep()
		due = make([]bot.Event, 0, len(found))
		for _, c := range found {
			ev, ok, err := getEvent(events, []byte(c.key))
			if err != nil {
				return err
			}
			if ok {
				due = append(due, ev)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return due, nil
}

// clip returns at most limit of s (all when limit is zero or less).
func clip[T any](s []T, limit int) []T {
	if limit > 0 && len(s) > limit {
		return slices.Clip(s[:limit])
	}
	return s
}

// compareSeq orders messages by Seq.
func compareSeq(a, b bot.Outgoing) int { return cmp.Compare(a.Seq, b.Seq) }
