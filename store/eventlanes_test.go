package store_test

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/store"
)

// laneIndexKey is an inbox lane index key: lane's name in the index (the lane's text and
// 0x00 before schema version 9, its hash since), ev's Seq and Received, then its key.
func laneIndexKey(name []byte, ev bot.EventRef) []byte {
	k := append([]byte(nil), name...)
	k = binary.BigEndian.AppendUint64(k, ev.Seq)
	k = binary.BigEndian.AppendUint64(k, uint64(ev.Received.UnixNano()))
	return append(k, ev.Key...)
}

// closedInbox creates a store with evs in its inbox and closes it; it returns the file's path
// and the inbox's EventRefs.
func closedInbox(t *testing.T, evs []bot.Event) (string, []bot.EventRef) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	refs, err := db.EventRefs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path, refs
}

// claimedKeys returns the keys of evs.
func claimedKeys(evs []bot.Event) []string {
	var keys []string
	for _, ev := range evs {
		keys = append(keys, ev.Key)
	}
	return keys
}

// TestMigrateFromVersion8 opens a version 8 file, whose lane index named lanes by their
// text: Open drops it, indexes the waiting events under their lanes' hashes, and only each
// space's first event is handed out.
func TestMigrateFromVersion8(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	ev := func(room, key string) bot.Event { return bot.Event{Key: key, RoomID: room, Received: at} }
	path, refs := closedInbox(t, []bot.Event{ev("room-1", "a1"), ev("room-2", "b1"), ev("room-1", "a2"), ev("", "direct")})
	for _, err := range []error{store.DropBucket(path, "event_lanes_by_hash"), store.SetSchemaVersion(path, 8)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range refs { // the index as version 8 wrote it
		name := append([]byte(ref.Lane()), 0)
		if err := store.PutRaw(path, "event_lanes", laneIndexKey(name, ref), nil); err != nil {
			t.Fatal(err)
		}
	}

	db := mustOpenAt(t, path)
	if err := db.Check(ctx); err != nil {
		t.Errorf("Check after the migration = %v", err)
	}
	if _, err := store.Raw(db, "event_lanes", nil); err == nil {
		t.Error("the lane index by text is still in the file after the migration")
	}
	claimed, err := db.ClaimEvents(ctx, []string{"a2", "b1", "direct"}, "A", at, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b1", "direct"}, claimedKeys(claimed)); diff != "" {
		t.Errorf("claimed after the migration (-want +got):\n%s", diff)
	}
	heads, err := db.ClaimEventLanes(ctx, []string{bot.EventLane("", "room-1")}, "A", at, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a1"}, claimedKeys(heads)); diff != "" {
		t.Errorf("ClaimEventLanes(room-1) after the migration (-want +got):\n%s", diff)
	}
}

// TestVersion8ReadOnlyHasNoHashedLaneIndex: a version 8 file opened read-only is not
// migrated, so a claim of events, and Check, say that it must be opened for writing once.
func TestVersion8ReadOnlyHasNoHashedLaneIndex(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	path, _ := closedInbox(t, []bot.Event{{Key: "a1", RoomID: "room-1", Received: at}})
	db := openOlderReadOnly(t, path, 8, "event_lanes_by_hash")
	ctx := context.Background()
	if _, err := db.ClaimEvents(ctx, []string{"a1"}, "A", at, at.Add(time.Minute)); err == nil || !strings.Contains(err.Error(), "open it for writing") {
		t.Errorf("ClaimEvents on a read-only version 8 file = %v, want an error saying to open it for writing", err)
	}
	if _, err := db.ClaimEventLanes(ctx, []string{bot.EventLane("", "room-1")}, "A", at, at.Add(time.Minute)); err == nil || !strings.Contains(err.Error(), "open it for writing") {
		t.Errorf("ClaimEventLanes on a read-only version 8 file = %v, want an error saying to open it for writing", err)
	}
	if err := db.Check(ctx); err == nil || !strings.Contains(err.Error(), "open it for writing") {
		t.Errorf("Check on a read-only version 8 file = %v, want an error saying to open it for writing", err)
	}
}

// TestEventLaneHashShared: when another lane's event is indexed under the hash of a lane (as
// it is when two lanes' hashes are equal), the lane's head is still its own first event, and
// the other lane's event is still its lane's head.
func TestEventLaneHashShared(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	ev := func(room, key string) bot.Event { return bot.Event{Key: key, RoomID: room, Received: at} }
	path, refs := closedInbox(t, []bot.Event{ev("room-2", "b1"), ev("room-1", "a1"), ev("room-1", "a2")})
	// b1, of room-2, listed first under room-1's hash too.
	room1 := bot.EventLane("", "room-1")
	if err := store.PutRaw(path, "event_lanes_by_hash", laneIndexKey(store.LaneHash(room1), refs[0]), nil); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() }) // Check would find the extra entry

	tests := []struct {
		name  string
		claim func() ([]bot.Event, error)
		want  []string
	}{
		{"ClaimEventLanes(room-1)", func() ([]bot.Event, error) {
			return db.ClaimEventLanes(ctx, []string{room1}, "A", at, at.Add(time.Minute))
		}, []string{"a1"}},
		{"ClaimEvents(a1, a2)", func() ([]bot.Event, error) {
			return db.ClaimEvents(ctx, []string{"a1", "a2"}, "A", at, at.Add(time.Minute))
		}, []string{"a1"}},
		{"ClaimEventLanes(room-2)", func() ([]bot.Event, error) {
			return db.ClaimEventLanes(ctx, []string{bot.EventLane("", "room-2")}, "A", at, at.Add(time.Minute))
		}, []string{"b1"}},
	}
	for _, tt := range tests {
		got, err := tt.claim()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, claimedKeys(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
