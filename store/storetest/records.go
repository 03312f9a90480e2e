package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"attachbot/bot"
)

// request returns a request with id in state s of room, created at created.
func request(id string, s bot.State, room string, created time.Time) bot.Request {
	return bot.Request{ID: id, State: s, RoomID: room, Created: created, Updated: created, RequestedBy: "pa@partner.example"}
}

// requestIDs returns the ids of rs.
func requestIDs(rs []bot.Request) []string {
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func testRequests(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	for _, r := range []bot.Request{
		request("r1", bot.StateAwaitingApproval, "room-1", t0),
		request("r2", bot.StateProvisioning, "room-2", t0.Add(time.Minute)),
		request("r3", bot.StateProvisioning, "room-1", t0.Add(time.Minute)),
	} {
		if err := s.CreateRequest(ctx, r, []bot.Outgoing{reply("created-" + r.ID)}); err != nil {
			t.Fatalf("CreateRequest(%s) = %v", r.ID, err)
		}
	}
	if err := s.CreateRequest(ctx, request("r1", bot.StateError, "room-9", t0), []bot.Outgoing{reply("again")}); !errors.Is(err, bot.ErrExists) {
		t.Errorf("creating r1 twice: %v, want ErrExists", err)
	}
	diff(t, "outbox after the creations", []string{"created-r1", "created-r2", "created-r3"}, outbox(t, s))
	if _, err := s.Request(ctx, "missing"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Request(missing) = %v, want ErrNotFound", err)
	}
	got, err := s.UpdateRequest(ctx, "r1", func(r *bot.Request) ([]bot.Outgoing, error) {
		r.State = bot.StateSubmitting
		return []bot.Outgoing{reply("submitting-r1")}, nil
	})
	if err != nil || got.State != bot.StateSubmitting {
		t.Fatalf("UpdateRequest(r1) = %+v, %v", got, err)
	}
	refused := errors.New("refused")
	if _, err := s.UpdateRequest(ctx, "r1", func(r *bot.Request) ([]bot.Outgoing, error) {
		r.State = bot.StateError
		return []bot.Outgoing{reply("never")}, refused
	}); !errors.Is(err, refused) {
		t.Errorf("UpdateRequest with a failing fn = %v, want its error", err)
	}
	if r, err := s.Request(ctx, "r1"); err != nil || r.State != bot.StateSubmitting {
		t.Errorf("r1 after the failed update = %s, %v; want submitting", r.State, err)
	}
	err = s.UpdateRequests(ctx, []string{"r2", "missing", "r3"}, func(id string, r *bot.Request) ([]bot.Outgoing, error) {
		if id == "r3" {
			return nil, refused
		}
		r.State = bot.StateProvisioned
		return []bot.Outgoing{reply("done-" + id)}, nil
	})
	if !errors.Is(err, bot.ErrNotFound) || !errors.Is(err, refused) {
		t.Errorf("UpdateRequests = %v, want ErrNotFound and refused joined", err)
	}
	diff(t, "outbox after the updates", []string{"created-r1", "created-r2", "created-r3", "submitting-r1", "done-r2"}, outbox(t, s))
	for _, c := range []struct {
		name string
		f    bot.RequestFilter
		want []string
	}{
		{"all, newest first, then by id", bot.RequestFilter{}, []string{"r3", "r2", "r1"}},
		{"one room", bot.RequestFilter{RoomID: "room-1"}, []string{"r3", "r1"}},
		{"states", bot.RequestFilter{States: []bot.State{bot.StateProvisioned, bot.StateSubmitting}}, []string{"r2", "r1"}},
		{"state and room", bot.RequestFilter{RoomID: "room-1", States: []bot.State{bot.StateProvisioning}}, []string{"r3"}},
		{"limit", bot.RequestFilter{Limit: 1}, []string{"r3"}},
	} {
		rs, err := s.Requests(ctx, c.f)
		if err != nil {
			t.Fatalf("Requests(%s) = %v", c.name, err)
		}
		diff(t, "Requests: "+c.name, c.want, requestIDs(rs))
	}
}

func testSubscriptionsAndTokens(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	sub := bot.Subscription{RoomID: "room-1", Schedule: "0 8 * * 1", CreatedBy: "pa@partner.example", Created: t0}
	for _, x := range []bot.Subscription{sub, {RoomID: "room-0", Schedule: "@daily", Created: t0}} {
		if err := s.SaveSubscription(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	ok, err := s.RecordDigest(ctx, sub, t0.Add(time.Hour), []bot.Outgoing{reply("digest-1")})
	if err != nil || !ok {
		t.Fatalf("RecordDigest = %t, %v; want true", ok, err)
	}
	// A second run read the subscription before the first recorded it: it sends nothing.
	if ok, err := s.RecordDigest(ctx, sub, t0.Add(time.Hour), []bot.Outgoing{reply("digest-2")}); err != nil || ok {
		t.Errorf("RecordDigest on a stale subscription = %t, %v; want false", ok, err)
	}
	subs, err := s.Subscriptions(ctx)
	if err != nil || len(subs) != 2 || subs[0].RoomID != "room-0" || !subs[1].LastSent.Equal(t0.Add(time.Hour)) {
		t.Errorf("Subscriptions = %+v, %v; want room-0, then room-1 sent at %s", subs, err, t0.Add(time.Hour))
	}
	diff(t, "outbox after the digests", []string{"digest-1"}, outbox(t, s))
	if err := s.DeleteSubscription(ctx, "room-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubscription(ctx, "room-1"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
	if _, err := s.Tokens(ctx, "partner"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Tokens before any = %v, want ErrNotFound", err)
	}
	want := bot.Tokens{AccessToken: "a2", Expires: t0.Add(time.Hour), RefreshToken: "r2"}
	for _, tok := range []bot.Tokens{{AccessToken: "a1", RefreshToken: "r1"}, want} {
		if err := s.SaveTokens(ctx, "partner", tok); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Tokens(ctx, "partner")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "tokens as saved last", want, got)
}

func testDeadLetters(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	mustAdd(t, s, event("a", t0))
	if err := s.DeadLetterEvent(ctx, event("a", t0), "", t0, []bot.Outgoing{reply("sorry-a")}); err != nil {
		t.Fatalf("DeadLetterEvent = %v", err)
	}
	diff(t, "inbox after the dead letter", []string{}, inbox(t, s))
	diff(t, "the dead event delivered again", []bool{false}, mustAdd(t, s, event("a", t0)))
	if err := s.DeadLetterOutgoing(ctx, reply("sorry-a"), t0, []bot.Outgoing{reply("alert")}); err != nil {
		t.Fatalf("DeadLetterOutgoing = %v", err)
	}
	diff(t, "outbox after the dead letter", []string{"alert"}, outbox(t, s))
	if err := s.DeadLetterOutgoing(ctx, reply("sorry-a"), t0, nil); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("dead-lettering twice: %v, want ErrNotFound", err)
	}
	if err := s.MarkSent(ctx, "unknown", t0); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("MarkSent(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.SaveOutgoing(ctx, reply("sorry-a")); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("SaveOutgoing of a message that left = %v, want ErrNotFound", err)
	}
	if err := s.Enqueue(ctx, []bot.Outgoing{reply("sorry-a")}); err != nil {
		t.Fatal(err)
	}
	diff(t, "the dead message enqueued again", []string{"alert"}, outbox(t, s))
}
