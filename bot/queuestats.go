package bot

import (
	"context"
	"fmt"
	"time"
)

// DuePolls counts the requests whose status poll is due now, and returns when the most
// overdue of them came due (zero when none is due). It reads the requests in flight from the
// store, for metrics.
func (b *Bot) DuePolls(ctx context.Context) (int, time.Time, error) {
	polled, err := b.db.Requests(ctx, RequestFilter{States: PolledStates()})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("list requests in flight: %w", err)
	}
	now := b.clock.Now()
	n, oldest := 0, time.Time{}
	for _, r := range polled {
		if r.NextPoll.After(now) { // a zero NextPoll is due at once, as the poll loop takes it
			continue
		}
		n++
		if oldest.IsZero() || r.NextPoll.Before(oldest) {
			oldest = r.NextPoll
		}
	}
	return n, oldest, nil
}
