package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"attachbot/bot"
)

// CreateRequest saves a new request and enqueues out (see Enqueue) in one transaction. It
// returns an error wrapping bot.ErrExists, and changes nothing, when the id is taken.
func (db *DB) CreateRequest(ctx context.Context, r bot.Request, out []bot.Outgoing) error {
	if r.ID == "" {
		return errors.New("create request: the request has no id")
	}
	data, err := encode(r)
	if err != nil {
		return fmt.Errorf("create request %s: %w", r.ID, err)
	}
	return db.write(ctx, fmt.Sprintf("create request %s", r.ID), func(tx *txn) error {
		tag, err := tx.Exec(ctx, `INSERT INTO requests (id, state, room_id, created, next_poll, doc) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO NOTHING`, r.ID, string(r.State), r.RoomID, r.Created, nullTime(r.NextPoll), data)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return bot.ErrExists
		}
		return tx.enqueue(out)
	})
}

// Request returns the request with id, or an error wrapping bot.ErrNotFound.
func (db *DB) Request(ctx context.Context, id string) (bot.Request, error) {
	var r bot.Request
	if err := db.getDoc(ctx, "request "+id, `SELECT doc FROM requests WHERE id = $1`, id, &r); err != nil {
		return bot.Request{}, err
	}
	return r, nil
}

// UpdateRequest reads the request with id, locking its row, lets fn change it, and saves it
// with the messages fn returns (see Enqueue), in one transaction, and returns it as saved.
// An error from fn changes nothing and is returned as is. fn runs while the row is locked,
// so it must be quick and do no I/O; it must not change the request's ID. Two replicas
// updating one request take turns: the second reads what the first saved.
func (db *DB) UpdateRequest(ctx context.Context, id string, fn func(r *bot.Request) ([]bot.Outgoing, error)) (bot.Request, error) {
	var (
		saved bot.Request
		fnErr error
	)
	err := db.write(ctx, fmt.Sprintf("update request %s", id), func(tx *txn) error {
		fnErr = nil
		reqs, err := lockRequests(ctx, tx, []string{id})
		if err != nil {
			return err
		}
		r, ok := reqs[id]
		if !ok {
			return bot.ErrNotFound
		}
		if err := updateLocked(ctx, tx, id, &r, func(r *bot.Request) ([]bot.Outgoing, error) {
			out, err := fn(r)
			fnErr = err
			return out, err
		}); err != nil {
			return err
		}
		saved = r
		return nil
	})
	if fnErr != nil {
		return bot.Request{}, fnErr
	}
	if err != nil {
		return bot.Request{}, err
	}
	return saved, nil
}

// UpdateRequests is UpdateRequest for many requests in one transaction: fn is called for each
// id, in order, with the request as stored, and each request is saved with the messages fn
// returns. A request that does not exist, or that fn returns an error for, is left as it was
// while the others are saved; those errors are returned joined, each naming its request. A
// failure to write saves nothing. The rows are locked in one statement, in id order, so that
// two replicas updating overlapping sets cannot deadlock.
func (db *DB) UpdateRequests(ctx context.Context, ids []string, fn func(id string, r *bot.Request) ([]bot.Outgoing, error)) error {
	if len(ids) == 0 {
		return nil
	}
	var skipped []error
	err := db.write(ctx, fmt.Sprintf("update %d requests", len(ids)), func(tx *txn) error {
		var err error
		skipped, err = updateRequestsTx(ctx, tx, ids, fn)
		return err
	})
	if err != nil {
		return err
	}
	return errors.Join(skipped...)
}

// updateRequestsTx is UpdateRequests within tx: it returns the errors of the requests it
// skipped, and a failure to write, after which tx must be rolled back.
func updateRequestsTx(ctx context.Context, tx *txn, ids []string, fn func(id string, r *bot.Request) ([]bot.Outgoing, error)) ([]error, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	reqs, err := lockRequests(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	var skipped []error
	for _, id := range ids {
		r, ok := reqs[id]
		if !ok {
			skipped = append(skipped, fmt.Errorf("update request %s: %w", id, bot.ErrNotFound))
			continue
		}
		var fnErr error
		err := updateLocked(ctx, tx, id, &r, func(r *bot.Request) ([]bot.Outgoing, error) {
			out, err := fn(id, r)
			fnErr = err
			return out, err
		})
		switch {
		case fnErr != nil || errors.Is(err, errIDChanged):
			skipped = append(skipped, fmt.Errorf("update request %s: %w", id, err))
		case err != nil:
			return nil, fmt.Errorf("update request %s: %w", id, err)
		default:
			reqs[id] = r
		}
	}
	return skipped, nil
}

// errIDChanged is updateLocked's refusal of an fn that changed the request's id.
var errIDChanged = errors.New("the update changed the request's id")

// lockRequests reads and locks the rows of ids, in id order, and returns the requests found.
func lockRequests(ctx context.Context, tx *txn, ids []string) (map[string]bot.Request, error) {
	sorted := slices.Compact(slices.Sorted(slices.Values(ids)))
	rows, err := tx.Query(ctx, `SELECT id, doc FROM requests WHERE id = ANY($1) ORDER BY id FOR UPDATE`, sorted)
	if err != nil {
		return nil, err
	}
	reqs := map[string]bot.Request{}
	var (
		id  string
		doc []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &doc}, func() error {
		var r bot.Request
		if err := decode("request "+id, doc, &r); err != nil {
			return err
		}
		reqs[id] = r
		return nil
	})
	return reqs, err
}

// updateLocked lets fn change r, the locked request id, and saves it with the messages fn
// returns; fn's error is returned as is, and nothing is saved then.
func updateLocked(ctx context.Context, tx *txn, id string, r *bot.Request, fn func(r *bot.Request) ([]bot.Outgoing, error)) error {
	changed := *r
	out, err := fn(&changed)
	if err != nil {
		return err
	}
	if changed.ID != id {
		return fmt.Errorf("%w to %q", errIDChanged, changed.ID)
	}
	for _, o := range out {
		if o.Key == "" {
			return errors.New("a message has no key")
		}
	}
	data, err := encode(changed)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE requests SET state = $2, room_id = $3, created = $4, next_poll = $5, doc = $6 WHERE id = $1`,
		id, string(changed.State), changed.RoomID, changed.Created, nullTime(changed.NextPoll), data)
	if err != nil {
		return err
	}
	*r = changed
	return tx.enqueue(out)
}

// Requests returns the requests f selects, newest first: by Created, then by ID, both
// descending. A Limit of zero or less means no limit.
func (db *DB) Requests(ctx context.Context, f bot.RequestFilter) ([]bot.Request, error) {
	states := make([]string, 0, len(f.States))
	for _, s := range f.States {
		states = append(states, string(s))
	}
	return selectAll(ctx, db, "list requests", collectRequests, `SELECT id, doc FROM requests
		WHERE ($1 = '' OR room_id = $1) AND (cardinality($2::text[]) = 0 OR state = ANY($2))
		ORDER BY created DESC, id DESC LIMIT $3`, f.RoomID, states, limitOrNull(f.Limit))
}

// collectRequests reads rows of id and doc as requests.
var collectRequests = collectKeyed[bot.Request]("request")
