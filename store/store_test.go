package store_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	berrors "go.etcd.io/bbolt/errors"

	"attachbot/bot"
	"attachbot/store"
)

// t0 is the tests' "now".
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// mustOpen opens a new store in t.TempDir. When the test ends, it checks the file's
// consistency and closes it.
func mustOpen(t *testing.T) *store.DB {
	t.Helper()
	return mustOpenAt(t, filepath.Join(t.TempDir(), "attachbot.db"))
}

// mustOpenAt opens the store at path like mustOpen.
func mustOpenAt(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { mustClose(t, db) })
	return db
}

// mustClose checks db's consistency and closes it.
func mustClose(t *testing.T, db *store.DB) {
	t.Helper()
	// t.Context is cancelled before cleanups run.
	if err := db.Check(context.Background()); err != nil {
		t.Errorf("Check() = %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

func TestPing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v", err)
	}
	mustClose(t, db)
	if err := db.Ping(t.Context()); err == nil {
		t.Error("Ping() after Close = nil, want an error")
	}

	// A store that can be read but not written is not healthy: it would lose what it takes.
	ro, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	if err := ro.Ping(t.Context()); err == nil {
		t.Error("Ping() of a read-only store = nil, want an error")
	}
	if _, err := ro.Subscriptions(t.Context()); err != nil {
		t.Errorf("reading a read-only store: %v", err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := store.Open(filepath.Join(dir, "missing.db"), store.Options{ReadOnly: true}); err == nil {
		t.Error("Open(ReadOnly) of a missing file succeeded, want an error")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(ReadOnly) created the file (stat: %v)", err)
	}
}

func TestSandboxMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db := mustOpenAt(t, path)
	for _, step := range []struct {
		name string
		do   func() error
		want bool
	}{
		{"new", func() error { return nil }, false},
		{"marked", func() error { return db.MarkSandbox(t.Context()) }, true},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got, err := db.IsSandbox(t.Context())
		if err != nil || got != step.want {
			t.Errorf("%s: IsSandbox() = %v, %v; want %v", step.name, got, err, step.want)
		}
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "attachbot.db")
	mustOpenAt(t, path)

	// flock locks are per open file, so a second Open in this process contends like a
	// second process would.
	start := time.Now()
	db, err := store.Open(path, store.Options{LockTimeout: 50 * time.Millisecond})
	if err == nil {
		db.Close()
		t.Fatal("second Open of the same file = nil error, want it locked")
	}
	if !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("second Open = %v, want an error wrapping bbolt's ErrTimeout", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "locked by another process") {
		t.Errorf("second Open = %q, want it to name the file and say it is locked", msg)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("second Open took %s, want about the lock timeout", elapsed)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, db)
	if err := store.SetSchemaVersion(path, store.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(path, store.Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open of a newer file = nil error, want a *SchemaVersionError")
	}
	var got *store.SchemaVersionError
	if !errors.As(err, &got) {
		t.Fatalf("Open of a newer file = %v, want a *SchemaVersionError", err)
	}
	want := &store.SchemaVersionError{Path: path, Version: store.SchemaVersion + 1, Supported: store.SchemaVersion}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Open of a newer file: SchemaVersionError mismatch (-want +got):\n%s", diff)
	}

	// The refused Open released the file: it can be opened once the version is back.
	if err := store.SetSchemaVersion(path, store.SchemaVersion); err != nil {
		t.Fatal(err)
	}
	mustOpenAt(t, path)
}

// TestReopen checks that everything survives closing and reopening the file.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs := []bot.Event{event("messages/created/M1", t0), event("messages/created/M2", t0.Add(time.Second))}
	for _, ev := range evs {
		mustAddEvent(t, db, ev)
	}
	mustAddEvent(t, db, event("messages/created/M0", t0))
	if err := db.FinishEvent(ctx, "messages/created/M0", "", t0, []bot.Outgoing{outgoing("a"), outgoing("b")}); err != nil {
		t.Fatal(err)
	}
	req := request("R1", "room1", bot.StateProvisioning, t0)
	if err := db.CreateRequest(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	sub := bot.Subscription{RoomID: "room1", Schedule: "0 8 * * 1", CreatedBy: "ann@partner.example", Created: t0}
	if err := db.SaveSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	tok := bot.Tokens{AccessToken: "at", Expires: t0.Add(time.Hour), RefreshToken: "rt"}
	if err := db.SaveTokens(ctx, "partner", tok); err != nil {
		t.Fatal(err)
	}
	mustClose(t, db)

	db = mustOpenAt(t, path)
	if diff := cmp.Diff(evs, mustEvents(t, db)); diff != "" {
		t.Errorf("Events() after reopen mismatch (-want +got):\n%s", diff)
	}
	// The sequence survives too: the next message comes after the first two.
	mustEnqueue(t, db, outgoing("c"))
	if diff := cmp.Diff([]string{"a/1", "b/2", "c/3"}, outboxKeys(t, db)); diff != "" {
		t.Errorf("Outbox() after reopen mismatch (-want +got):\n%s", diff)
	}
	gotReq, err := db.Request(ctx, "R1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(req, gotReq); diff != "" {
		t.Errorf("Request() after reopen mismatch (-want +got):\n%s", diff)
	}
	gotSubs, err := db.Subscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]bot.Subscription{sub}, gotSubs); diff != "" {
		t.Errorf("Subscriptions() after reopen mismatch (-want +got):\n%s", diff)
	}
	gotTok, err := db.Tokens(ctx, "partner")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tok, gotTok); diff != "" {
		t.Errorf("Tokens() after reopen mismatch (-want +got):\n%s", diff)
	}
	// Processed keys survive: a finished event stays deduplicated.
	if added, err := db.AddEvent(ctx, event("messages/created/M0", t0)); added || err != nil {
		t.Errorf("AddEvent(M0) after reopen = %t, %v; want false, nil", added, err)
	}
}

func TestCheckFindsBrokenIndex(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "attachbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := request("R1", "room1", bot.StateProvisioning, t0)
	if err := db.CreateRequest(t.Context(), r, nil); err != nil {
		t.Fatal(err)
	}
	if err := store.Unindex(db, r); err != nil {
		t.Fatal(err)
	}
	if err := db.Check(t.Context()); err == nil {
		t.Error("Check() with a request missing from the state index = nil, want an error")
	}
}

// TestCanceled checks that every method gives up at once when its context is done.
func TestCanceled(t *testing.T) {
	db := mustOpen(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	noop := func(*bot.Request) ([]bot.Outgoing, error) { return nil, nil }
	calls := map[string]func() error{
		"Ping":               func() error { return db.Ping(ctx) },
		"Check":              func() error { return db.Check(ctx) },
		"AddEvent":           func() error { _, err := db.AddEvent(ctx, event("k", t0)); return err },
		"Events":             func() error { _, err := db.Events(ctx); return err },
		"SaveEvent":          func() error { return db.SaveEvent(ctx, event("k", t0)) },
		"FinishEvent":        func() error { return db.FinishEvent(ctx, "k", "", t0, nil) },
		"DeadLetterEvent":    func() error { return db.DeadLetterEvent(ctx, event("k", t0), "", t0, nil) },
		"PruneProcessed":     func() error { _, err := db.PruneProcessed(ctx, t0); return err },
		"Enqueue":            func() error { return db.Enqueue(ctx, []bot.Outgoing{outgoing("k")}) },
		"Outbox":             func() error { _, err := db.Outbox(ctx); return err },
		"SaveOutgoing":       func() error { return db.SaveOutgoing(ctx, outgoing("k")) },
		"MarkSent":           func() error { return db.MarkSent(ctx, "k", t0) },
		"DeadLetterOutgoing": func() error { return db.DeadLetterOutgoing(ctx, outgoing("k"), t0, nil) },
		"CreateRequest":      func() error { return db.CreateRequest(ctx, request("R", "r", bot.StateSubmitting, t0), nil) },
		"Request":            func() error { _, err := db.Request(ctx, "R"); return err },
		"UpdateRequest":      func() error { _, err := db.UpdateRequest(ctx, "R", noop); return err },
		"UpdateRequests": func() error {
			return db.UpdateRequests(ctx, []string{"R"}, func(string, *bot.Request) ([]bot.Outgoing, error) { return nil, nil })
		},
		"Requests":           func() error { _, err := db.Requests(ctx, bot.RequestFilter{}); return err },
		"SaveSubscription":   func() error { return db.SaveSubscription(ctx, bot.Subscription{RoomID: "r"}) },
		"DeleteSubscription": func() error { return db.DeleteSubscription(ctx, "r") },
		"Subscriptions":      func() error { _, err := db.Subscriptions(ctx); return err },
		"RecordDigest": func() error {
			_, err := db.RecordDigest(ctx, bot.Subscription{RoomID: "r"}, t0, []bot.Outgoing{outgoing("k")})
			return err
		},
		"SaveTokens": func() error { return db.SaveTokens(ctx, "n", bot.Tokens{}) },
		"Tokens":     func() error { _, err := db.Tokens(ctx, "n"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want context.Canceled", name, err)
		}
	}
	// Nothing was written.
	if err := db.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := mustEvents(t, db); len(got) != 0 {
		t.Errorf("Events() = %v, want none", got)
	}
	if got := outboxKeys(t, db); len(got) != 0 {
		t.Errorf("Outbox() = %v, want none", got)
	}
}

// event returns an inbox event with key, received at received.
func event(key string, received time.Time) bot.Event {
	return bot.Event{Key: key, Resource: "messages", Event: "created", DataID: key, RoomID: "room1", ActorID: "P1", Received: received}
}

// outgoing returns an outbox message with key.
func outgoing(key string) bot.Outgoing {
	return bot.Outgoing{Key: key, Message: bot.OutMessage{RoomID: "room1", Markdown: "about " + key}, Created: t0}
}

func mustAddEvent(t *testing.T, db *store.DB, ev bot.Event) {
	t.Helper()
	added, err := db.AddEvent(t.Context(), ev)
	if err != nil || !added {
		t.Fatalf("AddEvent(%s) = %t, %v; want true, nil", ev.Key, added, err)
	}
}

// mustEvents returns the inbox, after checking that its Seqs rise in its order, with their
// Seqs cleared, to compare with the events as the test added them.
func mustEvents(t *testing.T, db *store.DB) []bot.Event {
	t.Helper()
	evs, err := db.Events(t.Context())
	if err != nil {
		t.Fatalf("Events() = %v", err)
	}
	for i := range evs {
		if evs[i].Seq == 0 || (i > 0 && evs[i].Seq <= evs[i-1].Seq) {
			t.Errorf("event %s has Seq %d, after %d", evs[i].Key, evs[i].Seq, evs[max(i-1, 0)].Seq)
		}
	}
	for i := range evs {
		evs[i].Seq = 0
	}
	return evs
}

func mustEnqueue(t *testing.T, db *store.DB, out ...bot.Outgoing) {
	t.Helper()
	if err := db.Enqueue(t.Context(), out); err != nil {
		t.Fatalf("Enqueue() = %v", err)
	}
}

// outboxKeys returns the outbox as "key/seq" strings, in its order.
func outboxKeys(t *testing.T, db *store.DB) []string {
	t.Helper()
	out, err := db.Outbox(t.Context())
	if err != nil {
		t.Fatalf("Outbox() = %v", err)
	}
	var keys []string
	for _, o := range out {
		keys = append(keys, o.Key+"/"+strconv.FormatUint(o.Seq, 10))
	}
	return keys
}

// olderFile writes a file with fill, then makes it look as version left it (the buckets
// that version did not have are dropped), and opens it.
func olderFile(t *testing.T, version int, missing []string, fill func(db *store.DB) []error) *store.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range append(fill(db), db.Close()) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, bucket := range missing {
		if err := store.DropBucket(path, bucket); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SetSchemaVersion(path, version); err != nil {
		t.Fatal(err)
	}
	return mustOpenAt(t, path)
}

// TestCommitCounts: each write goes through the group commit and is counted once; a write
// alone commits alone.
func TestCommitCounts(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	before := db.CommitCounts()
	if _, err := db.AddEvents(ctx, []bot.Event{event("messages/created/C1", t0), event("messages/created/C2", t0)}); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishEvent(ctx, "messages/created/C1", "", t0, nil); err != nil {
		t.Fatal(err)
	}
	after := db.CommitCounts()
	got := store.CommitCounts{Commits: after.Commits - before.Commits, Writes: after.Writes - before.Writes}
	if diff := cmp.Diff(store.CommitCounts{Commits: 2, Writes: 2}, got); diff != "" {
		t.Errorf("CommitCounts() change (-want +got):\n%s", diff)
	}
}
