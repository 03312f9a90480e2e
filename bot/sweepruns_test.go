package bot_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/cards"
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
			Submitted: now, NextPoll: now.Add(-time.Second), PollInterval: 5 * time.Second,
		}
	}
	// The first claimed hangs; the last, due latest, is the next run's.
	rs[0].NextPoll, rs[n-1].NextPoll = now.Add(-2*time.Second), now
	partner.held, partner.watched = rs[0].CustomerID, rs[n-1].CustomerID
	for _, r := range rs {
		if err := db.CreateRequest(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	msgr := bottest.NewMessenger(bot.Person{ID: "bot-1", Emails: []string{"attachbot@webex.bot"}, DisplayName: "attachbot"})
	b, err := bot.New(bot.Config{PollInSweepOnly: true},
		bot.Deps{Messenger: msgr, Partner: partner, Store: db, Cards: cards.New(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	startBot(ctx, t, b)

	swept := make(chan error, 1)
	go func() { swept <- b.Sweep(ctx) }()
	for _, wait := range []struct {
		what string
		ch   chan struct{}
	}{{"the first poll to hang", partner.entered}, {"the next run's poll while it hangs", partner.polled}} {
		select {
		case <-wait.ch:
		case <-ctx.Done():
			close(partner.gate)
			t.Fatalf("waiting for %s: %v", wait.what, ctx.Err())
		}
	}
	close(partner.gate)
	if err := <-swept; err != nil {
		t.Fatalf("sweep: %v", err)
	}
	got, err := db.Requests(ctx, bot.RequestFilter{States: []bot.State{bot.StateProvisioning}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if !r.NextPoll.After(now) {
			t.Errorf("request %s: next poll %s, want after %s (the answer recorded)", r.ID, r.NextPoll, now)
		}
	}
	if len(got) != n {
		t.Errorf("%d requests in provisioning, want %d", len(got), n)
	}
}
