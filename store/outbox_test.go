package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/store"
)

func TestEnqueueIdempotent(t *testing.T) {
	tests := []struct {
		name   string
		before func(t *testing.T, db *store.DB) // what happened to key "a" first
		want   []string
	}{{
		name:   "twice in one call",
		before: func(t *testing.T, db *store.DB) {},
		want:   []string{"a/1", "b/2"},
	}, {
		name:   "already waiting",
		before: func(t *testing.T, db *store.DB) { mustEnqueue(t, db, outgoing("a")) },
		want:   []string{"a/1", "b/2"},
	}, {
		name: "already sent",
		before: func(t *testing.T, db *store.DB) {
			mustEnqueue(t, db, outgoing("a"))
			if err := db.MarkSent(t.Context(), "a", t0); err != nil {
				t.Fatal(err)
			}
		},
		want: []string{"b/2"},
	}, {
		name: "already given up on",
		before: func(t *testing.T, db *store.DB) {
			mustEnqueue(t, db, outgoing("a"))
			if err := db.DeadLetterOutgoing(t.Context(), outgoing("a"), t0, nil); err != nil {
				t.Fatal(err)
			}
		},
		want: []string{"b/2"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := mustOpen(t)
			tc.before(t, db)
			changed := outgoing("a")
			changed.Message.Markdown = "changed"
			mustEnqueue(t, db, outgoing("a"), changed, outgoing("b"), outgoing("a"))
			if diff := cmp.Diff(tc.want, outboxKeys(t, db)); diff != "" {
				t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnqueueNoKey(t *testing.T) {
	db := mustOpen(t)
	err := db.Enqueue(t.Context(), []bot.Outgoing{outgoing("a"), {Message: bot.OutMessage{RoomID: "room1"}}})
	if err == nil {
		t.Fatal("Enqueue() of a message without a key = nil, want an error")
	}
	if got := outboxKeys(t, db); len(got) != 0 {
		t.Errorf("Outbox() after a failed Enqueue = %v, want none", got)
	}
}

func TestOutboxOrder(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	// More than 256 messages, so that a key encoding that does not sort like the numbers
	// (little-endian, or decimal text) would show.
	var want []bot.Outgoing
	for i := range 300 {
		o := outgoing(fmt.Sprintf("m%03d", 299-i)) // keys sort the other way
		mustEnqueue(t, db, o)
		o.Seq = uint64(i + 1)
		want = append(want, o)
	}
	got, err := db.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}
}

func TestSaveOutgoing(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	mustEnqueue(t, db, outgoing("a"), outgoing("b"))

	o := outgoing("a")
	o.Seq = 99 // ignored: the store keeps the Seq it assigned
	o.Attempts, o.NotBefore, o.LastError = 1, t0.Add(time.Minute), "webex 429"
	if err := db.SaveOutgoing(ctx, o); err != nil {
		t.Fatalf("SaveOutgoing() = %v", err)
	}
	got, err := db.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o.Seq = 1
	b := outgoing("b")
	b.Seq = 2
	if diff := cmp.Diff([]bot.Outgoing{o, b}, got); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}

	if err := db.MarkSent(ctx, "a", t0); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a", "unknown", ""} {
		if err := db.SaveOutgoing(ctx, outgoing(key)); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("SaveOutgoing(%q) = %v, want bot.ErrNotFound", key, err)
		}
	}
	if diff := cmp.Diff([]string{"b/2"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}
}

func TestMarkSent(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	mustEnqueue(t, db, outgoing("a"), outgoing("b"))

	if err := db.MarkSent(ctx, "a", t0); err != nil {
		t.Fatalf("MarkSent() = %v", err)
	}
	if err := db.MarkSent(ctx, "a", t0); err != nil {
		t.Errorf("MarkSent() again = %v, want nil", err)
	}
	if err := db.MarkSent(ctx, "unknown", t0); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("MarkSent(unknown) = %v, want bot.ErrNotFound", err)
	}
	if diff := cmp.Diff([]string{"b/2"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}
}

func TestDeadLetterOutgoing(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	mustEnqueue(t, db, outgoing("a"), outgoing("b"))

	o := outgoing("a")
	o.Attempts, o.LastError = 5, "webex 400"
	if err := db.DeadLetterOutgoing(ctx, o, t0, []bot.Outgoing{outgoing("a-undelivered")}); err != nil {
		t.Fatalf("DeadLetterOutgoing() = %v", err)
	}
	if err := db.DeadLetterOutgoing(ctx, o, t0, []bot.Outgoing{outgoing("again")}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("DeadLetterOutgoing() again = %v, want bot.ErrNotFound", err)
	}
	// The notice came with the first; the failed second enqueued nothing.
	if diff := cmp.Diff([]string{"b/2", "a-undelivered/3"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() mismatch (-want +got):\n%s", diff)
	}
}
