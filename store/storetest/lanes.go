package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"attachbot/bot"
)

// to returns an outbox message with key k to room.
func to(room, k string) bot.Outgoing {
	return bot.Outgoing{Key: k, Created: t0, Message: bot.OutMessage{RoomID: room, Markdown: "reply " + k}}
}

// lane1 and lane2 are the lanes of the messages to room-1 and room-2.
var (
	lane1 = to("room-1", "").Lane()
	lane2 = to("room-2", "").Lane()
)

// mustEnqueue enqueues messages and fails the test on an error.
func mustEnqueue(t *testing.T, s bot.Store, out ...bot.Outgoing) {
	t.Helper()
	if err := s.Enqueue(context.Background(), out); err != nil {
		t.Fatalf("Enqueue = %v", err)
	}
}

// mustClaimLanes claims lanes for owner at now and returns the keys of the heads claimed.
func mustClaimLanes(t *testing.T, s bot.Store, owner string, now time.Time, lanes ...string) []string {
	t.Helper()
	got, err := s.ClaimLanes(context.Background(), lanes, owner, now, now.Add(lease))
	if err != nil {
		t.Fatalf("ClaimLanes(%v, %s) = %v", lanes, owner, err)
	}
	return outKeys(got)
}

// dueLanes returns the keys of the heads DueLanes finds at now.
func dueLanes(t *testing.T, s bot.Store, now time.Time, limit int) []string {
	t.Helper()
	got, err := s.DueLanes(context.Background(), now, limit)
	if err != nil {
		t.Fatalf("DueLanes = %v", err)
	}
	return outKeys(got)
}

// wantLost fails the test unless err wraps bot.ErrLeaseLost.
func wantLost(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("%s: %v, want ErrLeaseLost", what, err)
	}
}

func testLaneClaims(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustEnqueue(t, s, to("room-1", "m1"), to("room-2", "n1"), to("room-1", "m2"))
	diff(t, "due lanes, oldest head first", []string{"m1", "n1"}, dueLanes(t, s, t0, 0))
	diff(t, "due lanes, limited", []string{"m1"}, dueLanes(t, s, t0, 1))
	diff(t, "A claims lane 1 (and an unknown one)", []string{"m1"}, mustClaimLanes(t, s, "A", t0, lane1, "nowhere|"))
	diff(t, "due lanes while A holds lane 1", []string{"n1"}, dueLanes(t, s, t0, 0))
	diff(t, "B claims while A's lease lives", []string{"n1"}, mustClaimLanes(t, s, "B", t0.Add(lease/2), lane1, lane2))
	diff(t, "B claims just before A's lease ends", []string{}, mustClaimLanes(t, s, "B", t0.Add(lease-time.Nanosecond), lane1))
	if err := s.RenewLanes(ctx, []string{lane1}, "A", t0.Add(2*lease)); err != nil {
		t.Fatalf("RenewLanes = %v", err)
	}
	diff(t, "B claims within A's renewed lease", []string{}, mustClaimLanes(t, s, "B", t0.Add(lease), lane1))
	diff(t, "B claims after A's renewed lease", []string{"m1"}, mustClaimLanes(t, s, "B", t0.Add(2*lease), lane1))

	// A lost lane 1: whatever it does changes nothing.
	wantLost(t, "A renews a lost lane", s.RenewLanes(ctx, []string{lane1}, "A", t0.Add(5*lease)))
	wantLost(t, "A finishes on a lost lane", s.FinishLane(ctx, "m1", "A", t0))
	m1 := to("room-1", "m1")
	m1.Attempts = 3
	wantLost(t, "A releases a lost lane", s.ReleaseLane(ctx, m1, "A"))
	wantLost(t, "A gives up on a lost lane", s.DeadLetterLane(ctx, m1, "A", t0, []bot.Outgoing{to("room-3", "notice")}))
	diff(t, "outbox after A's refused steps", []string{"m1", "n1", "m2"}, outbox(t, s))

	// B sends m1: the lane is free at once, its head now m2.
	if err := s.FinishLane(ctx, "m1", "B", t0.Add(2*lease)); err != nil {
		t.Fatalf("FinishLane = %v", err)
	}
	diff(t, "outbox after B sent m1", []string{"n1", "m2"}, outbox(t, s))
	diff(t, "A claims lane 1 after B finished, within B's lease", []string{"m2"}, mustClaimLanes(t, s, "A", t0.Add(2*lease), lane1))
	wantLost(t, "B finishes m2 on the lane A now holds", s.FinishLane(ctx, "m2", "B", t0))
	mustEnqueue(t, s, to("room-1", "m1"))
	diff(t, "outbox after m1 enqueued again", []string{"n1", "m2"}, outbox(t, s))
}

func testLaneRelease(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustEnqueue(t, s, to("room-1", "m1"), to("room-1", "m2"))
	mustClaimLanes(t, s, "A", t0, lane1)
	m1 := to("room-1", "m1")
	m1.Attempts, m1.LastError, m1.NotBefore = 1, "Webex answered 503", t0.Add(10*time.Second)
	if err := s.ReleaseLane(ctx, m1, "A"); err != nil {
		t.Fatalf("ReleaseLane = %v", err)
	}
	diff(t, "due lanes before the retry", []string{}, dueLanes(t, s, t0.Add(9*time.Second), 0))
	diff(t, "B claims before the retry is due", []string{}, mustClaimLanes(t, s, "B", t0.Add(9*time.Second), lane1))
	diff(t, "due lanes at the retry", []string{"m1"}, dueLanes(t, s, t0.Add(10*time.Second), 0))
	got, err := s.ClaimLanes(ctx, []string{lane1}, "B", t0.Add(10*time.Second), t0.Add(10*time.Second+lease))
	if err != nil || len(got) != 1 {
		t.Fatalf("B claims at the retry = %v, %v; want m1", outKeys(got), err)
	}
	if got[0].Attempts != 1 || got[0].LastError != m1.LastError || got[0].Seq == 0 {
		t.Errorf("the released head = %+v; want its attempts, error and Seq kept", got[0])
	}
	// Giving up is atomic with its notice: a notice without a key fails it all.
	if err := s.DeadLetterLane(ctx, got[0], "B", t0, []bot.Outgoing{{}}); err == nil {
		t.Fatal("DeadLetterLane with a notice without a key = nil error")
	}
	diff(t, "outbox after a failed dead-letter", []string{"m1", "m2"}, outbox(t, s))
	if err := s.DeadLetterLane(ctx, got[0], "B", t0, []bot.Outgoing{to("room-2", "notice")}); err != nil {
		t.Fatalf("DeadLetterLane (B still holds the lane) = %v", err)
	}
	diff(t, "outbox after the dead-letter", []string{"m2", "notice"}, outbox(t, s))
	diff(t, "lane 1 is free after the dead-letter", []string{"m2"}, mustClaimLanes(t, s, "C", t0.Add(10*time.Second), lane1))
}

// testLaneCrash kills the process holding a lane: the next one, knowing only the store,
// finds the lane due once the lease ran out and sends every message once, in order.
func testLaneCrash(t *testing.T, h Harness) {
	ctx := context.Background()
	for _, sentBefore := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("after sending %d", sentBefore), func(t *testing.T) {
			s := h.Open(t)
			mustEnqueue(t, s, to("room-1", "m1"), to("room-1", "m2"))
			for i, key := range []string{"m1", "m2"}[:sentBefore] {
				mustClaimLanes(t, s, "A", t0, lane1)
				if err := s.FinishLane(ctx, key, "A", t0.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			mustClaimLanes(t, s, "A", t0, lane1)
			s = h.Restart(t, s)
			now := t0.Add(lease)
			var sent []string
			for _, head := range dueLanes(t, s, now, 0) {
				for {
					got := mustClaimLanes(t, s, "B", now, to("room-1", head).Lane())
					if len(got) == 0 {
						break
					}
					if err := s.FinishLane(ctx, got[0], "B", now); err != nil {
						t.Fatal(err)
					}
					sent = append(sent, got[0])
				}
			}
			diff(t, "sent after the crash", []string{"m1", "m2"}[sentBefore:], append([]string{}, sent...))
			diff(t, "outbox at the end", []string{}, outbox(t, s))
		})
	}
}

func testNamedLeases(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	acquire := func(owner string, now time.Time) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, "leader", owner, now, now.Add(lease))
		if err != nil {
			t.Fatalf("AcquireLease(%s) = %v", owner, err)
		}
		return ok
	}
	steps := []struct {
		name  string
		owner string
		at    time.Duration
		want  bool
	}{
		{"A takes the free lease", "A", 0, true},
		{"B while A's lease lives", "B", lease / 2, false},
		{"A extends its own", "A", lease / 2, true},
		{"B after A's first lease, within the extended one", "B", lease, false},
		{"B once A's lease ran out", "B", lease/2 + lease, true},
		{"A while B's lease lives", "A", lease/2 + lease + time.Second, false},
	}
	for _, st := range steps {
		diff(t, st.name, st.want, acquire(st.owner, t0.Add(st.at)))
	}
	wantLost(t, "A renews a lost lease", s.RenewLease(ctx, "leader", "A", t0.Add(5*lease)))
	wantLost(t, "A releases a lost lease", s.ReleaseLease(ctx, "leader", "A"))
	if err := s.RenewLease(ctx, "leader", "B", t0.Add(5*lease)); err != nil {
		t.Fatalf("B renews = %v", err)
	}
	diff(t, "A within B's renewed lease", false, acquire("A", t0.Add(4*lease)))
	if ok, err := s.AcquireLease(ctx, "org/o1", "A", t0, t0.Add(lease)); err != nil || !ok {
		t.Errorf("A takes another name = %t, %v; want true", ok, err)
	}
	if err := s.ReleaseLease(ctx, "leader", "B"); err != nil {
		t.Fatalf("B releases = %v", err)
	}
	diff(t, "A right after B released", true, acquire("A", t0.Add(4*lease)))
	s = h.Restart(t, s)
	// The next process: A's leases ran out with it at the latest.
	diff(t, "C after the restart, once A's lease ran out", true, func() bool {
		ok, err := s.AcquireLease(ctx, "leader", "C", t0.Add(5*lease), t0.Add(6*lease))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}())
}

func testDueEvents(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustAdd(t, s, event("a", t0), event("b", t0), event("c", t0))
	mustClaim(t, s, "A", t0, "a")
	mustClaim(t, s, "A", t0, "b")
	b := event("b", t0)
	b.Attempts, b.NotBefore = 1, t0.Add(10*time.Second)
	if err := s.ReleaseEvent(ctx, b, "A"); err != nil {
		t.Fatal(err)
	}
	due := func(now time.Time, limit int) []string {
		t.Helper()
		evs, err := s.DueEvents(ctx, now, limit)
		if err != nil {
			t.Fatalf("DueEvents = %v", err)
		}
		return keysOf(evs)
	}
	diff(t, "due while a is claimed and b waits", []string{"c"}, due(t0, 0))
	diff(t, "due once b's retry came", []string{"b", "c"}, due(t0.Add(10*time.Second), 0))
	diff(t, "due once a's lease ran out, in the order of arrival", []string{"a", "b", "c"}, due(t0.Add(lease), 0))
	diff(t, "due, limited", []string{"a", "b"}, due(t0.Add(lease), 2))
}
