package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// TestDecidedCardDeletionSurvivesARestart: the deletion of a decided approval card is outbox
// work like a message. Webex fails it once, attachbot stops before the retry, and the card is
// deleted after the restart.
func TestDecidedCardDeletionSurvivesARestart(t *testing.T) {
	h := newHarness(t, apptest.Options{ManualClock: true})
	_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	apptest.RequestIDIn(t, replies[0])
	card := h.approvalCard(webextest.BigAdminID)

	h.Sim.Inject(webextest.Fault{Method: http.MethodDelete, Path: "/v1/messages/*", Status: http.StatusServiceUnavailable, Times: 1})
	if _, err := h.Sim.Click(t.Context(), webextest.BigAdminID, card.ID, h.Submission(card, "Decline", nil)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := h.Sim.WaitFor(ctx, func() bool { return h.Sim.CountCalls(http.MethodDelete, "/v1/messages/"+card.ID) == 1 }); err != nil {
		t.Fatalf("waiting for the first DELETE: %v", err)
	}
	h.CloseApp(h.App())
	if _, ok := h.Sim.Message(card.ID); !ok {
		t.Fatal("the card is gone although its deletion failed")
	}

	h.StartApp()
	h.Clock.Advance(time.Hour) // past the retry's backoff
	h.Settle()
	if _, ok := h.Sim.Message(card.ID); ok {
		t.Error("the decided card is still there after the restart")
	}
	if got := h.Sim.CountCalls(http.MethodDelete, "/v1/messages/"+card.ID); got != 2 {
		t.Errorf("DELETE /messages/{card} %d times, want 2 (the failed one and the retry)", got)
	}
}
