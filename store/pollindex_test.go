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

// TestPollIndexEntriesWithoutValues: a file whose poll index entries have no values (as
// written before they held what a poll reads) needs no migration: a claim reads those
// requests, Check accepts them, and a request's next write gives its entry a value.
func TestPollIndexEntriesWithoutValues(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := bot.Request{ID: "r1", Created: at, State: bot.StateProvisioning, RoomID: "room-1", NextPoll: at,
		CustomerID: "customer-1", WebexStatus: "provisioning", Spec: bot.AttachSpec{OrgID: "org-1"}}
	if err := db.CreateRequest(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	mustClose(t, db)
	if err := store.EmptyPollValues(path); err != nil {
		t.Fatal(err)
	}
	if db, err = store.Open(path, store.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Check(ctx); err != nil {
		t.Errorf("Check with entries without values = %v", err)
	}
	if v, found, err := store.PollIndexValue(db, "r1"); err != nil || !found || len(v) != 0 {
		t.Fatalf("the entry of r1 = %q, %v, %v; want an empty one", v, found, err)
	}
	claims, err := db.ClaimPolls(ctx, "A", at, at.Add(time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.PollClaim{{ID: "r1", CustomerID: "customer-1", WebexStatus: "provisioning", OrgID: "org-1", NextPoll: at}}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("the claim of an entry without a value (-want +got):\n%s", diff)
	}
	if _, err := db.UpdateRequest(ctx, "r1", func(r *bot.Request) ([]bot.Outgoing, error) {
		r.WebexStatus = "updating"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Check(ctx); err != nil {
		t.Errorf("Check after the update = %v", err)
	}
	if v, found, err := store.PollIndexValue(db, "r1"); err != nil || !found || len(v) == 0 {
		t.Errorf("the entry of r1 after the update = %q, %v, %v; want one with a value", v, found, err)
	}
	claims, err = db.ClaimPolls(ctx, "B", at.Add(time.Minute), at.Add(2*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	want[0].WebexStatus = "updating"
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("the claim after the update (-want +got):\n%s", diff)
	}
}

// TestCheckFindsAStalePollIndexValue: Check reports an entry of the poll index whose value is
// not what the request as saved gives, and a claim refuses one it cannot read.
func TestCheckFindsAStalePollIndexValue(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	db := mustOpen(t)
	r := bot.Request{ID: "r1", Created: at, State: bot.StateProvisioning, RoomID: "room-1", NextPoll: at, CustomerID: "customer-1"}
	if err := db.CreateRequest(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	stale := bot.Request{ID: "r1", CustomerID: "customer-0"}
	if err := store.SetPollIndexValue(db, "r1", store.PollValue(stale)); err != nil {
		t.Fatal(err)
	}
	if err := db.Check(ctx); err == nil || !strings.Contains(err.Error(), "poll index entry of request r1") {
		t.Errorf("Check with a stale poll index value = %v, want an error naming r1's entry", err)
	}
	if err := store.SetPollIndexValue(db, "r1", []byte{9}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimPolls(ctx, "A", at, at.Add(time.Minute), 10); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("ClaimPolls with an unreadable poll index value = %v, want an error naming its version", err)
	}
	if err := store.SetPollIndexValue(db, "r1", store.PollValue(r)); err != nil {
		t.Fatal(err)
	}
}
