package bot

import (
	"context"
	"fmt"
	"time"
)

// DuePolls counts the requests whose status poll is due now, and returns when the most
// overdue of them came due (zero when none is due). It counts them in the store's index of
// the polls, for metrics, without reading the requests.
func (b *Bot) DuePolls(ctx context.Context) (int, time.Time, error) {
	n, oldest, err := b.db.DuePolls(ctx, b.clock.Now())
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count the due polls: %w", err)
	}
	return n, oldest, nil
}
