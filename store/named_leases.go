package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AcquireLease takes the named lease for owner until until when nobody holds it at now (never
// taken, released, or run out), or extends it when owner holds it, and reports whether owner
// holds it now. While a lease lives, it has one holder. With bbolt, one process owns the
// file, so the leases live in its memory; the contract is that of a shared store.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if name == "" || owner == "" {
		return false, errors.New("acquire lease: a lease needs a name and an owner")
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	if db.claims.named.takenFrom(name, owner, now) {
		return false, nil
	}
	db.claims.named[name] = lease{Owner: owner, Until: until}
	return true, nil
}

// RenewLease extends owner's named lease until until; bot.ErrLeaseLost, changing nothing,
// when owner does not hold it.
func (db *DB) RenewLease(ctx context.Context, name, owner string, until time.Time) error {
	return db.renew(ctx, db.claims.named, "named leases", []string{name}, owner, until)
}

// ReleaseLease gives up owner's named lease; bot.ErrLeaseLost, changing nothing, when owner
// does not hold it.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.claims.mu.Lock()
	defer db.claims.mu.Unlock()
	if err := db.claims.named.own(name, owner); err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	delete(db.claims.named, name)
	return nil
}
