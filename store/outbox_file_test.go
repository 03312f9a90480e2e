package store_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/store"
)

// TestOutboxKeepsFiles: a message with a file waits in the outbox with the file's bytes, and
// still has them after the store is closed and opened again, so a message sent after a
// restart carries the file the turn made.
func TestOutboxKeepsFiles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := append(bytes.Repeat([]byte("id,state\r\n"), 1000), 0xff, 0x00)
	o := bot.Outgoing{Key: "messages/created/m-1/1", Created: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC),
		Message: bot.OutMessage{RoomID: "room-1", Markdown: "Your export", File: bot.File{Name: "export.csv", ContentType: "text/csv", Data: data}}}
	if err := db.Enqueue(ctx, []bot.Outgoing{o}); err != nil {
		t.Fatal(err)
	}
	mustClose(t, db)
	db = mustOpenAt(t, path)
	got, err := db.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("outbox after reopening: %d messages, want 1", len(got))
	}
	if diff := cmp.Diff(o.Message, got[0].Message); diff != "" {
		t.Errorf("the message after reopening (-want +got):\n%s", diff)
	}
}
