package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"attachbot/bot"
)

// polled returns a request being provisioned whose next poll is at next.
func polled(id string, next time.Time) bot.Request {
	return bot.Request{ID: id, Created: t0, State: bot.StateProvisioning, RoomID: "room-1", NextPoll: next}
}

// mustCreate saves requests and fails the test on an error.
func mustCreate(t *testing.T, s bot.Store, rs ...bot.Request) {
	t.Helper()
	for _, r := range rs {
		if err := s.CreateRequest(context.Background(), r, nil); err != nil {
			t.Fatalf("CreateRequest(%s) = %v", r.ID, err)
		}
	}
}

// mustClaimPolls claims due polls for owner at now and returns the ids claimed.
func mustClaimPolls(t *testing.T, s bot.Store, owner string, now time.Time, limit int) []string {
	t.Helper()
	got, err := s.ClaimPolls(context.Background(), owner, now, now.Add(lease), limit)
	if err != nil {
		t.Fatalf("ClaimPolls(%s) = %v", owner, err)
	}
	ids := []string{}
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	return ids
}

// answered is a poll's outcome recorded by FinishPolls: the request is provisioned and a
// notice says so.
func answered(id string, r *bot.Request) ([]bot.Outgoing, error) {
	r.State, r.NextPoll = bot.StateProvisioned, time.Time{}
	return []bot.Outgoing{to("room-1", "provisioned/"+id)}, nil
}

// stateOf returns a request's state.
func stateOf(t *testing.T, s bot.Store, id string) bot.State {
	t.Helper()
	r, err := s.Request(context.Background(), id)
	if err != nil {
		t.Fatalf("Request(%s) = %v", id, err)
	}
	return r.State
}

func testPollClaims(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	ended := polled("r3", t0)
	ended.State = bot.StateProvisioned
	mustCreate(t, s, polled("r2", t0.Add(-time.Second)), polled("r1", t0.Add(-time.Minute)), ended, polled("r4", t0.Add(time.Hour)))
	diff(t, "A claims one, the earliest due", []string{"r1"}, mustClaimPolls(t, s, "A", t0, 1))
	diff(t, "B claims while A's lease lives", []string{"r2"}, mustClaimPolls(t, s, "B", t0, 10))
	diff(t, "C claims while both leases live", []string{}, mustClaimPolls(t, s, "C", t0.Add(lease-time.Nanosecond), 10))
	if err := s.RenewPolls(ctx, []string{"r1"}, "A", t0.Add(3*lease)); err != nil {
		t.Fatalf("RenewPolls = %v", err)
	}
	diff(t, "C claims once B's lease ran out, not A's renewed one", []string{"r2"}, mustClaimPolls(t, s, "C", t0.Add(lease), 10))
	wantLost(t, "B renews a lost poll", s.RenewPolls(ctx, []string{"r2"}, "B", t0.Add(5*lease)))

	// B's answer comes after its lease was lost: nothing of it is recorded.
	wantLost(t, "B records a lost poll", s.FinishPolls(ctx, []string{"r2"}, "B", answered))
	diff(t, "r2 after B's refused answer", bot.StateProvisioning, stateOf(t, s, "r2"))
	diff(t, "outbox after B's refused answer", []string{}, outbox(t, s))

	// A completion that fails to write changes nothing, and the claim stays.
	err := s.FinishPolls(ctx, []string{"r1"}, "A", func(id string, r *bot.Request) ([]bot.Outgoing, error) {
		r.State = bot.StateProvisioned
		return []bot.Outgoing{{}}, nil
	})
	if err == nil {
		t.Fatal("FinishPolls enqueueing a message without a key = nil error")
	}
	diff(t, "r1 after the failed completion", bot.StateProvisioning, stateOf(t, s, "r1"))
	if err := s.FinishPolls(ctx, []string{"r1", "r2"}, "A", answered); !errors.Is(err, bot.ErrLeaseLost) {
		t.Errorf("A records r1 (held) and r2 (not) = %v, want ErrLeaseLost for r2", err)
	}
	diff(t, "r1 after A's answer, with its notice", bot.StateProvisioned, stateOf(t, s, "r1"))
	diff(t, "r2 after A's answer", bot.StateProvisioning, stateOf(t, s, "r2"))
	diff(t, "outbox after A's answer", []string{"provisioned/r1"}, outbox(t, s))
	diff(t, "A claims again: r1 ended, r2 is C's", []string{}, mustClaimPolls(t, s, "A", t0.Add(lease), 10))

	// A release frees the poll at once.
	if err := s.ReleasePolls(ctx, []string{"r2", "r4"}, "C"); err != nil {
		t.Fatalf("ReleasePolls = %v", err)
	}
	diff(t, "A claims after C released", []string{"r2"}, mustClaimPolls(t, s, "A", t0.Add(lease), 10))
	diff(t, "B once A's lease ran out and r4 is due", []string{"r2", "r4"}, mustClaimPolls(t, s, "B", t0.Add(time.Hour), 10))
}

// testPollCrash kills the process polling a request: the next one claims it once the lease
// ran out, and records its answer once.
func testPollCrash(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustCreate(t, s, polled("r1", t0))
	diff(t, "A claims", []string{"r1"}, mustClaimPolls(t, s, "A", t0, 10))
	s = h.Restart(t, s)
	now := t0.Add(lease)
	diff(t, "B claims after the crash", []string{"r1"}, mustClaimPolls(t, s, "B", now, 10))
	if err := s.FinishPolls(ctx, []string{"r1"}, "B", answered); err != nil {
		t.Fatalf("FinishPolls = %v", err)
	}
	diff(t, "outbox after the answer", []string{"provisioned/r1"}, outbox(t, s))
	diff(t, "nothing more to poll", []string{}, mustClaimPolls(t, s, "B", now.Add(time.Hour), 10))
}

// testPollSchedule: a request is claimed when its next poll falls due as last saved (by
// CreateRequest, UpdateRequest or FinishPolls), only while it is in a polled state, and the
// requests due at the same instant are claimed newest first (by Created, then by ID, both
// descending), also when a limit cuts them.
func testPollSchedule(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	approval := func(id string) bot.Request {
		r := polled(id, t0.Add(-time.Hour))
		r.State = bot.StateAwaitingApproval
		return r
	}
	newest := polled("tie-new", t0.Add(-time.Minute))
	newest.Created = t0.Add(time.Second)
	mustCreate(t, s, polled("moved-later", t0), polled("moved-earlier", t0.Add(2*time.Hour)), polled("ended", t0),
		approval("approved"), approval("waiting"), polled("tie-a", t0.Add(-time.Minute)), newest, polled("tie-b", t0.Add(-time.Minute)))
	change := map[string]func(r *bot.Request){
		"moved-later":   func(r *bot.Request) { r.NextPoll = t0.Add(time.Hour) },
		"moved-earlier": func(r *bot.Request) { r.NextPoll = t0.Add(-time.Second) },
		"ended":         func(r *bot.Request) { r.State, r.NextPoll = bot.StateProvisioned, time.Time{} },
		"approved":      func(r *bot.Request) { r.State, r.NextPoll = bot.StateProvisioning, t0 },
	}
	for id, fn := range change {
		if _, err := s.UpdateRequest(ctx, id, func(r *bot.Request) ([]bot.Outgoing, error) { fn(r); return nil, nil }); err != nil {
			t.Fatalf("UpdateRequest(%s) = %v", id, err)
		}
	}
	diff(t, "L claims two: the limit cuts the requests due at one instant", []string{"tie-new", "tie-b"}, mustClaimPolls(t, s, "L", t0, 2))
	if err := s.ReleasePolls(ctx, []string{"tie-new", "tie-b"}, "L"); err != nil {
		t.Fatalf("ReleasePolls = %v", err)
	}
	due := []string{"tie-new", "tie-b", "tie-a", "moved-earlier", "approved"}
	diff(t, "A claims at t0: each at its time as last saved", due, mustClaimPolls(t, s, "A", t0, 10))

	// A's answers end tie-a and put the others' next polls off by half an hour.
	later := t0.Add(30 * time.Minute)
	err := s.FinishPolls(ctx, due, "A", func(id string, r *bot.Request) ([]bot.Outgoing, error) {
		if id == "tie-a" {
			return answered(id, r)
		}
		r.NextPoll = later
		return nil, nil
	})
	if err != nil {
		t.Fatalf("FinishPolls = %v", err)
	}
	diff(t, "B claims just before the new time", []string{}, mustClaimPolls(t, s, "B", later.Add(-time.Nanosecond), 10))
	diff(t, "B claims at the new time", []string{"tie-new", "tie-b", "moved-earlier", "approved"}, mustClaimPolls(t, s, "B", later, 10))
	diff(t, "C claims at t0+1h, once B's leases ran out", []string{"tie-new", "tie-b", "moved-earlier", "approved", "moved-later"},
		mustClaimPolls(t, s, "C", t0.Add(time.Hour), 10))
	diff(t, "D claims once C's leases ran out: no ended or waiting request", []string{"tie-new", "tie-b", "moved-earlier", "approved", "moved-later"},
		mustClaimPolls(t, s, "D", t0.Add(24*time.Hour), 100))
}

// testPollClaimFields: a claim carries what a poll reads of a request (its customer, the
// status last recorded, its organization, when it was due) as last saved, also for a
// request never scheduled (due at once, its NextPoll the zero time).
func testPollClaimFields(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	scheduled := polled("scheduled", t0.Add(-time.Minute))
	scheduled.CustomerID, scheduled.WebexStatus, scheduled.Spec.OrgID = "customer-1", "provisioning", "org-1"
	never := polled("never", time.Time{})
	never.State, never.CustomerID = bot.StatePendingReview, "customer-2"
	mustCreate(t, s, scheduled, never)
	claims, err := s.ClaimPolls(ctx, "A", t0, t0.Add(lease), 10)
	if err != nil {
		t.Fatalf("ClaimPolls = %v", err)
	}
	diff(t, "claims as created", []bot.PollClaim{
		{ID: "never", CustomerID: "customer-2"},
		{ID: "scheduled", CustomerID: "customer-1", WebexStatus: "provisioning", OrgID: "org-1", NextPoll: t0.Add(-time.Minute)},
	}, claims)

	// A records a new status of one; the other is changed meanwhile by an update that does
	// not move its next poll.
	err = s.FinishPolls(ctx, []string{"scheduled"}, "A", func(id string, r *bot.Request) ([]bot.Outgoing, error) {
		r.State, r.WebexStatus, r.NextPoll = bot.StateUpdating, "updating", t0.Add(time.Minute)
		return nil, nil
	})
	if err != nil {
		t.Fatalf("FinishPolls = %v", err)
	}
	_, err = s.UpdateRequest(ctx, "never", func(r *bot.Request) ([]bot.Outgoing, error) {
		r.CustomerID, r.WebexStatus, r.Spec.OrgID = "customer-2b", "pending_rpl_review", "org-2"
		return nil, nil
	})
	if err != nil {
		t.Fatalf("UpdateRequest = %v", err)
	}
	claims, err = s.ClaimPolls(ctx, "B", t0.Add(2*lease), t0.Add(3*lease), 10)
	if err != nil {
		t.Fatalf("ClaimPolls = %v", err)
	}
	diff(t, "claims as last saved", []bot.PollClaim{
		{ID: "never", CustomerID: "customer-2b", WebexStatus: "pending_rpl_review", OrgID: "org-2"},
		{ID: "scheduled", CustomerID: "customer-1", WebexStatus: "updating", OrgID: "org-1", NextPoll: t0.Add(time.Minute)},
	}, claims)
}

// polls is what FirstPoll and DuePolls return.
type polls struct {
	At    time.Time
	Found bool
	Due   int
}

// firstPoll returns FirstPoll's answer with skip.
func firstPoll(t *testing.T, s bot.Store, skip ...string) polls {
	t.Helper()
	at, found, err := s.FirstPoll(context.Background(), func(id string) bool { return slices.Contains(skip, id) })
	if err != nil {
		t.Fatalf("FirstPoll = %v", err)
	}
	return polls{At: at, Found: found}
}

// duePolls returns DuePolls' answer at now.
func duePolls(t *testing.T, s bot.Store, now time.Time) polls {
	t.Helper()
	n, at, err := s.DuePolls(context.Background(), now)
	if err != nil {
		t.Fatalf("DuePolls = %v", err)
	}
	return polls{At: at, Due: n}
}

// testFirstAndDuePolls: FirstPoll and DuePolls read the next polls of the requests in a
// polled state as last saved, whoever holds their claims.
func testFirstAndDuePolls(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	diff(t, "first poll of an empty store", polls{}, firstPoll(t, s))
	diff(t, "due polls of an empty store", polls{}, duePolls(t, s, t0))
	ended := polled("ended", t0.Add(-time.Hour))
	ended.State = bot.StateProvisioned
	waiting := polled("waiting", t0.Add(-2*time.Hour))
	waiting.State = bot.StateAwaitingApproval
	mustCreate(t, s, polled("late", t0.Add(time.Hour)), polled("first", t0.Add(-time.Minute)), polled("second", t0.Add(-time.Second)), ended, waiting)
	diff(t, "first poll", polls{At: t0.Add(-time.Minute), Found: true}, firstPoll(t, s))
	diff(t, "first poll but for first", polls{At: t0.Add(-time.Second), Found: true}, firstPoll(t, s, "first"))
	diff(t, "first poll, all skipped", polls{}, firstPoll(t, s, "first", "second", "late"))
	diff(t, "due polls just before the first", polls{}, duePolls(t, s, t0.Add(-time.Minute-time.Nanosecond)))
	diff(t, "due polls at t0", polls{At: t0.Add(-time.Minute), Due: 2}, duePolls(t, s, t0))
	diff(t, "due polls at t0+1h", polls{At: t0.Add(-time.Minute), Due: 3}, duePolls(t, s, t0.Add(time.Hour)))

	mustClaimPolls(t, s, "A", t0, 10)
	diff(t, "due polls while claimed", polls{At: t0.Add(-time.Minute), Due: 2}, duePolls(t, s, t0))
	if _, err := s.UpdateRequest(ctx, "first", func(r *bot.Request) ([]bot.Outgoing, error) {
		r.NextPoll = t0.Add(2 * time.Hour)
		return nil, nil
	}); err != nil {
		t.Fatalf("UpdateRequest = %v", err)
	}
	diff(t, "first poll after first moved", polls{At: t0.Add(-time.Second), Found: true}, firstPoll(t, s))
	diff(t, "due polls after first moved", polls{At: t0.Add(-time.Second), Due: 1}, duePolls(t, s, t0))

	mustCreate(t, s, polled("never", time.Time{}))
	diff(t, "first poll with one never scheduled", polls{Found: true}, firstPoll(t, s))
	diff(t, "due polls with one never scheduled", polls{Due: 2}, duePolls(t, s, t0))
}
