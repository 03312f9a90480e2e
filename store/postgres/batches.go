package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"attachbot/bot"
)

// CreateBatch saves a new batch, its rows and out (see Enqueue) in one transaction. It
// returns an error wrapping bot.ErrExists, and changes nothing, when the id is taken.
func (db *DB) CreateBatch(ctx context.Context, b bot.Batch, rows []bot.BulkRow, out []bot.Outgoing) error {
	if b.ID == "" {
		return errors.New("create batch: the batch has no id")
	}
	if rows == nil {
		rows = []bot.BulkRow{}
	}
	data, err := encode(b)
	if err != nil {
		return fmt.Errorf("create batch %s: %w", b.ID, err)
	}
	rowsData, err := encode(rows)
	if err != nil {
		return fmt.Errorf("create batch %s: %w", b.ID, err)
	}
	return db.write(ctx, fmt.Sprintf("create batch %s", b.ID), func(tx *txn) error {
		tag, err := tx.Exec(ctx, `INSERT INTO batches (id, state, created, doc) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, b.ID, string(b.State), b.Created, data)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return bot.ErrExists
		}
		if _, err := tx.Exec(ctx, `INSERT INTO batch_rows (batch_id, doc) VALUES ($1, $2)`, b.ID, rowsData); err != nil {
			return err
		}
		return tx.enqueue(out)
	})
}

// Batch returns the batch with id, or an error wrapping bot.ErrNotFound.
func (db *DB) Batch(ctx context.Context, id string) (bot.Batch, error) {
	var b bot.Batch
	if err := db.getDoc(ctx, "batch "+id, `SELECT doc FROM batches WHERE id = $1`, id, &b); err != nil {
		return bot.Batch{}, err
	}
	return b, nil
}

// BatchRows returns the rows of the batch with id, in the file's order, or an error wrapping
// bot.ErrNotFound.
func (db *DB) BatchRows(ctx context.Context, id string) ([]bot.BulkRow, error) {
	var rows []bot.BulkRow
	if err := db.getDoc(ctx, "rows of batch "+id, `SELECT doc FROM batch_rows WHERE batch_id = $1`, id, &rows); err != nil {
		return nil, err
	}
	return rows, nil
}

// UpdateBatch reads the batch with id, locking its row, lets fn change it, and saves it with
// the messages fn returns (see Enqueue), in one transaction, and returns it as saved. An
// error from fn changes nothing and is returned as is; fn obeys the rules of
// UpdateRequest's fn.
func (db *DB) UpdateBatch(ctx context.Context, id string, fn func(b *bot.Batch) ([]bot.Outgoing, error)) (bot.Batch, error) {
	var (
		b     bot.Batch
		fnErr error
	)
	err := db.write(ctx, fmt.Sprintf("update batch %s", id), func(tx *txn) error {
		fnErr = nil
		var doc []byte
		err := tx.QueryRow(ctx, `SELECT doc FROM batches WHERE id = $1 FOR UPDATE`, id).Scan(&doc)
		if errors.Is(err, pgx.ErrNoRows) {
			return bot.ErrNotFound
		}
		if err != nil {
			return err
		}
		b = bot.Batch{}
		if err := decode("batch "+id, doc, &b); err != nil {
			return err
		}
		out, err := fn(&b)
		if err != nil {
			fnErr = err
			return err
		}
		if b.ID != id {
			return fmt.Errorf("the update changed the batch's id to %q", b.ID)
		}
		data, err := encode(b)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE batches SET state = $2, created = $3, doc = $4 WHERE id = $1`,
			id, string(b.State), b.Created, data); err != nil {
			return err
		}
		return tx.enqueue(out)
	})
	if fnErr != nil {
		return bot.Batch{}, fnErr
	}
	if err != nil {
		return bot.Batch{}, err
	}
	return b, nil
}

// Batches returns the batches in one of states (nil: every batch), oldest first: by Created,
// then by ID.
func (db *DB) Batches(ctx context.Context, states []bot.BatchState) ([]bot.Batch, error) {
	names := []string{}
	for _, s := range states {
		names = append(names, string(s))
	}
	var all []bot.Batch
	err := db.read(ctx, "read batches", func(q querier) error {
		rows, err := q.Query(ctx, `SELECT id, doc FROM batches WHERE $1 OR state = ANY($2) ORDER BY created, id`,
			states == nil, names)
		if err != nil {
			return err
		}
		all, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (bot.Batch, error) {
			var (
				b   bot.Batch
				id  string
				doc []byte
			)
			if err := row.Scan(&id, &doc); err != nil {
				return b, err
			}
			return b, decode("batch "+id, doc, &b)
		})
		return err
	})
	return all, err
}
