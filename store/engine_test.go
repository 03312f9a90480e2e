package store_test

import (
	"context"
	"path/filepath"
	"strings"
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

// TestMigrateFromVersion5 opens a version 5 file, which had no index of the inbox's lanes:
// Open builds it from the waiting events, and only each space's first event is handed out.
func TestMigrateFromVersion5(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	ev := func(room, key string) bot.Event { return bot.Event{Key: key, RoomID: room, Received: at} }
	db := olderFile(t, 5, []string{"event_lanes_by_hash"}, func(db *store.DB) []error {
		_, err := db.AddEvents(ctx, []bot.Event{ev("room-1", "a1"), ev("room-2", "b1"), ev("room-1", "a2"), ev("", "direct")})
		return []error{err, db.FinishEvent(ctx, "b1", "", at, nil)}
	})
	if err := db.Check(ctx); err != nil {
		t.Errorf("Check after the migration = %v", err)
	}
	claimed, err := db.ClaimEvents(ctx, []string{"a2", "direct"}, "A", at, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range claimed {
		got = append(got, ev.Key)
	}
	if diff := cmp.Diff([]string{"direct"}, got); diff != "" {
		t.Errorf("claimed after the migration (-want +got):\n%s", diff)
	}
	heads, err := db.ClaimEventLanes(ctx, []string{bot.EventLane("", "room-1")}, "A", at, at.Add(time.Minute))
	if err != nil || len(heads) != 1 || heads[0].Key != "a1" {
		t.Errorf("ClaimEventLanes(room-1) after the migration = %v, %v; want a1", heads, err)
	}
}

// TestMigrateFromVersion7 opens a version 7 file, which had no index of the polled requests
// by next poll: Open builds it from the requests in a polled state, and a claim finds the due
// ones, earliest first, and no other.
func TestMigrateFromVersion7(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	req := func(id string, s bot.State, next time.Time) bot.Request {
		return bot.Request{ID: id, Created: at, State: s, RoomID: "room-1", NextPoll: next}
	}
	db := olderFile(t, 7, []string{"polls_by_time"}, func(db *store.DB) []error {
		var errs []error
		for _, r := range []bot.Request{
			req("due-later", bot.StateUpdating, at),
			req("due-first", bot.StateProvisioning, at.Add(-time.Minute)),
			req("due-never-polled", bot.StatePendingReview, time.Time{}),
			req("not-yet", bot.StateProvisioning, at.Add(time.Second)),
			req("ended", bot.StateProvisioned, at.Add(-time.Hour)),
			req("waiting", bot.StateAwaitingApproval, at.Add(-time.Hour)),
		} {
			errs = append(errs, db.CreateRequest(ctx, r, nil))
		}
		return errs
	})
	if err := db.Check(ctx); err != nil {
		t.Errorf("Check after the migration = %v", err)
	}
	claimed, err := db.ClaimPolls(ctx, "A", at, at.Add(time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range claimed {
		got = append(got, r.ID)
	}
	if diff := cmp.Diff([]string{"due-never-polled", "due-first", "due-later"}, got); diff != "" {
		t.Errorf("the due polls after the migration (-want +got):\n%s", diff)
	}
}

// openOlderReadOnly makes the closed file at path look as schema version wrote it, without
// the bucket missing, and opens it read-only (so it is not migrated).
func openOlderReadOnly(t *testing.T, path string, version int, missing string) *store.DB {
	t.Helper()
	for _, err := range []error{store.DropBucket(path, missing), store.SetSchemaVersion(path, version)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestVersion7ReadOnlyHasNoPollIndex: a version 7 file opened read-only is not migrated, so
// a claim of the due polls, and Check, say that it must be opened for writing once.
func TestVersion7ReadOnlyHasNoPollIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "attachbot.db")
	created, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, created)
	db := openOlderReadOnly(t, path, 7, "polls_by_time")
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	if _, err := db.ClaimPolls(context.Background(), "A", at, at.Add(time.Minute), 10); err == nil || !strings.Contains(err.Error(), "open it for writing") {
		t.Errorf("ClaimPolls on a read-only version 7 file = %v, want an error saying to open it for writing", err)
	}
	if err := db.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "open it for writing") {
		t.Errorf("Check on a read-only version 7 file = %v, want an error saying to open it for writing", err)
	}
}
