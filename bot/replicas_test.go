package bot_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/cards"
	"attachbot/store"
)

// replicas are bots sharing one store, one Webex and one clock, as replicas of attachbot
// share one database: each with an owner of its own.
type replicas struct {
	db    *store.DB
	msgr  *bottest.Messenger
	clock *bottest.Clock
	bots  []*bot.Bot
}

// newReplicas returns n bots on one store. Their loops do not run until started.
func newReplicas(t *testing.T, n int) *replicas {
	t.Helper()
	r := &replicas{
		db:    bottest.NewStore(t),
		msgr:  bottest.NewMessenger(bot.Person{ID: "bot-1", Emails: []string{"attachbot@webex.bot"}, DisplayName: "attachbot"}),
		clock: bottest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false),
	}
	for i := range n {
		b, err := bot.New(bot.Config{PollInSweepOnly: true, Owner: fmt.Sprintf("replica-%d", i), SendConcurrency: 4},
			bot.Deps{Messenger: r.msgr, Partner: bottest.NewPartner(nil), Store: r.db, Cards: cards.New(), Clock: r.clock})
		if err != nil {
			t.Fatal(err)
		}
		r.bots = append(r.bots, b)
	}
	return r
}

// start starts every bot's loops, and stops them when the test ends.
func (r *replicas) start(t *testing.T) {
	t.Helper()
	for _, b := range r.bots {
		if err := b.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := b.Stop(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
}

// settle waits until the store's inbox and outbox are empty and every bot has settled.
func (r *replicas) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		for _, b := range r.bots {
			if err := b.Settle(ctx); err != nil {
				out, _ := r.db.Outbox(context.Background())
				t.Fatalf("Settle = %v; queues %+v; store outbox %d", err, b.QueueStats(), len(out))
			}
		}
		out, err := r.db.Outbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := r.db.Events(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) == 0 && len(evs) == 0 {
			return
		}
	}
}

// TestReplicasSendEachMessageOnceInOrder starts two bots that both load an outbox of five
// spaces' messages: the lanes' claims let one of them send each message, once, and each
// space gets its messages in order.
func TestReplicasSendEachMessageOnceInOrder(t *testing.T) {
	r := newReplicas(t, 2)
	var out []bot.Outgoing
	want := map[string][]string{}
	for i := range 40 {
		room := fmt.Sprintf("room-%d", i%5)
		text := fmt.Sprintf("message %02d", i)
		out = append(out, bot.Outgoing{Key: "m" + text, Created: r.clock.Now(), Message: bot.OutMessage{RoomID: room, Markdown: text}})
		want[room] = append(want[room], text)
	}
	if err := r.db.Enqueue(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	r.settle(t)
	got := map[string][]string{}
	for _, m := range r.msgr.Sent() {
		got[m.RoomID] = append(got[m.RoomID], m.Markdown)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("messages per space (-want +got):\n%s", d)
	}
}

// TestReplicasProcessEachEventOnce starts two bots that both load an inbox of four spaces'
// commands: the events' claims let one of them process each, once, and each is answered once.
func TestReplicasProcessEachEventOnce(t *testing.T) {
	r := newReplicas(t, 2)
	var evs []bot.Event
	for i := range 24 {
		room := fmt.Sprintf("room-%d", i%4)
		id := fmt.Sprintf("msg-%02d", i)
		r.msgr.AddMessage(bot.Message{ID: id, RoomID: room, RoomType: "group", PersonID: "person-1", PersonEmail: "someone@else.example",
			Text: "attachbot help", Created: r.clock.Now()})
		evs = append(evs, bot.Event{Key: "messages/created/" + id, Resource: "messages", Event: "created", DataID: id, RoomID: room,
			Created: r.clock.Now(), Received: r.clock.Now()})
	}
	if _, err := r.db.AddEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	r.settle(t)
	got := map[string]int{}
	for _, m := range r.msgr.Sent() {
		got[m.RoomID]++
	}
	if d := cmp.Diff(map[string]int{"room-0": 6, "room-1": 6, "room-2": 6, "room-3": 6}, got); d != "" {
		t.Errorf("answers per space (-want +got):\n%s", d)
	}
}

// TestReplicasLeadOneAtATime: the jobs that must run once (here, keeping the webhooks) run on
// the replica holding the leader's lease; another takes over once it ran out unrenewed (the
// leader died), and the old leader then leaves the work to it.
func TestReplicasLeadOneAtATime(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t, 2)
	a, b := r.bots[0], r.bots[1]
	if err := a.Sweep(ctx); err != nil { // a takes the leader's lease
		t.Fatal(err)
	}
	changed, err := b.EnsureWebhooks(ctx, "https://bot.example/webhook", "s3cret")
	if err != nil || len(changed) != 0 {
		t.Errorf("b, not the leader, ensures the webhooks: %v, %v; want nothing done", changed, err)
	}
	if hooks, _ := r.msgr.Webhooks(ctx); len(hooks) != 0 {
		t.Errorf("webhooks after b's attempt = %d, want 0", len(hooks))
	}
	r.clock.Advance(time.Minute) // a's lease runs out: its renewals stopped with it
	changed, err = b.EnsureWebhooks(ctx, "https://bot.example/webhook", "s3cret")
	if err != nil || len(changed) != 2 {
		t.Errorf("b, once a's lease ran out, ensures the webhooks: %v, %v; want 2 created", changed, err)
	}
	changed, err = a.EnsureWebhooks(ctx, "https://other.example/webhook", "s3cret")
	if err != nil || len(changed) != 0 {
		t.Errorf("a, no longer the leader, ensures the webhooks: %v, %v; want nothing done", changed, err)
	}
}

// TestLockWaitsForAnotherReplica: a per-organization lock held by one replica holds the
// other back until it is freed.
func TestLockWaitsForAnotherReplica(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t, 2)
	_, unlockA, err := r.bots[0].Lock(ctx, "org/o1")
	if err != nil {
		t.Fatal(err)
	}
	taken := make(chan error, 1)
	go func() {
		_, unlockB, err := r.bots[1].Lock(ctx, "org/o1")
		if err == nil {
			unlockB()
		}
		taken <- err
	}()
	<-r.clock.Started() // b waits before it asks again
	select {
	case err := <-taken:
		t.Fatalf("b took the lock a holds: %v", err)
	default:
	}
	unlockA()
	r.clock.Advance(time.Second)
	if err := <-taken; err != nil {
		t.Errorf("b takes the lock once a freed it: %v", err)
	}
}

// TestLostLeaseStopsItsWork: a replica whose claim on a lane ran out and was taken by
// another has the work on it stopped at its next renewal, with ErrLeaseLost; its other
// claims are renewed.
func TestLostLeaseStopsItsWork(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t, 1)
	a := r.bots[0]
	msg := func(room string) bot.Outgoing {
		return bot.Outgoing{Key: room + "#1", Created: r.clock.Now(), Message: bot.OutMessage{RoomID: room, Markdown: "hi"}}
	}
	if err := r.db.Enqueue(ctx, []bot.Outgoing{msg("room-1"), msg("room-2")}); err != nil {
		t.Fatal(err)
	}
	lost, kept := msg("room-1").Lane(), msg("room-2").Lane()
	now := r.clock.Now()
	if heads, err := r.db.ClaimLanes(ctx, []string{lost, kept}, "replica-0", now, now.Add(time.Minute)); err != nil || len(heads) != 2 {
		t.Fatalf("a claims = %d heads, %v; want 2", len(heads), err)
	}
	lostCtx, forgetLost := a.HoldLane(ctx, lost)
	defer forgetLost()
	keptCtx, forgetKept := a.HoldLane(ctx, kept)
	defer forgetKept()
	r.clock.Advance(2 * time.Minute)
	now = r.clock.Now()
	if heads, err := r.db.ClaimLanes(ctx, []string{lost}, "replica-9", now, now.Add(time.Minute)); err != nil || len(heads) != 1 {
		t.Fatalf("another replica claims once a's lease ran out = %d heads, %v; want 1", len(heads), err)
	}
	a.RenewLeases(ctx)
	if err := context.Cause(lostCtx); !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("the work on the lost lane: %v, want stopped with ErrLeaseLost", err)
	}
	if err := keptCtx.Err(); err != nil {
		t.Errorf("the work on the kept lane: %v, want it going on", err)
	}
	if heads, err := r.db.ClaimLanes(ctx, []string{kept}, "replica-9", now, now.Add(time.Minute)); err != nil || len(heads) != 0 {
		t.Errorf("another replica claims the renewed lane = %d heads, %v; want none", len(heads), err)
	}
}

// TestLostEventCommitsNothing: a replica whose claim on an event ran out and was taken over
// while it worked (before its renewal noticed) does the work but commits none of its effects:
// the store refuses its completion, the event stays with the replica holding it, and that
// replica's answer is the only one enqueued.
func TestLostEventCommitsNothing(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t, 2)
	a, b := r.bots[0], r.bots[1]
	r.msgr.AddMessage(bot.Message{ID: "msg-1", RoomID: "room-1", RoomType: "group", PersonID: "person-1",
		PersonEmail: "someone@else.example", Text: "attachbot help", Created: r.clock.Now()})
	ev := bot.Event{Key: "messages/created/msg-1", Resource: "messages", Event: "created", DataID: "msg-1", RoomID: "room-1",
		Created: r.clock.Now(), Received: r.clock.Now()}
	if _, err := r.db.AddEvents(ctx, []bot.Event{ev}); err != nil {
		t.Fatal(err)
	}
	now := r.clock.Now()
	if got, err := r.db.ClaimEvents(ctx, []string{ev.Key}, "replica-0", now, now.Add(time.Minute)); err != nil || len(got) != 1 {
		t.Fatalf("replica-0 claims = %d events, %v; want 1", len(got), err)
	}
	r.clock.Advance(2 * time.Minute)
	now = r.clock.Now()
	if got, err := r.db.ClaimEvents(ctx, []string{ev.Key}, "replica-1", now, now.Add(time.Minute)); err != nil || len(got) != 1 {
		t.Fatalf("replica-1 claims once replica-0's lease ran out = %d events, %v; want 1", len(got), err)
	}
	if !a.Handle(ctx, ev) {
		t.Error("replica-0 keeps the event it lost in its inbox")
	}
	out, err := r.db.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 0 {
		t.Errorf("replica-0's completion of a lost event enqueued %d messages, want none", len(out))
	}
	if !b.Handle(ctx, ev) {
		t.Error("replica-1 did not finish the event it holds")
	}
	if out, err = r.db.Outbox(ctx); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Errorf("answers enqueued = %d, want 1 (replica-1's)", len(out))
	}
	if evs, err := r.db.Events(ctx); err != nil || len(evs) != 0 {
		t.Errorf("inbox at the end = %d events, %v; want none", len(evs), err)
	}
}

// renewHookStore is a store whose RenewLanes calls onLost once, after the store found a
// single lane's claim lost: the moment between the renewal's verdict and its action.
type renewHookStore struct {
	*store.DB
	onLost func()
}

func (s *renewHookStore) RenewLanes(ctx context.Context, lanes []string, owner string, until time.Time) error {
	err := s.DB.RenewLanes(ctx, lanes, owner, until)
	if errors.Is(err, bot.ErrLeaseLost) && len(lanes) == 1 && s.onLost != nil {
		s.onLost()
		s.onLost = nil
	}
	return err
}

// TestRenewalSparesTheNextClaimOfALane: a lane whose head was sent and released while the
// claims were being renewed is found "lost" by the renewal; if the outbox claimed the lane's
// next head before the renewal acted on it, that new claim is this process's and its work
// goes on (stopping its send half-way would leave its outcome unknown, and the lane, still
// this process's, would send it again).
func TestRenewalSparesTheNextClaimOfALane(t *testing.T) {
	ctx := context.Background()
	clock := bottest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false)
	db := &renewHookStore{DB: bottest.NewStore(t)}
	a, err := bot.New(bot.Config{PollInSweepOnly: true, Owner: "replica-0", SendConcurrency: 4},
		bot.Deps{Messenger: bottest.NewMessenger(bot.Person{ID: "bot-1", DisplayName: "attachbot"}), Partner: bottest.NewPartner(nil),
			Store: db, Cards: cards.New(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(room string, n int) bot.Outgoing {
		return bot.Outgoing{Key: fmt.Sprintf("%s#%d", room, n), Created: clock.Now(), Message: bot.OutMessage{RoomID: room, Markdown: "hi"}}
	}
	if err := db.Enqueue(ctx, []bot.Outgoing{msg("room-1", 1), msg("room-1", 2), msg("room-2", 1)}); err != nil {
		t.Fatal(err)
	}
	lane, other := msg("room-1", 1).Lane(), msg("room-2", 1).Lane()
	claim := func(lane string) {
		t.Helper()
		now := clock.Now()
		if heads, err := db.ClaimLanes(ctx, []string{lane}, "replica-0", now, now.Add(time.Minute)); err != nil || len(heads) != 1 {
			t.Fatalf("claim lane %s = %d heads, %v; want 1", lane, len(heads), err)
		}
	}
	claim(lane)
	claim(other)
	_, forgetFirst := a.HoldLane(ctx, lane)
	otherCtx, forgetOther := a.HoldLane(ctx, other)
	defer forgetOther()
	// The first head is sent: its lane is released, and its sender has not forgotten its
	// claim yet when the renewal reads the claims held.
	if err := db.FinishLane(ctx, msg("room-1", 1).Key, "replica-0", clock.Now()); err != nil {
		t.Fatal(err)
	}
	var nextCtx context.Context
	db.onLost = func() {
		forgetFirst()
		claim(lane) // the outbox claims the lane's next head
		var forgetNext func()
		nextCtx, forgetNext = a.HoldLane(ctx, lane)
		t.Cleanup(forgetNext)
	}
	a.RenewLeases(ctx)
	if nextCtx == nil {
		t.Fatal("the renewal did not find the released lane's claim lost")
	}
	if err := context.Cause(nextCtx); err != nil {
		t.Errorf("the work on the lane's next head: %v, want it going on", err)
	}
	if err := otherCtx.Err(); err != nil {
		t.Errorf("the work on the other lane: %v, want it going on", err)
	}
}
