package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/store"
)

// TestOpenForgetsTheClaimsOfTheProcessBefore: a bbolt file has one process at a time, so
// the claims of the process before end with it, however long their leases were.
func TestOpenForgetsTheClaimsOfTheProcessBefore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	if _, err := db.AddEvent(ctx, bot.Event{Key: "a", Received: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimEvents(ctx, []string{"a"}, "before", at, at.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenAt(t, path)
	got, err := db.ClaimEvents(ctx, []string{"a"}, "next", at, at.Add(time.Minute))
	if err != nil || len(got) != 1 {
		t.Errorf("the next process claims = %d events, %v; want 1", len(got), err)
	}
}

// TestMigrateFromVersion2 opens a version 2 file, which had no time-ordered indexes: Open
// builds them from the processed keys and the outbox keys, and pruning finds the old ones.
func TestMigrateFromVersion2(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	reply := bot.Outgoing{Key: "old#0", Created: at, Message: bot.OutMessage{RoomID: "room-1", Markdown: "hi"}}
	db := olderFile(t, 2, []string{"processed_by_time", "outbox_done_by_time"}, func(db *store.DB) []error {
		_, errOld := db.AddEvent(ctx, bot.Event{Key: "old", Received: at})
		_, errNew := db.AddEvent(ctx, bot.Event{Key: "new", Received: at})
		return []error{errOld, errNew,
			db.FinishEvent(ctx, "old", "", at, []bot.Outgoing{reply}),
			db.FinishEvent(ctx, "new", "", at.Add(48*time.Hour), nil),
			db.MarkSent(ctx, "old#0", at),
		}
	})
	n, err := db.PruneProcessed(ctx, at.Add(time.Hour))
	if err != nil || n != 2 {
		t.Errorf("PruneProcessed after the migration = %d, %v; want 2 (old, old#0)", n, err)
	}
	added, err := db.AddEvents(ctx, []bot.Event{{Key: "old", Received: at}, {Key: "new", Received: at}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]bool{true, false}, added); diff != "" {
		t.Errorf("added after the prune (-want +got):\n%s", diff)
	}
}

// TestMigrateFromVersion3 opens a version 3 file, which had no lane indexes: Open builds them
// from the waiting messages, and the lanes' heads are found, in order.
func TestMigrateFromVersion3(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	msg := func(room, key string) bot.Outgoing {
		return bot.Outgoing{Key: key, Created: at, Message: bot.OutMessage{RoomID: room, Markdown: "hi"}}
	}
	db := olderFile(t, 3, []string{"outbox_lanes", "outbox_lane_heads"}, func(db *store.DB) []error {
		return []error{
			db.Enqueue(ctx, []bot.Outgoing{msg("room-1", "a1"), msg("room-2", "b1"), msg("room-1", "a2"), msg("room-3", "c1")}),
			db.MarkSent(ctx, "c1", at),
		}
	})
	if err := db.Check(ctx); err != nil {
		t.Errorf("Check after the migration = %v", err)
	}
	heads, err := db.DueLanes(ctx, at, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range heads {
		got = append(got, o.Key)
	}
	if diff := cmp.Diff([]string{"a1", "b1"}, got); diff != "" {
		t.Errorf("the lanes' heads after the migration (-want +got):\n%s", diff)
	}
}
