package store_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/store"
)

var update = flag.Bool("update", false, "rewrite the golden records in testdata")

// TestGoldenRecords guards the on-disk format: a request, an event and an outgoing message
// are stored and their bytes compared with testdata. When this fails because an encoding
// changed on purpose, raise SchemaVersion, add the migration, and run with -update.
func TestGoldenRecords(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	r := request("K7QM2X", "room-1", bot.StateAwaitingApproval, at)
	if err := db.CreateRequest(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	ev := bot.Event{Key: "messages/created/msg-1", Resource: "messages", Event: "created", DataID: "msg-1",
		RoomID: "room-1", ActorID: "person-1", Created: at, Received: at.Add(time.Second)}
	if _, err := db.AddEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	o := bot.Outgoing{Key: "req/K7QM2X/created", RequestID: "K7QM2X", Created: at,
		Message: bot.OutMessage{RoomID: "room-1", ParentID: "thread-K7QM2X", Markdown: "Attach **K7QM2X** waits for approval."}}
	if err := db.Enqueue(ctx, []bot.Outgoing{o}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		golden, bucket string
		key            []byte
	}{
		{"request.json", "requests", []byte(r.ID)},
		{"event.hex", "events", []byte(ev.Key)}, // a binary record: its hex dump
		{"outgoing.json", "outbox", store.SeqKey(1)},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			raw, err := store.Raw(db, tt.bucket, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if filepath.Ext(tt.golden) == ".hex" {
				pretty.WriteString(hex.Dump(raw))
			} else {
				if err := json.Indent(&pretty, raw, "", "  "); err != nil {
					t.Fatalf("stored %s is not JSON: %v", tt.golden, err)
				}
				pretty.WriteByte('\n')
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
				t.Errorf("stored %s changed (-golden +stored); raise SchemaVersion with a migration, then -update:\n%s", tt.golden, diff)
			}
		})
	}
}

// TestMigrateFromVersion1 opens a version 1 file whose outbox entry has no requestId, as
// version 1 wrote it: Open migrates it, and the entry has its request's id.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	if err := db.Enqueue(ctx, []bot.Outgoing{
		{Key: "req/K7QM2X/approval", Created: at, Message: bot.OutMessage{ToPersonEmail: "admin@customer.example", Markdown: "Approve?"}},
		{Key: "messages/created/msg-1#1", Created: at, Message: bot.OutMessage{RoomID: "room-1", Markdown: "Hello"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// What version 1 stored: no requestId.
	v1 := `{"key":"req/K7QM2X/approval","seq":1,"message":{"toPersonEmail":"admin@customer.example","markdown":"Approve?"},"created":"2026-03-02T09:30:00Z","attempts":0}`
	if err := store.PutRaw(path, "outbox", store.SeqKey(1), []byte(v1)); err != nil {
		t.Fatal(err)
	}
	if err := store.SetSchemaVersion(path, 1); err != nil {
		t.Fatal(err)
	}
	db = mustOpenAt(t, path)
	out, err := db.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range out {
		got[o.Key] = o.RequestID
	}
	want := map[string]string{"req/K7QM2X/approval": "K7QM2X", "messages/created/msg-1#1": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request ids after the migration (-want +got):\n%s", diff)
	}
}
