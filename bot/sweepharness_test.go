package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/cards"
)

// provisioningRequests provisions n customers with partner and returns a request in
// provisioning for each, due for a poll at next; the caller stores them.
func provisioningRequests(ctx context.Context, t *testing.T, partner bot.Partner, now, next time.Time, n int) []bot.Request {
	t.Helper()
	rs := make([]bot.Request, n)
	for i := range rs {
		p, err := partner.Provision(ctx, bot.CustomerRequest{OrgID: "org-1", ExternalID: fmt.Sprintf("ext-%04d", i), Packages: []string{"webex_meetings"}})
		if err != nil {
			t.Fatal(err)
		}
		rs[i] = bot.Request{
			ID: fmt.Sprintf("P%04d", i), Source: "test", Created: now, Updated: now,
			State: bot.StateProvisioning, RoomID: "room-1", Spec: bot.AttachSpec{OrgID: "org-1", Packages: []string{"webex_meetings"}},
			CustomerID: p.CustomerID, WebexStatus: string(bot.StateProvisioning),
			Submitted: now, NextPoll: next, PollInterval: 5 * time.Second,
		}
	}
	return rs
}

// createRequests stores rs in db.
func createRequests(ctx context.Context, t *testing.T, db bot.Store, rs []bot.Request) {
	t.Helper()
	for _, r := range rs {
		if err := db.CreateRequest(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// startSweepingBot starts a bot on db, partner and clock that polls in its sweeps only, and
// stops it when the test ends.
func startSweepingBot(ctx context.Context, t *testing.T, db bot.Store, partner bot.Partner, clock *bottest.Clock) *bot.Bot {
	t.Helper()
	msgr := bottest.NewMessenger(bot.Person{ID: "bot-1", Emails: []string{"attachbot@webex.bot"}, DisplayName: "attachbot"})
	b, err := bot.New(bot.Config{PollInSweepOnly: true},
		bot.Deps{Messenger: msgr, Partner: partner, Store: db, Cards: cards.New(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	startBot(ctx, t, b)
	return b
}

// awaited is something a test waits for: what it is, and the channel closed when it happens.
type awaited struct {
	what string
	ch   chan struct{}
}

// sweepHeld runs a sweep of b while something holds part of it back at gate: it waits for
// each of waits in turn, then opens gate and waits for the sweep to end. state, when a wait
// fails, says how far the sweep got.
func sweepHeld(ctx context.Context, t *testing.T, b *bot.Bot, gate chan struct{}, state func() string, waits ...awaited) {
	t.Helper()
	swept := make(chan error, 1)
	go func() { swept <- b.Sweep(ctx) }()
	for _, wait := range waits {
		select {
		case <-wait.ch:
		case <-ctx.Done():
			close(gate)
			t.Fatalf("waiting for %s: %v%s", wait.what, ctx.Err(), state())
		}
	}
	close(gate)
	if err := <-swept; err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

// checkEveryAnswerRecorded checks that db holds n requests in provisioning, each with its
// next poll after now: the sweep recorded every answer.
func checkEveryAnswerRecorded(ctx context.Context, t *testing.T, db bot.Store, now time.Time, n int) {
	t.Helper()
	rs, err := db.Requests(ctx, bot.RequestFilter{States: []bot.State{bot.StateProvisioning}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if !r.NextPoll.After(now) {
			t.Errorf("request %s: next poll %s, want after %s (the answer recorded)", r.ID, r.NextPoll, now)
		}
	}
	if len(rs) != n {
		t.Errorf("%d requests in provisioning, want %d", len(rs), n)
	}
}
