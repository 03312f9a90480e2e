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
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	for _, k := range []string{"old", "new"} {
		if _, err := db.AddEvent(ctx, bot.Event{Key: k, Received: at}); err != nil {
			t.Fatal(err)
		}
	}
	reply := bot.Outgoing{Key: "old#0", Created: at, Message: bot.OutMessage{RoomID: "room-1", Markdown: "hi"}}
	steps := []error{
		db.FinishEvent(ctx, "old", at, []bot.Outgoing{reply}),
		db.FinishEvent(ctx, "new", at.Add(48*time.Hour), nil),
		db.MarkSent(ctx, "old#0", at),
		db.Close(),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, bucket := range []string{"processed_by_time", "outbox_done_by_time"} {
		if err := store.DropBucket(path, bucket); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SetSchemaVersion(path, 2); err != nil {
		t.Fatal(err)
	}
	db = mustOpenAt(t, path)
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
