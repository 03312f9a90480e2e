package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/bot/bottest"
)

// holdingPartner is the fake Partner whose status call of one customer waits at a gate, and
// that closes polled when it answered the status of another.
type holdingPartner struct {
	*bottest.Partner
	held, watched   string
	entered, polled chan struct{}
	gate            chan struct{}
	once            sync.Once
}

func (p *holdingPartner) Customer(ctx context.Context, id string) (bot.Customer, error) {
	switch id {
	case p.held:
		p.once.Do(func() { close(p.entered) })
		select {
		case <-p.gate:
		case <-ctx.Done():
			return bot.Customer{}, ctx.Err()
		}
	case p.watched:
		defer close(p.polled)
	}
	return p.Partner.Customer(ctx, id)
}

// TestSweepRunsDoNotWaitForASlowPoll: a sweep over more due polls than a run claims claims
// its next run once the run before handed out its last poll, so a poll of the first run that
// hangs does not hold up the polls of the next; the sweep ends once every answer is recorded.
func TestSweepRunsDoNotWaitForASlowPoll(t *testing.T) {
	const n = bot.PollClaimMax + 1
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clock := bottest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false)
	db := bottest.NewStore(t)
	partner := &holdingPartner{Partner: bottest.NewPartner(nil), entered: make(chan struct{}), polled: make(chan struct{}), gate: make(chan struct{})}
	now := clock.Now()
	rs := provisioningRequests(ctx, t, partner, now, now.Add(-time.Second), n)
	// The first claimed hangs; the last, due latest, is the next run's.
	rs[0].NextPoll, rs[n-1].NextPoll = now.Add(-2*time.Second), now
	partner.held, partner.watched = rs[0].CustomerID, rs[n-1].CustomerID
	createRequests(ctx, t, db, rs)
	b := startSweepingBot(ctx, t, db, partner, clock)
	sweepHeld(ctx, t, b, partner.gate, func() string { return "" },
		awaited{"the first poll to hang", partner.entered}, awaited{"the next run's poll while it hangs", partner.polled})
	checkEveryAnswerRecorded(ctx, t, db, now, n)
}
