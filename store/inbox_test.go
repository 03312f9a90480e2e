package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
)

func TestAddEventDedupe(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	ev := event("messages/created/M1", t0)

	steps := []struct {
		name string
		do   func() error // what happens before the event is added again
		want bool
	}{
		{"new", func() error { return nil }, true},
		{"in the inbox", func() error { return nil }, false},
		{"processed", func() error { return db.FinishEvent(ctx, ev.Key, "", t0, nil) }, false},
		{"pruned", func() error { _, err := db.PruneProcessed(ctx, t0.Add(time.Second)); return err }, true},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got, err := db.AddEvent(ctx, ev)
		if err != nil {
			t.Fatalf("%s: AddEvent() = %v", step.name, err)
		}
		if got != step.want {
			t.Errorf("%s: AddEvent() = %t, want %t", step.name, got, step.want)
		}
	}
	// A rejected duplicate changes nothing: the inbox has the event once, as first added.
	dup := ev
	dup.ActorID = "someone else"
	if added, err := db.AddEvent(ctx, dup); added || err != nil {
		t.Fatalf("AddEvent(duplicate) = %t, %v; want false, nil", added, err)
	}
	if diff := cmp.Diff([]bot.Event{ev}, mustEvents(t, db)); diff != "" {
		t.Errorf("Events() mismatch (-want +got):\n%s", diff)
	}
}

// TestEventsOrder: the inbox comes in the order the events arrived, whatever their times
// and keys say.
func TestEventsOrder(t *testing.T) {
	db := mustOpen(t)
	// Keys and times sort differently from the order of arrival.
	b := event("b", t0.Add(2*time.Second))
	a := event("a", t0.Add(3*time.Second))
	d := event("d", t0)
	c := event("c", t0)
	for _, ev := range []bot.Event{b, a, d, c} {
		mustAddEvent(t, db, ev)
	}
	want := []bot.Event{b, a, d, c}
	if diff := cmp.Diff(want, mustEvents(t, db)); diff != "" {
		t.Errorf("Events() mismatch (-want +got):\n%s", diff)
	}
}

func TestSaveEvent(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	ev := event("k", t0)
	mustAddEvent(t, db, ev)

	ev.Attempts, ev.NotBefore, ev.LastError = 2, t0.Add(time.Minute), "webex 503"
	if err := db.SaveEvent(ctx, ev); err != nil {
		t.Fatalf("SaveEvent() = %v", err)
	}
	if diff := cmp.Diff([]bot.Event{ev}, mustEvents(t, db)); diff != "" {
		t.Errorf("Events() after SaveEvent mismatch (-want +got):\n%s", diff)
	}

	// A finished event is not brought back.
	if err := db.FinishEvent(ctx, ev.Key, "", t0, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveEvent(ctx, ev); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("SaveEvent() of a finished event = %v, want bot.ErrNotFound", err)
	}
	if got := mustEvents(t, db); len(got) != 0 {
		t.Errorf("Events() = %v, want none", got)
	}
}

func TestFinishEvent(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	ev, other := event("k", t0), event("other", t0)
	mustAddEvent(t, db, ev)
	mustAddEvent(t, db, other)

	if err := db.FinishEvent(ctx, ev.Key, "", t0, []bot.Outgoing{outgoing("reply"), outgoing("card")}); err != nil {
		t.Fatalf("FinishEvent() = %v", err)
	}
	if diff := cmp.Diff([]bot.Event{other}, mustEvents(t, db)); diff != "" {
		t.Errorf("Events() mismatch (-want +got):\n%s", diff)
	}
	if added, err := db.AddEvent(ctx, ev); added || err != nil {
		t.Errorf("AddEvent() of the finished event = %t, %v; want false, nil", added, err)
	}
	if diff := cmp.Diff([]string{"reply/1", "card/2"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}

	// Finishing it again changes nothing.
	if err := db.FinishEvent(ctx, ev.Key, "", t0, []bot.Outgoing{outgoing("again")}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("FinishEvent() again = %v, want bot.ErrNotFound", err)
	}
	if diff := cmp.Diff([]string{"reply/1", "card/2"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() after finishing again mismatch (-want +got):\n%s", diff)
	}
}

// TestFinishEventAtomic checks that a FinishEvent that fails part way (here, on its second
// message) changes nothing at all.
func TestFinishEventAtomic(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	ev := event("k", t0)
	mustAddEvent(t, db, ev)

	out := []bot.Outgoing{outgoing("reply"), {Message: bot.OutMessage{RoomID: "room1"}}} // no key
	if err := db.FinishEvent(ctx, ev.Key, "", t0, out); err == nil {
		t.Fatal("FinishEvent() with a message without a key = nil, want an error")
	}
	if diff := cmp.Diff([]bot.Event{ev}, mustEvents(t, db)); diff != "" {
		t.Errorf("Events() mismatch (-want +got):\n%s", diff)
	}
	if got := outboxKeys(t, db); len(got) != 0 {
		t.Errorf("Outbox() = %v, want none", got)
	}
	// Not recorded as processed either: once finished properly it goes.
	if err := db.FinishEvent(ctx, ev.Key, "", t0, out[:1]); err != nil {
		t.Fatalf("FinishEvent() = %v", err)
	}
	if diff := cmp.Diff([]string{"reply/1"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}
}

func TestDeadLetterEvent(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	ev := event("k", t0)
	mustAddEvent(t, db, ev)

	ev.Attempts, ev.LastError = 5, "webex 500"
	if err := db.DeadLetterEvent(ctx, ev, "", t0, []bot.Outgoing{outgoing("k#failed")}); err != nil {
		t.Fatalf("DeadLetterEvent() = %v", err)
	}
	if got := mustEvents(t, db); len(got) != 0 {
		t.Errorf("Events() = %v, want none", got)
	}
	// The notice to the space is enqueued with it.
	if diff := cmp.Diff([]string{"k#failed/1"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}
	if added, err := db.AddEvent(ctx, ev); added || err != nil {
		t.Errorf("AddEvent() of the dead-lettered event = %t, %v; want false, nil", added, err)
	}
	// The same key can be given up on twice (say, after pruning and a redelivery).
	if n, err := db.PruneProcessed(ctx, t0.Add(time.Second)); n != 1 || err != nil {
		t.Fatalf("PruneProcessed() = %d, %v; want 1, nil", n, err)
	}
	mustAddEvent(t, db, ev)
	if err := db.DeadLetterEvent(ctx, ev, "", t0.Add(time.Hour), nil); err != nil {
		t.Fatalf("DeadLetterEvent() again = %v", err)
	}
}

func TestPruneProcessed(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	// Events processed at t0, t0+1h and t0+2h; messages sent at t0, given up on at t0+1h,
	// sent at t0+2h, and one still waiting.
	for i, key := range []string{"e0", "e1", "e2"} {
		at := t0.Add(time.Duration(i) * time.Hour)
		mustAddEvent(t, db, event(key, at))
		if err := db.FinishEvent(ctx, key, "", at, nil); err != nil {
			t.Fatal(err)
		}
	}
	mustEnqueue(t, db, outgoing("sent0"), outgoing("dead1"), outgoing("sent2"), outgoing("waiting"))
	if err := db.MarkSent(ctx, "sent0", t0); err != nil {
		t.Fatal(err)
	}
	if err := db.DeadLetterOutgoing(ctx, outgoing("dead1"), t0.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkSent(ctx, "sent2", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}

	got, err := db.PruneProcessed(ctx, t0.Add(90*time.Minute))
	if err != nil {
		t.Fatalf("PruneProcessed() = %v", err)
	}
	if want := 4; got != want { // e0, e1, sent0, dead1
		t.Errorf("PruneProcessed() = %d, want %d", got, want)
	}
	if got, err := db.PruneProcessed(ctx, t0.Add(90*time.Minute)); got != 0 || err != nil {
		t.Errorf("PruneProcessed() again = %d, %v; want 0, nil", got, err)
	}

	// What was pruned is accepted again; what was not is still deduplicated.
	for _, tc := range []struct {
		key  string
		want bool
	}{{"e0", true}, {"e1", true}, {"e2", false}} {
		if got, err := db.AddEvent(ctx, event(tc.key, t0)); got != tc.want || err != nil {
			t.Errorf("AddEvent(%s) = %t, %v; want %t, nil", tc.key, got, err, tc.want)
		}
	}
	mustEnqueue(t, db, outgoing("sent0"), outgoing("dead1"), outgoing("sent2"), outgoing("waiting"))
	if diff := cmp.Diff([]string{"waiting/4", "sent0/5", "dead1/6"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}
}
