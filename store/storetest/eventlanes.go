package storetest

import (
	"context"
	"testing"
	"time"

	"attachbot/bot"
)

// mustClaimEventLanes claims the heads of lanes for owner at now and returns the keys
// claimed.
func mustClaimEventLanes(t *testing.T, s bot.Store, owner string, now time.Time, lanes ...string) []string {
	t.Helper()
	got, err := s.ClaimEventLanes(context.Background(), lanes, owner, now, now.Add(lease))
	if err != nil {
		t.Fatalf("ClaimEventLanes(%v, %s) = %v", lanes, owner, err)
	}
	return keysOf(got)
}

// The events of one space: a lane, handed out one at a time in the order of arrival.
var (
	a1, a2, a3 = eventIn("room-a", "a1", t0), eventIn("room-a", "a2", t0), eventIn("room-a", "a3", t0)
	laneA      = a1.Lane()
	b1         = eventIn("room-b", "b1", t0)
)

func testEventLanes(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustAdd(t, s, a1, a2, b1, a3)
	diff(t, "the second of a lane while the first waits", []string{}, mustClaim(t, s, "A", t0, "a2"))
	diff(t, "another lane's event beside it", []string{"b1"}, mustClaim(t, s, "A", t0, "a2", "b1"))
	diff(t, "the first and the second of a lane at once", []string{"a1"}, mustClaim(t, s, "A", t0, "a2", "a1"))
	diff(t, "the second while its holder holds the first", []string{}, mustClaim(t, s, "A", t0, "a2"))
	diff(t, "the second while another holds the first", []string{}, mustClaim(t, s, "B", t0, "a2", "a3"))
	diff(t, "the heads of lanes another holds", []string{}, mustClaimEventLanes(t, s, "B", t0, laneA, b1.Lane(), "room|nothing"))
	diff(t, "the heads of lanes their holder holds", []string{"a1", "b1"}, mustClaimEventLanes(t, s, "A", t0.Add(time.Second), laneA, b1.Lane()))

	// The first failed, and its next attempt is not due yet: the second waits for it.
	retry := a1
	retry.Attempts, retry.NotBefore = 1, t0.Add(time.Hour)
	if err := s.ReleaseEvent(ctx, retry, "A"); err != nil {
		t.Fatalf("ReleaseEvent = %v", err)
	}
	diff(t, "the second while the first waits for its retry", []string{}, mustClaim(t, s, "B", t0.Add(time.Minute), "a2"))
	diff(t, "the head of the lane before its retry is due", []string{}, mustClaimEventLanes(t, s, "B", t0.Add(time.Minute), laneA))
	at := t0.Add(time.Hour)
	diff(t, "the head of the lane once due", []string{"a1"}, mustClaimEventLanes(t, s, "B", at, laneA))
	if err := s.FinishEvent(ctx, "a1", "B", at, nil); err != nil {
		t.Fatalf("FinishEvent = %v", err)
	}
	diff(t, "the third once the first finished", []string{}, mustClaim(t, s, "A", at, "a3"))
	diff(t, "the head once the first finished", []string{"a2"}, mustClaimEventLanes(t, s, "A", at, laneA))
	diff(t, "the third while the second is held", []string{}, mustClaim(t, s, "B", at, "a3"))
	if err := s.DeadLetterEvent(ctx, a2, "A", at, nil); err != nil {
		t.Fatalf("DeadLetterEvent = %v", err)
	}
	diff(t, "the third once the second was given up", []string{"a3"}, mustClaim(t, s, "B", at, "a3"))
}

func testEventLaneCrash(t *testing.T, h Harness) {
	s := h.Open(t)
	mustAdd(t, s, a1, a2, b1)
	diff(t, "A claims the heads", []string{"a1", "b1"}, mustClaim(t, s, "A", t0, "a1", "a2", "b1"))
	s = h.Restart(t, s) // A dies holding them
	diff(t, "B claims the second within A's lease", []string{}, mustClaim(t, s, "B", t0.Add(lease/2), "a2"))
	diff(t, "B claims the second once A's lease ran out", []string{}, mustClaim(t, s, "B", t0.Add(lease), "a2"))
	diff(t, "B claims the first once A's lease ran out", []string{"a1"}, mustClaim(t, s, "B", t0.Add(lease), "a2", "a1"))
	diff(t, "C claims the head of the lane B took over", []string{}, mustClaimEventLanes(t, s, "C", t0.Add(lease+time.Second), laneA))
	diff(t, "C claims the head of the lane no one took over", []string{"b1"}, mustClaimEventLanes(t, s, "C", t0.Add(lease+time.Second), laneA, b1.Lane()))
}
