package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// claims is the claims on inbox events. A bbolt file belongs to one process at a time (Open
// locks it), and the claims of a process end with it: so they are kept in memory, beside
// the file, and cost no write to it. A store shared by several processes keeps them in its
// tables instead (the contract, store/storetest, is the same).
type claims struct {
	mu     sync.Mutex
	leases map[string]eventLease // Event.Key → its claim
}

// eventLease is who claimed an inbox event, and until when.
type eventLease struct {
	Owner string
	Until time.Time
}

// live reports whether the lease still holds at now.
func (l eventLease) live(now time.Time) bool { return l.Until.After(now) }

// own returns owner's lease on key, or bot.ErrLeaseLost when owner holds none. c.mu is held.
func (c *claims) own(key, owner string) error {
	if l, ok := c.leases[key]; !ok || l.Owner != owner {
		return fmt.Errorf("event %s: %w", key, bot.ErrLeaseLost)
	}
	return nil
}

// drop forgets the claim on key, if any.
func (c *claims) drop(key string) {
	c.mu.Lock()
	delete(c.leases, key)
	c.mu.Unlock()
}

// ClaimEvents claims, for owner until until, those of the events with keys that are in the
// inbox, due at now (NotBefore not after it) and not claimed by another owner under a lease
// that lives at now; an event owner holds already has its lease extended. It returns the
// claimed events as stored, in the order of keys. It reads the file and writes nothing to it.
func (db *DB) ClaimEvents(ctx context.Context, keys []string, owner string, now, until time.Time) ([]bot.Event, error) {
	if owner == "" {
		return nil, errors.New("claim events: no owner")
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	var claimed []bot.Event
	err := db.view(ctx, fmt.Sprintf("claim %d events", len(keys)), func(tx *bolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		for _, key := range keys {
			var ev bot.Event
			found, err := getJSON(events, []byte(key), &ev)
			if err != nil {
				return err
			}
			if !found || ev.NotBefore.After(now) {
				continue
			}
			if l, held := db.claims.leases[key]; held && l.Owner != owner && l.live(now) {
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
		db.claims.leases[ev.Key] = eventLease{Owner: owner, Until: until}
	}
	return claimed, nil
}

// RenewEvents extends owner's claims on the events with keys until until. It returns
// bot.ErrLeaseLost, and changes nothing, when one of them is not claimed by owner any more
// (another owner took it after the lease ran out, or it left the inbox).
func (db *DB) RenewEvents(ctx context.Context, keys []string, owner string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	for _, key := range keys {
		if err := db.claims.own(key, owner); err != nil {
			return fmt.Errorf("renew claims: %w", err)
		}
	}
	for _, key := range keys {
		db.claims.leases[key] = eventLease{Owner: owner, Until: until}
	}
	return nil
}

// ReleaseEvent gives up owner's claim on an event after a failure, and saves ev (its
// attempts, when to try again, why; its Seq stays) with it, at once: the event is due again
// at ev.NotBefore, for any owner. It returns bot.ErrLeaseLost, and changes nothing, when
// owner does not hold the claim.
func (db *DB) ReleaseEvent(ctx context.Context, ev bot.Event, owner string) error {
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	if err := db.claims.own(ev.Key, owner); err != nil {
		return fmt.Errorf("release event: %w", err)
	}
	err := db.update(ctx, fmt.Sprintf("release event %s", ev.Key), func(tx *bolt.Tx) error {
		err := replaceEvent(tx.Bucket(bucketEvents), ev)
		if errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("event %s left the inbox: %w", ev.Key, bot.ErrLeaseLost)
		}
		return err
	})
	if err != nil {
		return err
	}
	delete(db.claims.leases, ev.Key)
	return nil
}
