package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// SaveSubscription creates or replaces the digest subscription of s.RoomID.
func (db *DB) SaveSubscription(ctx context.Context, s bot.Subscription) error {
	if s.RoomID == "" {
		return errors.New("save subscription: the subscription has no room id")
	}
	return db.update(ctx, fmt.Sprintf("save subscription of room %s", s.RoomID), func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSubscriptions), []byte(s.RoomID), s)
	})
}

// DeleteSubscription removes the digest subscription of a room, or returns an error wrapping
// bot.ErrNotFound if it has none.
func (db *DB) DeleteSubscription(ctx context.Context, roomID string) error {
	return db.update(ctx, fmt.Sprintf("delete subscription of room %s", roomID), func(tx *bolt.Tx) error {
		subs := tx.Bucket(bucketSubscriptions)
		key := []byte(roomID)
		if roomID == "" || subs.Get(key) == nil {
			return bot.ErrNotFound
		}
		return subs.Delete(key)
	})
}

// Subscriptions returns every digest subscription, by room id.
func (db *DB) Subscriptions(ctx context.Context) ([]bot.Subscription, error) {
	return readAll[bot.Subscription](ctx, db, bucketSubscriptions, "subscriptions", nil)
}

// RecordDigest enqueues a space's digest (see Enqueue) and sets its subscription's LastSent
// to sent, in one transaction, provided the subscription is still sub as the caller read it
// (same schedule, creation and last sending). When it was ended, replaced or sent meanwhile,
// it changes nothing and reports false, so that a digest is never sent to a space that said
// `digest off`, nor twice by overlapping runs.
func (db *DB) RecordDigest(ctx context.Context, sub bot.Subscription, sent time.Time, out []bot.Outgoing) (bool, error) {
	recorded := false
	err := db.update(ctx, fmt.Sprintf("record the digest of room %s", sub.RoomID), func(tx *bolt.Tx) error {
		recorded = false // a transaction run again starts afresh
		subs := tx.Bucket(bucketSubscriptions)
		var cur bot.Subscription
		found, err := getJSON(subs, []byte(sub.RoomID), &cur)
		switch {
		case err != nil:
			return err
		case !found || sub.RoomID == "" || cur.Schedule != sub.Schedule || !cur.Created.Equal(sub.Created) || !cur.LastSent.Equal(sub.LastSent):
			return nil
		}
		cur.LastSent = sent
		if err := putJSON(subs, []byte(cur.RoomID), cur); err != nil {
			return err
		}
		recorded = true
		return enqueue(tx, out)
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
	return db.update(ctx, fmt.Sprintf("save tokens %s", name), func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketTokens), []byte(name), t)
	})
}

// Tokens returns the OAuth token set called name, or an error wrapping bot.ErrNotFound.
func (db *DB) Tokens(ctx context.Context, name string) (bot.Tokens, error) {
	var t bot.Tokens
	err := db.view(ctx, fmt.Sprintf("tokens %s", name), func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketTokens), []byte(name), &t)
		if err == nil && !found {
			err = bot.ErrNotFound
		}
		return err
	})
	if err != nil {
		return bot.Tokens{}, err
	}
	return t, nil
}
