package storetest

import (
	"context"
	"testing"
	"time"

	"attachbot/bot"
)

// testCompletionOwner: an event is finished or given up only by the owner of its claim. An
// owner whose lease ran out and was taken over commits nothing (neither the event's outcome
// nor its messages), so two replicas never both complete one event.
func testCompletionOwner(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustAdd(t, s, event("a", t0), event("b", t0))
	mustClaim(t, s, "A", t0, "a")
	wantLost(t, "B finishes A's event", s.FinishEvent(ctx, "a", "B", t0, []bot.Outgoing{reply("a#B")}))
	wantLost(t, "no owner finishes A's event while its lease lives", s.FinishEvent(ctx, "a", "", t0, []bot.Outgoing{reply("a#none")}))
	wantLost(t, "B gives up A's event", s.DeadLetterEvent(ctx, event("a", t0), "B", t0, []bot.Outgoing{reply("a#B-failed")}))

	// A's lease runs out and B takes the event over: A, still at work, commits nothing.
	later := t0.Add(lease + time.Second)
	diff(t, "B claims after A's lease", []string{"a"}, mustClaim(t, s, "B", later, "a"))
	wantLost(t, "A finishes the event B took over", s.FinishEvent(ctx, "a", "A", later, []bot.Outgoing{reply("a#A")}))
	wantLost(t, "A gives up the event B took over", s.DeadLetterEvent(ctx, event("a", t0), "A", later, []bot.Outgoing{reply("a#A-failed")}))
	diff(t, "inbox after the refused completions", []string{"a", "b"}, inbox(t, s))
	diff(t, "outbox after the refused completions", []string{}, outbox(t, s))

	if err := s.FinishEvent(ctx, "a", "B", later, []bot.Outgoing{reply("a#B")}); err != nil {
		t.Fatalf("B finishes the event it holds: %v", err)
	}
	// An event no one claimed: not by an owner that does not hold it; by no owner, yes.
	wantLost(t, "A finishes an event it never claimed", s.FinishEvent(ctx, "b", "A", later, nil))
	if err := s.FinishEvent(ctx, "b", "", later, []bot.Outgoing{reply("b#0")}); err != nil {
		t.Fatalf("finishing an unclaimed event without an owner: %v", err)
	}
	diff(t, "inbox at the end", []string{}, inbox(t, s))
	diff(t, "outbox at the end", []string{"a#B", "b#0"}, outbox(t, s))
}
