package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"attachbot/bot"
)

// Named leases (the leader's, an organization's lock) are rows of leases: one holder while
// the lease lives. Unlike a session advisory lock, a lease survives a connection pooler in
// transaction mode, and ends by itself when its holder dies.

// AcquireLease takes the named lease for owner until until when it is free or ran out at
// now, or extends it when owner holds it, and reports whether owner holds it now.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	if name == "" || owner == "" {
		return false, errors.New("acquire lease: a lease needs a name and an owner")
	}
	held := false
	err := db.write(ctx, fmt.Sprintf("acquire lease %s", name), func(tx *txn) error {
		err := tx.QueryRow(ctx, `INSERT INTO leases (name, owner, until) VALUES ($1, $2, $4)
			ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
			WHERE leases.owner = EXCLUDED.owner OR leases.until <= $3
			RETURNING true`, name, owner, now, until).Scan(&held)
		if errors.Is(err, pgx.ErrNoRows) {
			held = false
			return nil
		}
		return err
	})
	return held, err
}

// RenewLease extends owner's named lease until until. It returns bot.ErrLeaseLost, changing
// nothing, when owner does not hold it.
func (db *DB) RenewLease(ctx context.Context, name, owner string, until time.Time) error {
	return db.write(ctx, fmt.Sprintf("renew lease %s", name), func(tx *txn) error {
		return renewRows(ctx, tx, `UPDATE leases SET until = $3 WHERE name = ANY($1) AND owner = $2`, []string{name}, owner, until)
	})
}

// ReleaseLease gives up owner's named lease. It returns bot.ErrLeaseLost, changing nothing,
// when owner does not hold it.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	return db.write(ctx, fmt.Sprintf("release lease %s", name), func(tx *txn) error {
		tag, err := tx.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND owner = $2`, name, owner)
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("lease %s is not held by %s: %w", name, owner, bot.ErrLeaseLost)
		}
		return err
	})
}
