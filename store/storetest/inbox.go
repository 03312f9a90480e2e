package storetest

import (
	"context"
	"testing"
	"time"

	"attachbot/bot"
)

// testEventRefs checks that EventRefs indexes the inbox as Events reads it: the same events,
// in the same order, with their lane and times, a saved retry time included.
func testEventRefs(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	direct := event("direct", t0.Add(time.Second))
	direct.RoomID = ""
	mustAdd(t, s, event("a", t0.Add(time.Minute)), direct, event("done", t0), event("0-late", t0.Add(-time.Hour)))
	if err := s.FinishEvent(ctx, "done", "", t0, nil); err != nil {
		t.Fatal(err)
	}
	retried := event("a", t0.Add(time.Minute))
	retried.Attempts, retried.NotBefore, retried.LastError = 1, t0.Add(time.Hour+time.Nanosecond), "Webex said 503"
	if err := s.SaveEvent(ctx, retried); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := s.EventRefs(ctx)
	if err != nil {
		t.Fatalf("EventRefs = %v", err)
	}
	type ref struct {
		Key, RoomID         string
		Received, NotBefore time.Time
	}
	want := []ref{
		{"a", "room-a", t0.Add(time.Minute), t0.Add(time.Hour + time.Nanosecond)},
		{"direct", "", t0.Add(time.Second), time.Time{}},
		{"0-late", "room-0-late", t0.Add(-time.Hour), time.Time{}},
	}
	got := []ref{}
	for _, r := range refs {
		got = append(got, ref{r.Key, r.RoomID, r.Received, r.NotBefore})
	}
	diff(t, "event refs", want, got)
	fromEvents := []bot.EventRef{}
	for _, ev := range evs {
		fromEvents = append(fromEvents, bot.EventRef{Key: ev.Key, Seq: ev.Seq, RoomID: ev.RoomID, Received: ev.Received, NotBefore: ev.NotBefore})
	}
	diff(t, "event refs as Events reads them", fromEvents, refs)
}
