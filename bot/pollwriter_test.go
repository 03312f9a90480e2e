package bot_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/store"
)

// writerHeldStore is the real store whose first FinishPolls waits at a gate: the writer of
// the poll answers is held in its first commit.
type writerHeldStore struct {
	*store.DB
	entered chan struct{} // closed when the first FinishPolls waits at the gate
	gate    chan struct{} // closed to let it through
	calls   atomic.Int64
}

func (s *writerHeldStore) FinishPolls(ctx context.Context, ids []string, owner string, fn func(id string, r *bot.Request) ([]bot.Outgoing, error)) error {
	if s.calls.Add(1) == 1 {
		close(s.entered)
		<-s.gate
	}
	return s.DB.FinishPolls(ctx, ids, owner, fn)
}

// countingPartner is the fake Partner that closes polled once it answered n status polls.
type countingPartner struct {
	*bottest.Partner
	n      int64
	polls  atomic.Int64
	polled chan struct{}
}

func (p *countingPartner) Customer(ctx context.Context, id string) (bot.Customer, error) {
	if p.polls.Add(1) == p.n {
		close(p.polled)
	}
	return p.Partner.Customer(ctx, id)
}

// TestPollersGoOnWhileTheWriterCommits: while the writer of the poll answers is held in a
// commit, the polls of a run go on, up to a batch of answers waiting for it; every answer is
// recorded once the commit ends.
func TestPollersGoOnWhileTheWriterCommits(t *testing.T) {
	const n = 200 // more than the pollers and a small buffer, at most a batch
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clock := bottest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false)
	db := &writerHeldStore{DB: bottest.NewStore(t), entered: make(chan struct{}), gate: make(chan struct{})}
	partner := &countingPartner{Partner: bottest.NewPartner(nil), n: n, polled: make(chan struct{})}
	now := clock.Now()
	createRequests(ctx, t, db, provisioningRequests(ctx, t, partner, now, now, n))
	b := startSweepingBot(ctx, t, db, partner, clock)
	sweepHeld(ctx, t, b, db.gate, func() string { return fmt.Sprintf("; %d of %d polled", partner.polls.Load(), n) },
		awaited{"the writer to start its first commit", db.entered}, awaited{"every request to be polled while it commits", partner.polled})
	checkEveryAnswerRecorded(ctx, t, db, now, n)
}

// startBot starts b, and stops it when the test ends.
func startBot(ctx context.Context, t *testing.T, b *bot.Bot) {
	t.Helper()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
}
