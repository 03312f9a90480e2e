package bot

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseBatchID(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		ok     bool
		looks  bool // LooksLikeBatchID
		reason string
	}{
		{"B-K7QM2X", "B-K7QM2X", true, true, "as shown"},
		{" #b-k7qm2x ", "B-K7QM2X", true, true, "typed in lower case, with a #"},
		{"B-K7QM2", "", false, true, "too short: still meant as a batch"},
		{"B-K7QM21", "", false, true, "1 is not in the alphabet"},
		{"K7QM2X", "", false, false, "a request id"},
		{"BK7QM2X", "", false, false, "no dash"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			got, ok := ParseBatchID(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseBatchID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if got := LooksLikeBatchID(tt.in); got != tt.looks {
				t.Errorf("LooksLikeBatchID(%q) = %v, want %v", tt.in, got, tt.looks)
			}
		})
	}
	id := batchID("messages/created/abc", 0)
	if got, ok := ParseBatchID(id); !ok || got != id {
		t.Errorf("a made batch id %q does not parse: %q, %v", id, got, ok)
	}
	if _, ok := ParseRequestID(id); ok {
		t.Errorf("the batch id %q parses as a request id", id)
	}
}

// TestWithoutGrouped: a batch's request loses its thread notices, and keeps its approval card,
// the answers to commands and the deletions; a one-line attach's request keeps everything.
func TestWithoutGrouped(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	r := Request{ID: "K7QM2X", RoomID: "room", ThreadID: "thread", BatchID: "B-AAAAAA"}
	thread := OutMessage{RoomID: "room", ParentID: "thread", Markdown: "x"}
	out := []Outgoing{
		requestMessage(r.ID, "created", t0, thread),
		requestMessage(r.ID, "status/1/provisioned", t0, thread),
		requestMessage(r.ID, whatApproval, t0, OutMessage{ToPersonEmail: "admin@example.com"}),
		requestMessage(r.ID, "retried/ev-1", t0, thread),
		requestMessage(r.ID, whatUndelivered+whatApproval, t0, thread),
		deleteCard("card-1", t0),
		{Key: partnerNoteKey("ev-2"), RequestID: r.ID, Message: thread},
	}
	keys := func(out []Outgoing) []string {
		var ks []string
		for _, o := range out {
			ks = append(ks, o.Key)
		}
		return ks
	}
	want := []string{"req/K7QM2X/approval", "req/K7QM2X/retried/ev-1", "req/K7QM2X/undelivered/approval", "delete/card-1", "ev-2#partner"}
	if diff := cmp.Diff(want, keys(withoutGrouped(r, out))); diff != "" {
		t.Errorf("a batch's request (-want +got):\n%s", diff)
	}
	r.BatchID = ""
	if diff := cmp.Diff(keys(out), keys(withoutGrouped(r, out))); diff != "" {
		t.Errorf("a one-line attach's request (-want +got):\n%s", diff)
	}
}
