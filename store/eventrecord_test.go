package store_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/store"
)

// TestInboxKeepsEveryField: the inbox stores an event without what its key says, and hands
// it back whole, whether or not its fields are its key's parts.
func TestInboxKeepsEveryField(t *testing.T) {
	full := func(key, resource, event, dataID string) bot.Event {
		return bot.Event{Key: key, Resource: resource, Event: event, DataID: dataID, ActorID: "P1", RoomID: "room1",
			Created: t0, Received: t0.Add(time.Second), Attempts: 2, NotBefore: t0.Add(time.Minute), LastError: "Webex said 502"}
	}
	keyed := func(resource, event, dataID string) bot.Event {
		return bot.Event{Key: bot.EventKey(resource, event, dataID), Resource: resource, Event: event, DataID: dataID,
			ActorID: "P1", RoomID: "room1", Created: t0, Received: t0.Add(time.Second)}
	}
	tests := []struct {
		name string
		ev   bot.Event
		// stored is what the record has beside the times and the seq, in the order stored.
		stored []string
	}{
		{"the key's parts", keyed("messages", "created", "bXNnLTE"),
			[]string{`"actorId"`, `"roomId"`}},
		{"a data id with slashes", keyed("attachmentActions", "created", "YS9i/Yw+=="),
			[]string{`"actorId"`, `"roomId"`}},
		{"a data id that is not the key's", full("messages/created/M1", "messages", "created", "M2"),
			[]string{`"dataId":"M2"`, `"actorId"`, `"roomId"`, `"attempts":2`, `"lastError"`}},
		{"fields that are not the key's", full("messages/created/M1", "memberships", "deleted", "M1"),
			[]string{`"resource":"memberships"`, `"event":"deleted"`, `"actorId"`}},
		{"empty fields beside a key with parts", full("messages/created/M1", "", "", ""),
			[]string{`"resource":""`, `"event":""`, `"dataId":""`, `"actorId"`}},
		{"a key without three parts", full("mercury:abc", "messages", "created", "M1"),
			[]string{`"resource":"messages"`, `"event":"created"`, `"dataId":"M1"`, `"actorId"`}},
		{"an empty data id the key ends with", full("messages/created/", "messages", "created", ""),
			[]string{`"actorId"`, `"roomId"`, `"attempts":2`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := mustOpen(t)
			mustAddEvent(t, db, tt.ev)
			if diff := cmp.Diff([]bot.Event{tt.ev}, mustEvents(t, db)); diff != "" {
				t.Errorf("Events() (-want +got):\n%s", diff)
			}
			raw, err := store.Raw(db, "events", []byte(tt.ev.Key))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), tt.ev.Key) {
				t.Errorf("the record %q repeats its key", raw)
			}
			record, err := store.EventRecordJSON(raw)
			if err != nil {
				t.Fatalf("the record %q: %v", raw, err)
			}
			rest := record
			for _, s := range tt.stored {
				at := strings.Index(rest, s)
				if at < 0 {
					t.Fatalf("the record %s has no %s (in this order: %q)", record, s, tt.stored)
				}
				rest = rest[at+len(s):]
			}
		})
	}
}

// TestMigrateCompactEvents opens a version 5 file whose inbox holds events as versions 6
// and before stored them (the whole bot.Event; version 5 had no lane index): Open indexes
// them by lane (version 6), then stores them again without what their key says (version
// 7), in binary (version 10), and they read back as they were.
func TestMigrateCompactEvents(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Two events added now, so that the inbox's sequence is where version 5 left it.
	mustAddEvent(t, db, event("placeholder-1", t0))
	mustAddEvent(t, db, event("placeholder-2", t0))
	mustClose(t, db)
	v5 := map[string]string{
		"placeholder-1": `{"key":"messages/created/msg-1","seq":1,"resource":"messages","event":"created","dataId":"msg-1","actorId":"person-1","roomId":"room-1","created":"2026-03-02T09:30:00Z","received":"2026-03-02T09:30:01Z","attempts":0,"notBefore":"0001-01-01T00:00:00Z"}`,
		"placeholder-2": `{"key":"mercury:abc","seq":2,"resource":"attachmentActions","event":"created","dataId":"act-1","actorId":"person-2","roomId":"room-2","received":"2026-03-02T09:31:00Z","attempts":3,"notBefore":"2026-03-02T09:35:00Z","lastError":"Webex said 502"}`,
	}
	// Version 5 keyed each event by its key: the records move to the keys they name.
	for _, placeholder := range []string{"placeholder-1", "placeholder-2"} {
		record := v5[placeholder]
		key := record[len(`{"key":"`):strings.Index(record, `","seq"`)]
		if err := store.PutRaw(path, "events", []byte(key), []byte(record)); err != nil {
			t.Fatal(err)
		}
		if err := store.DeleteRaw(path, "events", []byte(placeholder)); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.DropBucket(path, "event_lanes_by_hash"); err != nil {
		t.Fatal(err)
	}
	if err := store.SetSchemaVersion(path, 5); err != nil {
		t.Fatal(err)
	}
	db = mustOpenAt(t, path)
	got, err := db.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	want := []bot.Event{
		{Key: "messages/created/msg-1", Seq: 1, Resource: "messages", Event: "created", DataID: "msg-1",
			ActorID: "person-1", RoomID: "room-1", Created: at, Received: at.Add(time.Second)},
		{Key: "mercury:abc", Seq: 2, Resource: "attachmentActions", Event: "created", DataID: "act-1",
			ActorID: "person-2", RoomID: "room-2", Received: at.Add(time.Minute), Attempts: 3,
			NotBefore: at.Add(5 * time.Minute), LastError: "Webex said 502"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Events() after the migration (-want +got):\n%s", diff)
	}
	raw, err := store.Raw(db, "events", []byte("messages/created/msg-1"))
	if err != nil {
		t.Fatal(err)
	}
	record, err := store.EventRecordJSON(raw)
	if err != nil {
		t.Fatalf("the migrated record %q: %v", raw, err)
	}
	if want := `{"seq":1,"actorId":"person-1","roomId":"room-1","created":"2026-03-02T09:30:00Z","received":"2026-03-02T09:30:01Z"}`; record != want {
		t.Errorf("the migrated record holds %s, want %s", record, want)
	}
}
