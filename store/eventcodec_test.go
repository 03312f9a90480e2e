package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/store"
)

// TestEventRecordRoundTrip: an event is read back from its binary record as it was stored,
// whatever its times (before 1970, after 2262, with nanoseconds) and ids (Webex's base64
// ids, stored decoded, and texts that are not exactly base64, stored as they are).
func TestEventRecordRoundTrip(t *testing.T) {
	webexRoom := "Y2lzY29zcGFyazovL3VzL1JPT00vODNjMWViMTEtMmNhZi01MTMwLTg2MTAtZTM5NjVhNGMwYTFh"
	webexPerson := "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9lMGEzYTkxZi0yMzQ2LTRjMTMtYmMyNy1lZDEyYjEwODc3YTk"
	at := time.Date(2026, 11, 30, 5, 18, 10, 568349849, time.UTC)
	tests := []struct {
		name string
		ev   bot.Event
	}{
		{"webex ids", bot.Event{Key: bot.EventKey("messages", "created", "bXNn"), Resource: "messages", Event: "created", DataID: "bXNn",
			ActorID: webexPerson, RoomID: webexRoom, Created: at.Truncate(time.Millisecond), Received: at}},
		{"padded base64 and near misses", bot.Event{Key: "messages/created/M1", Resource: "messages", Event: "created", DataID: "M1",
			ActorID: "cGVyc29u==", RoomID: "P1", Received: at}},
		{"no ids, no times", bot.Event{Key: "mercury:abc", Resource: "attachmentActions", Event: "created", DataID: "act-1"}},
		{"times far from now", bot.Event{Key: "messages/created/M2", Resource: "messages", Event: "created", DataID: "M2",
			ActorID: "a b", RoomID: "ü/+", Created: time.Date(1601, 1, 1, 0, 0, 0, 1, time.UTC),
			Received: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Attempts: 7,
			NotBefore: time.Unix(0, 0).UTC(), LastError: "Webex said 502 \x00 and more"}},
		{"a lone seq-like key", bot.Event{Key: "k", Resource: "", Event: "", DataID: "", Received: at}},
	}
	db := mustOpen(t)
	var want []bot.Event
	for _, tt := range tests {
		added, err := db.AddEvent(context.Background(), tt.ev)
		if err != nil || !added {
			t.Fatalf("%s: AddEvent = %v, %v", tt.name, added, err)
		}
		want = append(want, tt.ev)
	}
	if diff := cmp.Diff(want, mustEvents(t, db)); diff != "" { // mustEvents checks the Seqs
		t.Errorf("Events() (-want +got):\n%s", diff)
	}
}

// TestEventRecordMalformed: a binary inbox record that is cut short, has a field this version
// does not know, bytes after its last field or an impossible time is refused with an error
// that names the event and says what is wrong, never read as something else.
func TestEventRecordMalformed(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	key := "messages/created/M1"
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddEvent(context.Background(), bot.Event{Key: key, Resource: "messages", Event: "created", DataID: "M1",
		ActorID: "P1", RoomID: "room-1", Received: at, Attempts: 2, LastError: "boom"}); err != nil {
		t.Fatal(err)
	}
	good, err := store.Raw(db, "events", []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, want string
		record     []byte
	}{
		{"empty", "format byte", []byte{}},
		{"an unknown field", "field 11", []byte{0x01, 0x80, 0x10}},
		{"a byte too many", "follow the record's last field", append(append([]byte(nil), good...), 0)},
		{"nanoseconds of a second or more", "not under a second", []byte{0x01, 0x80, 0x01, 0x02, 0x80, 0x94, 0xeb, 0xdc, 0x03}},
	}
	for cut := 1; cut < len(good); cut++ {
		tests = append(tests, struct {
			name, want string
			record     []byte
		}{fmt.Sprintf("cut after byte %d", cut), "ends inside a field", good[:cut]})
	}
	for _, tt := range tests {
		if err := store.PutRaw(path, "events", []byte(key), tt.record); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(path, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Events(context.Background())
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s (%x): Events() = %v, want an error about %s saying %q", tt.name, tt.record, err, key, tt.want)
		}
		// The scan reads only some fields of each record, then decodes those it returns.
		if _, err := db.DueEvents(context.Background(), at, 10); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s (%x): DueEvents() = %v, want an error about %s", tt.name, tt.record, err, key)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateFromVersion9 opens a version 9 file, whose inbox held JSON records: Open stores
// every waiting event again as a binary record, and they read back as they were.
func TestMigrateFromVersion9(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	evs := []bot.Event{
		{Key: "messages/created/M1", Resource: "messages", Event: "created", DataID: "M1", ActorID: "P1", RoomID: "room-1",
			Created: at, Received: at.Add(time.Second)},
		{Key: "mercury:abc", Resource: "attachmentActions", Event: "created", DataID: "act-1", ActorID: "P2", RoomID: "room-2",
			Received: at.Add(time.Minute), Attempts: 3, NotBefore: at.Add(5 * time.Minute), LastError: "Webex said 502"},
	}
	path, _ := closedInbox(t, slices.Clone(evs)) // AddEvents sets the Seqs, which mustEvents leaves out
	v9 := map[string]string{                     // as version 9 stored them
		"messages/created/M1": `{"seq":1,"actorId":"P1","roomId":"room-1","created":"2026-03-02T09:30:00Z","received":"2026-03-02T09:30:01Z"}`,
		"mercury:abc": `{"seq":2,"resource":"attachmentActions","event":"created","dataId":"act-1","actorId":"P2","roomId":"room-2",` +
			`"received":"2026-03-02T09:31:00Z","attempts":3,"notBefore":"2026-03-02T09:35:00Z","lastError":"Webex said 502"}`,
	}
	for key, record := range v9 {
		if err := store.PutRaw(path, "events", []byte(key), []byte(record)); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SetSchemaVersion(path, 9); err != nil {
		t.Fatal(err)
	}
	db := mustOpenAt(t, path)
	if diff := cmp.Diff(evs, mustEvents(t, db)); diff != "" {
		t.Errorf("Events() after the migration (-want +got):\n%s", diff)
	}
	for key := range v9 {
		raw, err := store.Raw(db, "events", []byte(key))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.EventRecordJSON(raw); err != nil {
			t.Errorf("the record of %s after the migration is %q, not binary: %v", key, raw, err)
		}
	}
}

// TestDueEventsEarliestOfMany: over many more due events than the limit, stored in an order
// of keys unlike their order of arrival, the scan returns the earliest ones that no one
// holds, in the order of arrival, whole.
func TestDueEventsEarliestOfMany(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	var evs []bot.Event
	for i := range 50 {
		// Keys in an order unlike the order of arrival: 7 is coprime with 50.
		key := fmt.Sprintf("messages/created/M%02d", i*7%50)
		evs = append(evs, bot.Event{Key: key, Resource: "messages", Event: "created", DataID: key[len("messages/created/"):],
			ActorID: "P1", RoomID: fmt.Sprintf("room-%d", i%3), Received: at.Add(time.Duration(i) * time.Second)})
	}
	if _, err := db.AddEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimEvents(ctx, []string{evs[1].Key}, "A", at, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := db.DueEvents(ctx, at, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.Event{evs[0], evs[2], evs[3], evs[4], evs[5]} // evs[1] is held
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DueEvents(limit 5) (-want +got):\n%s", diff)
	}
}
