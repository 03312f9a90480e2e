package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"attachbot/bot"
)

// SaveSubscription creates or replaces the digest subscription of s.RoomID.
func (db *DB) SaveSubscription(ctx context.Context, s bot.Subscription) error {
	if s.RoomID == "" {
		return errors.New("save subscription: the subscription has no room id")
	}
	return db.putDoc(ctx, fmt.Sprintf("save subscription of room %s", s.RoomID),
		`INSERT INTO subscriptions (room_id, doc) VALUES ($1, $2) ON CONFLICT (room_id) DO UPDATE SET doc = EXCLUDED.doc`, s.RoomID, s)
}

// DeleteSubscription removes the digest subscription of a room, or returns an error wrapping
// bot.ErrNotFound if it has none.
func (db *DB) DeleteSubscription(ctx context.Context, roomID string) error {
	return db.write(ctx, fmt.Sprintf("delete subscription of room %s", roomID), func(tx *txn) error {
		tag, err := tx.Exec(ctx, `DELETE FROM subscriptions WHERE room_id = $1`, roomID)
		if err == nil && tag.RowsAffected() == 0 {
			err = bot.ErrNotFound
		}
		return err
	})
}

// Subscriptions returns every digest subscription, by room id.
func (db *DB) Subscriptions(ctx context.Context) ([]bot.Subscription, error) {
	return selectAll(ctx, db, "read subscriptions", collectKeyed[bot.Subscription]("subscription of room"),
		`SELECT room_id, doc FROM subscriptions ORDER BY room_id`)
}

// RecordDigest enqueues a space's digest (see Enqueue) and sets its subscription's LastSent
// to sent, in one transaction, provided the subscription is still sub as the caller read it
// (same schedule, creation and last sending). When it was ended, replaced or sent meanwhile,
// by this process or another, it changes nothing and reports false, so that a digest is
// never sent to a space that said `digest off`, nor twice by overlapping runs.
func (db *DB) RecordDigest(ctx context.Context, sub bot.Subscription, sent time.Time, out []bot.Outgoing) (bool, error) {
	recorded := false
	err := db.write(ctx, fmt.Sprintf("record the digest of room %s", sub.RoomID), func(tx *txn) error {
		recorded = false
		var doc []byte
		err := tx.QueryRow(ctx, `SELECT doc FROM subscriptions WHERE room_id = $1 FOR UPDATE`, sub.RoomID).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var cur bot.Subscription
		if err := decode("subscription of room "+sub.RoomID, doc, &cur); err != nil {
			return err
		}
		if cur.Schedule != sub.Schedule || !cur.Created.Equal(sub.Created) || !cur.LastSent.Equal(sub.LastSent) {
			return nil
		}
		cur.LastSent = sent
		data, err := encode(cur)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE subscriptions SET doc = $2 WHERE room_id = $1`, sub.RoomID, data); err != nil {
			return err
		}
		recorded = true
		return tx.enqueue(out)
	})
	if err != nil {
		return false, err
	}
	return recorded, nil
}

// SaveTokens creates or replaces the OAuth token set called name.
func (db *DB) SaveTokens(ctx context.Context, name string, t bot.Tokens) error {
	if name == "" {
		return errors.New("save tokens: no name")
	}
	return db.putDoc(ctx, fmt.Sprintf("save tokens %s", name),
		`INSERT INTO tokens (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = EXCLUDED.doc`, name, t)
}

// Tokens returns the OAuth token set called name, or an error wrapping bot.ErrNotFound.
func (db *DB) Tokens(ctx context.Context, name string) (bot.Tokens, error) {
	var t bot.Tokens
	if err := db.getDoc(ctx, "tokens "+name, `SELECT doc FROM tokens WHERE name = $1`, name, &t); err != nil {
		return bot.Tokens{}, err
	}
	return t, nil
}

// getDoc decodes into v the JSON that sql, given key as $1, selects; bot.ErrNotFound when
// it selects no row. what names the record in errors.
func (db *DB) getDoc(ctx context.Context, what, sql, key string, v any) error {
	return db.read(ctx, what, func(q querier) error {
		var doc []byte
		err := q.QueryRow(ctx, sql, key).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return bot.ErrNotFound
		}
		if err != nil {
			return err
		}
		return decode(what, doc, v)
	})
}

// putDoc runs an upsert of v, as JSON, under key: sql takes $1 the key and $2 the JSON.
func (db *DB) putDoc(ctx context.Context, what, sql, key string, v any) error {
	data, err := encode(v)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return db.write(ctx, what, func(tx *txn) error {
		_, err := tx.Exec(ctx, sql, key, data)
		return err
	})
}
