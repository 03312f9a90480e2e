package app

import (
	"context"
	"net/http"
	"testing"
	"time"

	"attachbot/webex/webextest"
)

// TestDecidedCardDeletionSurvivesARestart: the deletion of a decided approval card is outbox
// work like a message. Webex fails it once, attachbot stops before the retry, and the card is
// deleted after the restart.
func TestDecidedCardDeletionSurvivesARestart(t *testing.T) {
	h := newHarness(t, harnessOptions{manualClock: true})
	_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	requestIDIn(t, replies[0])
	card := h.approvalCard(webextest.BigAdminID)

	h.sim.Inject(webextest.Fault{Method: http.MethodDelete, Path: "/v1/messages/*", Status: http.StatusServiceUnavailable, Times: 1})
	if _, err := h.sim.Click(t.Context(), webextest.BigAdminID, card.ID, h.submission(card, "Decline", nil)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := h.sim.WaitFor(ctx, func() bool { return h.sim.CountCalls(http.MethodDelete, "/v1/messages/"+card.ID) == 1 }); err != nil {
		t.Fatalf("waiting for the first DELETE: %v", err)
	}
	h.closeApp(h.app)
	if _, ok := h.sim.Message(card.ID); !ok {
		t.Fatal("the card is gone although its deletion failed")
	}

	h.startApp()
	h.clock.Advance(time.Hour) // past the retry's backoff
	h.settle()
	if _, ok := h.sim.Message(card.ID); ok {
		t.Error("the decided card is still there after the restart")
	}
	if got := h.sim.CountCalls(http.MethodDelete, "/v1/messages/"+card.ID); got != 2 {
		t.Errorf("DELETE /messages/{card} %d times, want 2 (the failed one and the retry)", got)
	}
}
