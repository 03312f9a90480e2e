package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/pressly/goose/v3"

	"attachbot/bot"
)

// fillEventLanes is migration 3: the events waiting in the inbox when migration 2 added the
// lane column get their lane, computed by bot.Event.Lane from their doc, so that the lane
// has one definition. It has nothing to undo: migration 2's down drops the column.
var fillEventLanes = goose.NewGoMigration(3,
	&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT key, doc FROM events WHERE processed_at IS NULL AND lane IS NULL`)
		if err != nil {
			return fmt.Errorf("read the waiting events: %w", err)
		}
		lanes := map[string]string{}
		for rows.Next() {
			var key string
			var doc []byte
			if err := rows.Scan(&key, &doc); err != nil {
				_ = rows.Close()
				return fmt.Errorf("read the waiting events: %w", err)
			}
			var ev bot.Event
			if err := json.Unmarshal(doc, &ev); err != nil {
				_ = rows.Close()
				return fmt.Errorf("event %s: %w", key, err)
			}
			ev.Key = key
			lanes[key] = ev.Lane()
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("read the waiting events: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read the waiting events: %w", err)
		}
		for key, lane := range lanes {
			if _, err := tx.ExecContext(ctx, `UPDATE events SET lane = $2 WHERE key = $1`, key, lane); err != nil {
				return fmt.Errorf("event %s: %w", key, err)
			}
		}
		return nil
	}},
	nil)
