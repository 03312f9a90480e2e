package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// CreateBatch saves a new batch, its rows and out (see Enqueue) in one transaction. It returns
// an error wrapping bot.ErrExists, and changes nothing, when the id is taken.
func (db *DB) CreateBatch(ctx context.Context, b bot.Batch, rows []bot.BulkRow, out []bot.Outgoing) error {
	if b.ID == "" {
		return errors.New("create batch: the batch has no id")
	}
	return db.update(ctx, fmt.Sprintf("create batch %s", b.ID), func(tx *bolt.Tx) error {
		id := []byte(b.ID)
		batches := tx.Bucket(bucketBatches)
		if batches.Get(id) != nil {
			return bot.ErrExists
		}
		if err := putJSON(batches, id, b); err != nil {
			return err
		}
		if rows == nil {
			rows = []bot.BulkRow{}
		}
		if err := putJSON(tx.Bucket(bucketBatchRows), id, rows); err != nil {
			return err
		}
		return enqueue(tx, out)
	})
}

// Batch returns the batch with id, or an error wrapping bot.ErrNotFound.
func (db *DB) Batch(ctx context.Context, id string) (bot.Batch, error) {
	var b bot.Batch
	err := db.view(ctx, fmt.Sprintf("batch %s", id), func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketBatches), []byte(id), &b)
		if err == nil && !found {
			err = bot.ErrNotFound
		}
		return err
	})
	if err != nil {
		return bot.Batch{}, err
	}
	return b, nil
}

// BatchRows returns the rows of the batch with id, or an error wrapping bot.ErrNotFound.
func (db *DB) BatchRows(ctx context.Context, id string) ([]bot.BulkRow, error) {
	var rows []bot.BulkRow
	err := db.view(ctx, fmt.Sprintf("rows of batch %s", id), func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketBatchRows), []byte(id), &rows)
		if err == nil && !found {
			err = bot.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// UpdateBatch reads the batch with id, lets fn change it, and saves it with the messages fn
// returns (see Enqueue), in one transaction, and returns it as saved. An error from fn
// changes nothing and is returned as is; fn obeys the rules of UpdateRequest's fn.
func (db *DB) UpdateBatch(ctx context.Context, id string, fn func(b *bot.Batch) ([]bot.Outgoing, error)) (bot.Batch, error) {
	var (
		b     bot.Batch
		fnErr error
	)
	err := db.update(ctx, fmt.Sprintf("update batch %s", id), func(tx *bolt.Tx) error {
		b, fnErr = bot.Batch{}, nil // a transaction run again starts afresh
		batches := tx.Bucket(bucketBatches)
		found, err := getJSON(batches, []byte(id), &b)
		switch {
		case err != nil:
			return err
		case !found:
			return bot.ErrNotFound
		}
		out, err := fn(&b)
		if err != nil {
			fnErr = err
			return err
		}
		if b.ID != id {
			return fmt.Errorf("the update changed the batch's id to %q", b.ID)
		}
		if err := putJSON(batches, []byte(id), b); err != nil {
			return err
		}
		return enqueue(tx, out)
	})
	if fnErr != nil {
		return bot.Batch{}, fnErr
	}
	if err != nil {
		return bot.Batch{}, err
	}
	return b, nil
}

// Batches returns the batches in one of states (nil: every batch), oldest first. Batches are
// few (one per file a partner attaches), so it reads them all.
func (db *DB) Batches(ctx context.Context, states []bot.BatchState) ([]bot.Batch, error) {
	all, err := readAll[bot.Batch](ctx, db, bucketBatches, "batches", nil)
	if err != nil {
		return nil, err
	}
	if states != nil {
		all = slices.DeleteFunc(all, func(b bot.Batch) bool { return !slices.Contains(states, b.State) })
	}
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].Created.Equal(all[j].Created) {
			return all[i].Created.Before(all[j].Created)
		}
		return all[i].ID < all[j].ID
	})
	return all, nil
}
