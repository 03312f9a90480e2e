package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
)

// testBatches: a batch and its rows are created once with their messages, read back as
// saved, updated with messages in one transaction (an error from fn changes nothing),
// listed by state oldest first, and all of it survives a restart.
func testBatches(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	rows := []bot.BulkRow{
		{Line: 2, Values: map[string]string{"org": "org-a", "admin": "a@example.com"}},
		{Line: 4, Values: map[string]string{"org": "org-b"}},
	}
	first := bot.Batch{ID: "B-AAAAAA", Source: "ev-1", Created: t0, Updated: t0, State: bot.BatchReady, RoomID: "room-1", FileRows: 3, Automatic: 2}
	if err := s.CreateBatch(ctx, first, rows, []bot.Outgoing{reply("batch-card")}); err != nil {
		t.Fatalf("CreateBatch = %v", err)
	}
	if err := s.CreateBatch(ctx, first, nil, []bot.Outgoing{reply("again")}); !errors.Is(err, bot.ErrExists) {
		t.Fatalf("CreateBatch of a taken id = %v, want ErrExists", err)
	}
	second := bot.Batch{ID: "B-BBBBBB", Source: "ev-2", Created: t0.Add(-time.Hour), State: bot.BatchRunning}
	if err := s.CreateBatch(ctx, second, nil, nil); err != nil {
		t.Fatalf("CreateBatch = %v", err)
	}

	updated, err := s.UpdateBatch(ctx, first.ID, func(b *bot.Batch) ([]bot.Outgoing, error) {
		b.State, b.Next, b.Told = bot.BatchRunning, 1, map[string]bot.State{"K7QM2X": bot.StateProvisioning}
		return []bot.Outgoing{reply("batch-notice")}, nil
	})
	if err != nil {
		t.Fatalf("UpdateBatch = %v", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateBatch(ctx, first.ID, func(b *bot.Batch) ([]bot.Outgoing, error) {
		b.Next = 99
		return []bot.Outgoing{reply("lost")}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("UpdateBatch with a failing fn = %v, want its error", err)
	}
	if _, err := s.UpdateBatch(ctx, "B-CCCCCC", func(*bot.Batch) ([]bot.Outgoing, error) { return nil, nil }); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("UpdateBatch of a missing batch = %v, want ErrNotFound", err)
	}

	s = h.Restart(t, s)
	got, err := s.Batch(ctx, first.ID)
	if err != nil {
		t.Fatalf("Batch = %v", err)
	}
	if diff := cmp.Diff(updated, got); diff != "" {
		t.Errorf("the batch after a restart (-updated +read):\n%s", diff)
	}
	gotRows, err := s.BatchRows(ctx, first.ID)
	if err != nil {
		t.Fatalf("BatchRows = %v", err)
	}
	if diff := cmp.Diff(rows, gotRows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if _, err := s.Batch(ctx, "B-CCCCCC"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Batch of a missing id = %v, want ErrNotFound", err)
	}
	if _, err := s.BatchRows(ctx, "B-CCCCCC"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("BatchRows of a missing id = %v, want ErrNotFound", err)
	}
	out, err := s.Outbox(ctx)
	if err != nil {
		t.Fatalf("Outbox = %v", err)
	}
	if diff := cmp.Diff([]string{"batch-card", "batch-notice"}, outKeys(out)); diff != "" {
		t.Errorf("the outbox (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		states []bot.BatchState
		want   []string
	}{
		{nil, []string{second.ID, first.ID}},
		{[]bot.BatchState{bot.BatchRunning}, []string{second.ID, first.ID}},
		{[]bot.BatchState{bot.BatchReady, bot.BatchSubmitted}, []string{}},
	} {
		bs, err := s.Batches(ctx, tc.states)
		if err != nil {
			t.Fatalf("Batches(%v) = %v", tc.states, err)
		}
		ids := []string{}
		for _, b := range bs {
			ids = append(ids, b.ID)
		}
		if diff := cmp.Diff(tc.want, ids); diff != "" {
			t.Errorf("Batches(%v) (-want +got):\n%s", tc.states, diff)
		}
	}
}
