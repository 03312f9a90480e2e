// Package storetest is the contract of the bot's durable state (bot.Store's inbox, outbox,
// the claims with leases on events, outbox lanes, polls and named leases, requests,
// batches, subscriptions and tokens) as a test suite that every implementation runs: Run it
// from the implementation's tests with a Harness that opens the implementation's stores.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"attachbot/bot"
)

// Harness gives the suite stores of one implementation.
type Harness struct {
	// Open returns a new, empty store; the harness releases it when the test ends.
	Open func(t *testing.T) bot.Store
	// Restart stops using s as a killed process would, keeping what it committed, and
	// returns a store over the same data, as the next process opens it.
	Restart func(t *testing.T, s bot.Store) bot.Store
}

// lease is how long the suite's claims live.
const lease = time.Minute

// t0 is when the suite's work starts.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Run runs the whole contract against h's stores.
func Run(t *testing.T, h Harness) {
	t.Run("AddEventsDeduplicates", func(t *testing.T) { testAddEvents(t, h) })
	t.Run("EventRefsIndexTheInbox", func(t *testing.T) { testEventRefs(t, h) })
	t.Run("ClaimedNotHandedOutTwiceWhileLeaseLives", func(t *testing.T) { testClaimExclusive(t, h) })
	t.Run("ExpiredLeaseHandedOutAgain", func(t *testing.T) { testLeaseExpiry(t, h) })
	t.Run("RenewKeepsTheClaim", func(t *testing.T) { testRenew(t, h) })
	t.Run("ReleaseSavesAndFrees", func(t *testing.T) { testRelease(t, h) })
	t.Run("CompletionWithEffectsIsAtomic", func(t *testing.T) { testCompletionAtomic(t, h) })
	t.Run("CompletionOnlyByTheClaimsOwner", func(t *testing.T) { testCompletionOwner(t, h) })
	t.Run("OutboxAfterReadsOnlyTheNew", func(t *testing.T) { testOutboxAfter(t, h) })
	t.Run("CrashBetweenAnyTwoStepsLosesNothing", func(t *testing.T) { testCrash(t, h) })
	t.Run("PruneForgetsOnlyTheOld", func(t *testing.T) { testPrune(t, h) })
	t.Run("DueEventsSkipsTheClaimed", func(t *testing.T) { testDueEvents(t, h) })
	t.Run("EventsOfALaneHandedOutInOrder", func(t *testing.T) { testEventLanes(t, h) })
	t.Run("EventLaneHeadOfADeadOwnerIsTakenOver", func(t *testing.T) { testEventLaneCrash(t, h) })
	t.Run("LanesClaimedOneOwnerAtATime", func(t *testing.T) { testLaneClaims(t, h) })
	t.Run("LaneReleaseSavesAndFrees", func(t *testing.T) { testLaneRelease(t, h) })
	t.Run("LaneOfADeadOwnerIsTakenOver", func(t *testing.T) { testLaneCrash(t, h) })
	t.Run("PollsClaimedOneOwnerAtATime", func(t *testing.T) { testPollClaims(t, h) })
	t.Run("PollOfADeadOwnerIsTakenOver", func(t *testing.T) { testPollCrash(t, h) })
	t.Run("PollsClaimedAtTheirNextPollAsSaved", func(t *testing.T) { testPollSchedule(t, h) })
	t.Run("PollClaimsCarryWhatAPollReads", func(t *testing.T) { testPollClaimFields(t, h) })
	t.Run("FirstAndDuePollsReadTheSchedule", func(t *testing.T) { testFirstAndDuePolls(t, h) })
	t.Run("NamedLeasesHaveOneHolder", func(t *testing.T) { testNamedLeases(t, h) })
	t.Run("BatchesKeepTheirRowsAndUpdates", func(t *testing.T) { testBatches(t, h) })
	t.Run("Requests", func(t *testing.T) { testRequests(t, h) })
	t.Run("SubscriptionsAndTokens", func(t *testing.T) { testSubscriptionsAndTokens(t, h) })
	t.Run("DeadLetters", func(t *testing.T) { testDeadLetters(t, h) })
}

// event returns an inbox event with key k, received at at, in a space of its own (a lane of
// its own).
func event(k string, at time.Time) bot.Event {
	return eventIn("room-"+k, k, at)
}

// eventIn returns an inbox event with key k in space roomID, received at at.
func eventIn(roomID, k string, at time.Time) bot.Event {
	return bot.Event{Key: k, Resource: "messages", Event: "created", DataID: k, RoomID: roomID, Received: at}
}

// reply returns an outbox message with key k.
func reply(k string) bot.Outgoing {
	return bot.Outgoing{Key: k, Created: t0, Message: bot.OutMessage{RoomID: "room-1", Markdown: "reply " + k}}
}

// keysOf returns the keys of events.
func keysOf(events []bot.Event) []string {
	keys := []string{}
	for _, ev := range events {
		keys = append(keys, ev.Key)
	}
	return keys
}

// outKeys returns the keys of messages.
func outKeys(out []bot.Outgoing) []string {
	keys := []string{}
	for _, o := range out {
		keys = append(keys, o.Key)
	}
	return keys
}

// mustAdd adds events and fails the test on an error.
func mustAdd(t *testing.T, s bot.Store, evs ...bot.Event) []bool {
	t.Helper()
	added, err := s.AddEvents(context.Background(), evs)
	if err != nil {
		t.Fatalf("AddEvents = %v", err)
	}
	return added
}

// mustClaim claims keys for owner at now and returns the keys claimed.
func mustClaim(t *testing.T, s bot.Store, owner string, now time.Time, keys ...string) []string {
	t.Helper()
	got, err := s.ClaimEvents(context.Background(), keys, owner, now, now.Add(lease))
	if err != nil {
		t.Fatalf("ClaimEvents(%v, %s) = %v", keys, owner, err)
	}
	return keysOf(got)
}

// inbox returns the keys of the inbox.
func inbox(t *testing.T, s bot.Store) []string {
	t.Helper()
	evs, err := s.Events(context.Background())
	if err != nil {
		t.Fatalf("Events = %v", err)
	}
	return keysOf(evs)
}

// outbox returns the keys of the outbox.
func outbox(t *testing.T, s bot.Store) []string {
	t.Helper()
	out, err := s.OutboxAfter(context.Background(), 0)
	if err != nil {
		t.Fatalf("OutboxAfter(0) = %v", err)
	}
	return outKeys(out)
}

// diff fails the test when got is not want.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func testAddEvents(t *testing.T, h Harness) {
	s := h.Open(t)
	diff(t, "first batch added", []bool{true, true, false}, mustAdd(t, s, event("a", t0), event("b", t0), event("a", t0.Add(time.Second))))
	if err := s.FinishEvent(context.Background(), "b", "", t0, nil); err != nil {
		t.Fatal(err)
	}
	diff(t, "second batch added", []bool{false, false, true}, mustAdd(t, s, event("a", t0), event("b", t0), event("c", t0)))
	diff(t, "inbox", []string{"a", "c"}, inbox(t, s))
	// The inbox is in the order of arrival, whatever the times and keys say.
	mustAdd(t, s, event("0-late-key", t0.Add(-time.Hour)))
	diff(t, "inbox in the order of arrival", []string{"a", "c", "0-late-key"}, inbox(t, s))
	if _, err := s.AddEvents(context.Background(), []bot.Event{event("d", t0), {}}); err == nil {
		t.Error("AddEvents with an event without a key = nil error")
	}
	diff(t, "inbox after a refused batch", []string{"a", "c", "0-late-key"}, inbox(t, s))
}

func testClaimExclusive(t *testing.T, h Harness) {
	s := h.Open(t)
	mustAdd(t, s, event("a", t0), event("b", t0))
	diff(t, "A claims", []string{"a"}, mustClaim(t, s, "A", t0, "a", "missing"))
	diff(t, "B claims while A's lease lives", []string{"b"}, mustClaim(t, s, "B", t0.Add(lease/2), "a", "b"))
	diff(t, "B claims just before A's lease ends", []string{}, mustClaim(t, s, "B", t0.Add(lease-time.Nanosecond), "a"))
	diff(t, "A claims its own again", []string{"a"}, mustClaim(t, s, "A", t0.Add(lease/2), "a"))
	// A's claim now lives until t0 + lease/2 + lease.
	diff(t, "B claims after A's first lease, within the extended one", []string{}, mustClaim(t, s, "B", t0.Add(lease), "a"))
}

func testLeaseExpiry(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustAdd(t, s, event("a", t0))
	mustClaim(t, s, "A", t0, "a")
	diff(t, "B claims once A's lease ended", []string{"a"}, mustClaim(t, s, "B", t0.Add(lease), "a"))
	if err := s.RenewEvents(ctx, []string{"a"}, "A", t0.Add(3*lease)); !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("A renews a lost claim: %v, want ErrLeaseLost", err)
	}
	ev := event("a", t0)
	ev.Attempts = 5
	if err := s.ReleaseEvent(ctx, ev, "A"); !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("A releases a lost claim: %v, want ErrLeaseLost", err)
	}
	evs, err := s.Events(ctx)
	if err != nil || len(evs) != 1 || evs[0].Attempts != 0 {
		t.Errorf("inbox after A's refused release = %+v, %v; want a with 0 attempts", evs, err)
	}
	diff(t, "A claims while B's lease lives", []string{}, mustClaim(t, s, "A", t0.Add(lease+time.Second), "a"))
}

func testRenew(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustAdd(t, s, event("a", t0), event("b", t0))
	mustClaim(t, s, "A", t0, "a", "b")
	if err := s.RenewEvents(ctx, []string{"a", "b"}, "A", t0.Add(3*lease)); err != nil {
		t.Fatalf("RenewEvents = %v", err)
	}
	diff(t, "B claims after the first lease, within the renewed one", []string{}, mustClaim(t, s, "B", t0.Add(2*lease), "a", "b"))
	diff(t, "B claims after the renewed lease", []string{"a", "b"}, mustClaim(t, s, "B", t0.Add(3*lease), "a", "b"))
	if err := s.RenewEvents(ctx, []string{"a", "gone"}, "B", t0.Add(5*lease)); !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("renewing a claim on an event not in the inbox: %v, want ErrLeaseLost", err)
	}
}

func testRelease(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustAdd(t, s, event("a", t0))
	mustClaim(t, s, "A", t0, "a")
	ev := event("a", t0)
	ev.Attempts, ev.LastError, ev.NotBefore = 1, "Webex answered 503", t0.Add(10*time.Second)
	if err := s.ReleaseEvent(ctx, ev, "A"); err != nil {
		t.Fatalf("ReleaseEvent = %v", err)
	}
	diff(t, "B claims before the retry is due", []string{}, mustClaim(t, s, "B", t0.Add(9*time.Second), "a"))
	got, err := s.ClaimEvents(ctx, []string{"a"}, "B", t0.Add(10*time.Second), t0.Add(10*time.Second+lease))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 1 && got[0].Seq == 0 {
		t.Error("the released event lost its Seq")
	}
	if d := cmp.Diff([]bot.Event{ev}, got, cmpopts.IgnoreFields(bot.Event{}, "Seq")); d != "" {
		t.Errorf("B's claim once due, well within A's old lease (-want +got):\n%s", d)
	}
}

func testCompletionAtomic(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustAdd(t, s, event("a", t0))
	mustClaim(t, s, "A", t0, "a")
	// A message without a key fails the completion: none of it happens.
	if err := s.FinishEvent(ctx, "a", "A", t0, []bot.Outgoing{reply("a#0"), {}}); err == nil {
		t.Fatal("FinishEvent with a message without a key = nil error")
	}
	diff(t, "inbox after a failed completion", []string{"a"}, inbox(t, s))
	diff(t, "outbox after a failed completion", []string{}, outbox(t, s))
	if err := s.FinishEvent(ctx, "a", "A", t0, []bot.Outgoing{reply("a#0"), reply("a#1")}); err != nil {
		t.Fatalf("FinishEvent = %v", err)
	}
	diff(t, "inbox after the completion", []string{}, inbox(t, s))
	diff(t, "outbox after the completion", []string{"a#0", "a#1"}, outbox(t, s))
	diff(t, "the event added again", []bool{false}, mustAdd(t, s, event("a", t0)))
	if err := s.FinishEvent(ctx, "a", "A", t0, []bot.Outgoing{reply("a#2")}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("finishing an event twice: %v, want ErrNotFound", err)
	}
	diff(t, "outbox after finishing twice", []string{"a#0", "a#1"}, outbox(t, s))
}

func testOutboxAfter(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	if err := s.Enqueue(ctx, []bot.Outgoing{reply("m1"), reply("m2")}); err != nil {
		t.Fatal(err)
	}
	first, err := s.OutboxAfter(ctx, 0)
	if err != nil || len(first) != 2 {
		t.Fatalf("OutboxAfter(0) = %v, %v; want 2 messages", outKeys(first), err)
	}
	if err := s.Enqueue(ctx, []bot.Outgoing{reply("m1"), reply("m3")}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, "m2", t0); err != nil {
		t.Fatal(err)
	}
	later, err := s.OutboxAfter(ctx, first[1].Seq)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "enqueued after the last known", []string{"m3"}, outKeys(later))
	if len(later) == 1 && later[0].Seq <= first[1].Seq {
		t.Errorf("m3 has Seq %d, not after m2's %d", later[0].Seq, first[1].Seq)
	}
	diff(t, "the whole outbox", []string{"m1", "m3"}, outbox(t, s))
}

// testCrash runs an event's life (stored, claimed, failed and released, claimed again,
// finished with its reply, the reply sent) and kills the process after each step: the next
// process, which knows only what the store tells it, finishes the work, and in the end the
// event was processed and its reply sent, once.
func testCrash(t *testing.T, h Harness) {
	ctx := context.Background()
	steps := []struct {
		name string
		do   func(s bot.Store) error
	}{
		{"store", func(s bot.Store) error { _, err := s.AddEvents(ctx, []bot.Event{event("a", t0)}); return err }},
		{"claim", func(s bot.Store) error {
			_, err := s.ClaimEvents(ctx, []string{"a"}, "A", t0, t0.Add(lease))
			return err
		}},
		{"release", func(s bot.Store) error {
			ev := event("a", t0)
			ev.Attempts, ev.NotBefore = 1, t0.Add(time.Second)
			return s.ReleaseEvent(ctx, ev, "A")
		}},
		{"claim again", func(s bot.Store) error {
			_, err := s.ClaimEvents(ctx, []string{"a"}, "A", t0.Add(time.Second), t0.Add(time.Second+lease))
			return err
		}},
		{"finish", func(s bot.Store) error { return s.FinishEvent(ctx, "a", "A", t0, []bot.Outgoing{reply("a#0")}) }},
		{"mark sent", func(s bot.Store) error { return s.MarkSent(ctx, "a#0", t0) }},
	}
	for cut := 1; cut <= len(steps); cut++ {
		t.Run("after "+steps[cut-1].name, func(t *testing.T) {
			s := h.Open(t)
			for _, step := range steps[:cut] {
				if err := step.do(s); err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
			}
			s = h.Restart(t, s)
			// Webex delivers the event again: it is recognised.
			if added := mustAdd(t, s, event("a", t0)); added[0] {
				t.Error("the redelivered event was added again after the crash")
			}
			// The next process, long after any lease of the one before.
			now := t0.Add(time.Hour)
			processed := 0
			for _, key := range mustClaim(t, s, "B", now, inbox(t, s)...) {
				if err := s.FinishEvent(ctx, key, "B", now, []bot.Outgoing{reply(key + "#0")}); err != nil {
					t.Fatalf("finish %s after the crash: %v", key, err)
				}
				processed++
			}
			sent := 0
			for _, key := range outbox(t, s) {
				if err := s.MarkSent(ctx, key, now); err != nil {
					t.Fatalf("mark %s sent after the crash: %v", key, err)
				}
				sent++
			}
			wantProcessed, wantSent := 0, 0
			if cut < 5 { // not finished before the crash
				wantProcessed = 1
			}
			if cut < 6 {
				wantSent = 1
			}
			diff(t, "events processed after the crash", wantProcessed, processed)
			diff(t, "replies sent after the crash", wantSent, sent)
			diff(t, "inbox at the end", []string{}, inbox(t, s))
			diff(t, "outbox at the end", []string{}, outbox(t, s))
			if err := s.Enqueue(ctx, []bot.Outgoing{reply("a#0")}); err != nil {
				t.Fatal(err)
			}
			diff(t, "the reply enqueued again", []string{}, outbox(t, s))
		})
	}
}

func testPrune(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustAdd(t, s, event("old", t0), event("new", t0))
	if err := s.FinishEvent(ctx, "old", "", t0, []bot.Outgoing{reply("old#0")}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishEvent(ctx, "new", "", t0.Add(2*time.Hour), []bot.Outgoing{reply("new#0")}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, "old#0", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, "new#0", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneProcessed(ctx, t0.Add(time.Hour))
	if err != nil || n != 2 {
		t.Errorf("PruneProcessed = %d, %v; want 2 keys forgotten", n, err)
	}
	diff(t, "added after the prune (old forgotten, new remembered)", []bool{true, false}, mustAdd(t, s, event("old", t0), event("new", t0)))
	if err := s.Enqueue(ctx, []bot.Outgoing{reply("old#0"), reply("new#0")}); err != nil {
		t.Fatal(err)
	}
	diff(t, "enqueued after the prune", []string{"old#0"}, outbox(t, s))
	if n, err := s.PruneProcessed(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("PruneProcessed again = %d, %v; want 0", n, err)
	}
}
