package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// eventLease is a bucketEventLeases value: who claimed an inbox event, and until when.
type eventLease struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

// live reports whether the lease still holds at now.
func (l eventLease) live(now time.Time) bool { return l.Until.After(now) }

// ClaimEvents claims, for owner until until, those of the events with keys that are in the
// inbox, due at now (NotBefore not after it) and not claimed by another owner under a lease
// that lives at now; an event owner holds already has its lease extended. It returns the
// claimed events as stored, in the order of keys, in one transaction.
func (db *DB) ClaimEvents(ctx context.Context, keys []string, owner string, now, until time.Time) ([]bot.Event, error) {
	if owner == "" {
		return nil, errors.New("claim events: no owner")
	}
	var claimed []bot.Event
	err := db.update(ctx, fmt.Sprintf("claim %d events", len(keys)), func(tx *bolt.Tx) error {
		claimed = claimed[:0]
		events, leases := tx.Bucket(bucketEvents), tx.Bucket(bucketEventLeases)
		for _, key := range keys {
			k := []byte(key)
			var ev bot.Event
			found, err := getJSON(events, k, &ev)
			if err != nil {
				return err
			}
			if !found || ev.NotBefore.After(now) {
				continue
			}
			var l eventLease
			held, err := getJSON(leases, k, &l)
			if err != nil {
				return err
			}
			if held && l.Owner != owner && l.live(now) {
				continue
			}
			if err := putJSON(leases, k, eventLease{Owner: owner, Until: until}); err != nil {
				return err
			}
			claimed = append(claimed, ev)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

// RenewEvents extends owner's claims on the events with keys until until, in one
// transaction. It returns bot.ErrLeaseLost, and changes nothing, when one of them is not
// claimed by owner any more (another owner took it after the lease ran out, or it left the
// inbox).
func (db *DB) RenewEvents(ctx context.Context, keys []string, owner string, until time.Time) error {
	return db.update(ctx, fmt.Sprintf("renew %d claims", len(keys)), func(tx *bolt.Tx) error {
		leases := tx.Bucket(bucketEventLeases)
		for _, key := range keys {
			if _, err := ownLease(leases, key, owner); err != nil {
				return err
			}
			if err := putJSON(leases, []byte(key), eventLease{Owner: owner, Until: until}); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReleaseEvent gives up owner's claim on an event after a failure, and saves ev (its
// attempts, when to try again, why; its Seq stays) with it, at once: the event is due again at
// ev.NotBefore, for any owner. It returns bot.ErrLeaseLost, and changes nothing, when owner
// does not hold the claim.
func (db *DB) ReleaseEvent(ctx context.Context, ev bot.Event, owner string) error {
	return db.update(ctx, fmt.Sprintf("release event %s", ev.Key), func(tx *bolt.Tx) error {
		leases := tx.Bucket(bucketEventLeases)
		if _, err := ownLease(leases, ev.Key, owner); err != nil {
			return err
		}
		err := replaceEvent(tx.Bucket(bucketEvents), ev)
		if errors.Is(err, bot.ErrNotFound) {
			return fmt.Errorf("event %s left the inbox: %w", ev.Key, bot.ErrLeaseLost)
		}
		if err != nil {
			return err
		}
		return leases.Delete([]byte(ev.Key))
	})
}

// ownLease returns owner's lease on key, or bot.ErrLeaseLost when owner holds none.
func ownLease(leases *bolt.Bucket, key, owner string) (eventLease, error) {
	var l eventLease
	held, err := getJSON(leases, []byte(key), &l)
	if err != nil {
		return l, err
	}
	if !held || l.Owner != owner {
		return l, fmt.Errorf("event %s: %w", key, bot.ErrLeaseLost)
	}
	return l, nil
}

// forgetLeases drops every claim: the process that made them no longer holds the file.
func forgetLeases(tx *bolt.Tx) error {
	if tx.Bucket(bucketEventLeases) == nil {
		return nil
	}
	if err := tx.DeleteBucket(bucketEventLeases); err != nil {
		return fmt.Errorf("forget the claims of the process before: %w", err)
	}
	return nil
}

// checkLeases verifies that every claim is on an event in the inbox.
func checkLeases(tx *bolt.Tx) error {
	events := tx.Bucket(bucketEvents)
	var errs []error
	err := tx.Bucket(bucketEventLeases).ForEach(func(k, _ []byte) error {
		if events.Get(k) == nil {
			errs = append(errs, fmt.Errorf("a claim on event %s, which is not in the inbox", k))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the claims: %w", err)
	}
	return errors.Join(errs...)
}
