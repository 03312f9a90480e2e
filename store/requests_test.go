package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/store"
)

// request returns a request with a realistic amount of detail.
func request(id, roomID string, state bot.State, created time.Time) bot.Request {
	return bot.Request{
		ID:          id,
		Source:      "messages/created/" + id,
		Created:     created,
		Updated:     created,
		State:       state,
		RoomID:      roomID,
		ThreadID:    "thread-" + id,
		RequestedBy: "ann@partner.example",
		Spec: bot.AttachSpec{
			OrgID:          "org-" + id,
			AdminEmail:     "admin@customer.example",
			CustomerName:   "Customer " + id,
			Template:       "standard",
			ProvisioningID: "prov-1",
			Packages:       []string{"common_area_calling", "webex_calling"},
			ExternalID:     "ext-" + id,
			Address:        bot.Address{Line1: "1 Main St", City: "Copenhagen", Country: "DK"},
			Declared:       bot.Declared{Users: bot.No, By: "ann@partner.example"},
		},
		Facts: bot.Facts{
			Users:   bot.Fact{Value: bot.No, Source: "GET /people?orgId="},
			Trial:   bot.Fact{Value: bot.No, Source: "GET /licenses?orgId="},
			Managed: bot.Fact{Value: bot.Unknown, Source: "403 from GET /organizations"},
		},
		Assessment: bot.Assessment{ApprovalRequired: true, Because: []string{"verifiedDomain"}, Role: bot.RoleProvisioningAdmin},
		Audit: []bot.AuditEntry{
			{At: created, Actor: "ann@partner.example", Action: "requested"},
			{At: created.Add(time.Minute), Actor: "attachbot", Action: "precheck", Detail: "passed", TrackingID: "ROUTER_1"},
			{At: created.Add(time.Hour), Actor: "admin@customer.example", Action: "approved"},
		},
	}
}

func TestCreateRequest(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	r := request("R1", "room1", bot.StateAwaitingApproval, t0)
	if err := db.CreateRequest(ctx, r, []bot.Outgoing{outgoing("card")}); err != nil {
		t.Fatalf("CreateRequest() = %v", err)
	}
	got, err := db.Request(ctx, "R1")
	if err != nil {
		t.Fatalf("Request() = %v", err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("Request() mismatch (-want +got):\n%s", diff)
	}

	// A taken id changes nothing, the outbox included.
	other := request("R1", "room2", bot.StateSubmitting, t0.Add(time.Hour))
	if err := db.CreateRequest(ctx, other, []bot.Outgoing{outgoing("other card")}); !errors.Is(err, bot.ErrExists) {
		t.Errorf("CreateRequest() of a taken id = %v, want bot.ErrExists", err)
	}
	if got, err := db.Request(ctx, "R1"); err != nil || !cmp.Equal(r, got) {
		t.Errorf("Request() after a refused create = %+v, %v; want the first request", got, err)
	}
	if diff := cmp.Diff([]string{"card/1"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}

	if _, err := db.Request(ctx, "R2"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Request(R2) = %v, want bot.ErrNotFound", err)
	}
}

func TestUpdateRequest(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	r := request("R1", "room1", bot.StateSubmitting, t0)
	if err := db.CreateRequest(ctx, r, nil); err != nil {
		t.Fatal(err)
	}

	got, err := db.UpdateRequest(ctx, "R1", func(r *bot.Request) ([]bot.Outgoing, error) {
		r.State, r.CustomerID = bot.StateProvisioning, "cust-1"
		return []bot.Outgoing{outgoing("submitted")}, nil
	})
	if err != nil {
		t.Fatalf("UpdateRequest() = %v", err)
	}
	want := r
	want.State, want.CustomerID = bot.StateProvisioning, "cust-1"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateRequest() mismatch (-want +got):\n%s", diff)
	}
	if stored, err := db.Request(ctx, "R1"); err != nil || !cmp.Equal(want, stored) {
		t.Errorf("Request() = %+v, %v; want the updated request", stored, err)
	}
	if diff := cmp.Diff([]string{"submitted/1"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}
	// The state index follows the change.
	for state, want := range map[bot.State]int{bot.StateSubmitting: 0, bot.StateProvisioning: 1} {
		rs, err := db.Requests(ctx, bot.RequestFilter{States: []bot.State{state}})
		if err != nil || len(rs) != want {
			t.Errorf("Requests(%s) = %d requests, %v; want %d", state, len(rs), err, want)
		}
	}

	_, err = db.UpdateRequest(ctx, "R2", func(*bot.Request) ([]bot.Outgoing, error) {
		t.Error("fn called for a request that does not exist")
		return nil, nil
	})
	if !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("UpdateRequest(R2) = %v, want bot.ErrNotFound", err)
	}
}

func TestUpdateRequestError(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	r := request("R1", "room1", bot.StateAwaitingApproval, t0)
	if err := db.CreateRequest(ctx, r, nil); err != nil {
		t.Fatal(err)
	}

	errAlreadyDecided := errors.New("already decided")
	tests := []struct {
		name    string
		fn      func(r *bot.Request) ([]bot.Outgoing, error)
		wantErr func(error) bool
	}{{
		name: "fn fails",
		fn: func(r *bot.Request) ([]bot.Outgoing, error) {
			r.State, r.DecidedBy = bot.StateDeclined, "someone"
			return []bot.Outgoing{outgoing("declined")}, errAlreadyDecided
		},
		// Returned as is, not wrapped.
		wantErr: func(err error) bool { return err == errAlreadyDecided },
	}, {
		name: "fn changes the id",
		fn: func(r *bot.Request) ([]bot.Outgoing, error) {
			r.ID, r.State = "R9", bot.StateDeclined
			return []bot.Outgoing{outgoing("declined")}, nil
		},
		wantErr: func(err error) bool { return err != nil },
	}, {
		name: "a message has no key",
		fn: func(r *bot.Request) ([]bot.Outgoing, error) {
			r.State = bot.StateDeclined
			return []bot.Outgoing{outgoing("declined"), {}}, nil
		},
		wantErr: func(err error) bool { return err != nil },
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.UpdateRequest(ctx, "R1", tc.fn)
			if !tc.wantErr(err) {
				t.Errorf("UpdateRequest() = %v, want the other error", err)
			}
			if !cmp.Equal(got, bot.Request{}) {
				t.Errorf("UpdateRequest() returned %+v with its error, want the zero request", got)
			}
			stored, err := db.Request(ctx, "R1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r, stored); diff != "" {
				t.Errorf("Request() after a failed update mismatch (-want +got):\n%s", diff)
			}
			if got := outboxKeys(t, db); len(got) != 0 {
				t.Errorf("Outbox() after a failed update = %v, want none", got)
			}
			for _, state := range []bot.State{bot.StateDeclined, bot.StateAwaitingApproval} {
				rs, err := db.Requests(ctx, bot.RequestFilter{States: []bot.State{state}})
				if want := state == r.State; err != nil || (len(rs) == 1) != want {
					t.Errorf("Requests(%s) = %d requests, %v", state, len(rs), err)
				}
			}
		})
	}
}

func TestUpdateRequests(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	for _, id := range []string{"R1", "R2", "R3"} {
		if err := db.CreateRequest(ctx, request(id, "room1", bot.StateProvisioning, t0), nil); err != nil {
			t.Fatal(err)
		}
	}
	errCard := errors.New("build the card")
	var called []string
	err := db.UpdateRequests(ctx, []string{"R1", "R2", "R9", "R3"}, func(id string, r *bot.Request) ([]bot.Outgoing, error) {
		called = append(called, id)
		if r.ID != id {
			t.Errorf("fn got request %s for id %s", r.ID, id)
		}
		switch id {
		case "R1": // a change with its notice
			r.State, r.WebexStatus = bot.StateProvisioned, "provisioned"
			return []bot.Outgoing{outgoing("R1/provisioned")}, nil
		case "R2": // fails: left as it was, its message not enqueued
			r.State = bot.StateError
			return []bot.Outgoing{outgoing("R2/error")}, errCard
		default: // only postponed
			r.NextPoll = t0.Add(time.Minute)
			return nil, nil
		}
	})
	if !errors.Is(err, errCard) || !errors.Is(err, bot.ErrNotFound) || !strings.Contains(err.Error(), "R2") || !strings.Contains(err.Error(), "R9") {
		t.Errorf("UpdateRequests() = %v, want the errors of R2 (fn) and R9 (not found), each named", err)
	}
	if diff := cmp.Diff([]string{"R1", "R2", "R3"}, called); diff != "" {
		t.Errorf("fn called for (-want +got):\n%s", diff)
	}
	want := map[string]bot.Request{
		"R1": request("R1", "room1", bot.StateProvisioned, t0),
		"R2": request("R2", "room1", bot.StateProvisioning, t0),
		"R3": request("R3", "room1", bot.StateProvisioning, t0),
	}
	r1, r3 := want["R1"], want["R3"]
	r1.WebexStatus, r3.NextPoll = "provisioned", t0.Add(time.Minute)
	want["R1"], want["R3"] = r1, r3
	for id, w := range want {
		got, err := db.Request(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("Request(%s) after UpdateRequests (-want +got):\n%s", id, diff)
		}
	}
	if diff := cmp.Diff([]string{"R1/provisioned/1"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() (-want +got):\n%s", diff)
	}
	if err := db.Check(ctx); err != nil {
		t.Errorf("Check() after UpdateRequests = %v", err)
	}

	// A failure to write (a message without a key) saves nothing.
	err = db.UpdateRequests(ctx, []string{"R2", "R3"}, func(id string, r *bot.Request) ([]bot.Outgoing, error) {
		r.State = bot.StateError
		if id == "R3" {
			return []bot.Outgoing{{}}, nil
		}
		return nil, nil
	})
	if err == nil {
		t.Error("UpdateRequests() with a message without a key = nil, want an error")
	}
	for _, id := range []string{"R2", "R3"} {
		if got, err := db.Request(ctx, id); err != nil || got.State != bot.StateProvisioning {
			t.Errorf("Request(%s) after a failed write: state %s, %v; want %s", id, got.State, err, bot.StateProvisioning)
		}
	}
}

func TestRequests(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	// Created in a scrambled order; B and C at the same time.
	a := request("A", "room1", bot.StateProvisioning, t0)
	b := request("B", "room2", bot.StateProvisioned, t0.Add(time.Hour))
	c := request("C", "room1", bot.StateUpdating, t0.Add(time.Hour))
	d := request("D", "room1", bot.StateProvisioning, t0.Add(2*time.Hour))
	e := request("E", "room2", bot.StateAwaitingApproval, t0.Add(-time.Hour))
	for _, r := range []bot.Request{c, a, e, d, b} {
		if err := db.CreateRequest(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	polled := []bot.State{bot.StateProvisioning, bot.StateUpdating, bot.StatePendingReview}

	tests := []struct {
		name string
		f    bot.RequestFilter
		want []bot.Request
	}{
		{"all", bot.RequestFilter{}, []bot.Request{d, c, b, a, e}},
		{"room", bot.RequestFilter{RoomID: "room1"}, []bot.Request{d, c, a}},
		{"unknown room", bot.RequestFilter{RoomID: "room9"}, nil},
		{"one state", bot.RequestFilter{States: []bot.State{bot.StateProvisioning}}, []bot.Request{d, a}},
		{"polled states", bot.RequestFilter{States: polled}, []bot.Request{d, c, a}},
		{"a state twice", bot.RequestFilter{States: []bot.State{bot.StateUpdating, bot.StateUpdating}}, []bot.Request{c}},
		{"state of none", bot.RequestFilter{States: []bot.State{bot.StateError}}, nil},
		{"room and states", bot.RequestFilter{RoomID: "room2", States: []bot.State{bot.StateProvisioned, bot.StateProvisioning}}, []bot.Request{b}},
		{"limit", bot.RequestFilter{Limit: 2}, []bot.Request{d, c}},
		{"limit above count", bot.RequestFilter{Limit: 10}, []bot.Request{d, c, b, a, e}},
		{"negative limit", bot.RequestFilter{Limit: -1}, []bot.Request{d, c, b, a, e}},
		{"room, states and limit", bot.RequestFilter{RoomID: "room1", States: polled, Limit: 2}, []bot.Request{d, c}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.Requests(ctx, tc.f)
			if err != nil {
				t.Fatalf("Requests(%+v) = %v", tc.f, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Requests(%+v) mismatch (-want +got):\n%s", tc.f, diff)
			}
		})
	}
}

// benchmarkRequests fills a store with 10,000 requests, 1 in 100 of them in a polled state
// and the rest ended, spread over 50 rooms, and measures Requests(f).
func benchmarkRequests(b *testing.B, f bot.RequestFilter) {
	ctx := b.Context()
	db, err := store.Open(filepath.Join(b.TempDir(), "attachbot.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for i := range 10_000 {
		state := bot.StateProvisioned
		if i%100 == 0 {
			state = bot.StateProvisioning
		}
		r := request(fmt.Sprintf("R%05d", i), fmt.Sprintf("room%02d", i%50), state, t0.Add(time.Duration(i)*time.Minute))
		if err := db.CreateRequest(ctx, r, nil); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	for b.Loop() {
		rs, err := db.Requests(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		n = len(rs)
	}
	b.ReportMetric(float64(n), "requests/op")
}

// BenchmarkRequestsInFlight is the status job's query: the polled requests, through the
// state index.
func BenchmarkRequestsInFlight(b *testing.B) {
	benchmarkRequests(b, bot.RequestFilter{States: []bot.State{bot.StateProvisioning, bot.StateUpdating, bot.StatePendingReview}})
}

// BenchmarkRequestsRoom is a space's listing: a full scan, for comparison.
func BenchmarkRequestsRoom(b *testing.B) {
	benchmarkRequests(b, bot.RequestFilter{RoomID: "room07", Limit: 10})
}
