package app_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// capturedCommand returns the latest delivery of a typed message, as an eavesdropper on the
// bot's webhook would have captured it: signed bytes.
func (h *harness) capturedCommand() webextest.Delivery {
	h.T.Helper()
	ds := h.Sim.Deliveries()
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Resource == "messages" {
			return ds[i]
		}
	}
	h.T.Fatal("no message was delivered")
	return webextest.Delivery{}
}

// withoutCreated returns a delivery's envelope without data.created, as if Webex had left it
// out.
func withoutCreated(t *testing.T, d webextest.Delivery) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(d.Body, &env); err != nil {
		t.Fatal(err)
	}
	delete(env["data"].(map[string]any), "created")
	body, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestStaleReplayOfACommandDoesNothing: a partner admin's typed attach is captured as signed
// bytes. Eight days later, when the bot has pruned the delivery's processed key, the capture
// is replayed: the bot acknowledges it and does nothing (no Webex write, no reply).
func TestStaleReplayOfACommandDoesNothing(t *testing.T) {
	webhookOnly(t, "it replays a captured, signed webhook delivery")
	tests := []struct {
		name string
		// replay sends the captured delivery again; it returns the bot's HTTP status.
		replay func(h *harness, d webextest.Delivery) int
		// unread: the replay is stopped by its signed data.created alone, before the bot
		// reads the message from Webex.
		unread bool
	}{
		{
			// Both checks stop it: the delivery's data.created and the message's created.
			name: "the signed bytes, as captured",
			replay: func(h *harness, d webextest.Delivery) int {
				got, err := h.Sim.Redeliver(h.T.Context(), d)
				if err != nil {
					h.T.Fatal(err)
				}
				return got.Status
			},
		},
		{
			// Webex cannot give the message (deleted since, or a fault): only the signed
			// data.created can stop the replay, and it does so before any read.
			name: "the message cannot be read from Webex",
			replay: func(h *harness, d webextest.Delivery) int {
				h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/messages/" + d.DataID, Status: http.StatusNotFound})
				got, err := h.Sim.Redeliver(h.T.Context(), d)
				if err != nil {
					h.T.Fatal(err)
				}
				return got.Status
			},
			unread: true,
		},
		{
			// A delivery that does not say when the message was created is judged by the
			// message Webex returns.
			name: "an envelope without data.created",
			replay: func(h *harness, d webextest.Delivery) int {
				got, err := h.Sim.SendSigned(h.T.Context(), d.TargetURL, h.Cfg.WebhookSecret, withoutCreated(h.T, d))
				if err != nil {
					h.T.Fatal(err)
				}
				return got.Status
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{ManualClock: true})

			// The attach reaches the bot, which cannot read it from Webex and gives it up;
			// its key is remembered as processed. Someone captured the signed delivery.
			h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/messages/*", Status: http.StatusNotFound, Times: 1})
			h.Say(webextest.AnnID, webextest.PartnerSpaceID, statusAttachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings"))
			captured := h.capturedCommand()
			if got := h.webexWrites(); len(got) != 0 {
				t.Fatalf("Webex writes after the unreadable attach: %v, want none", got)
			}

			// Eight days later the processed key has been pruned (Retention: 7 days).
			h.Clock.Advance(8 * 24 * time.Hour)
			h.MustSweep()
			replies := len(h.BotMessages(webextest.PartnerSpaceID))
			reads := h.Sim.CountCalls(http.MethodGet, "/v1/messages/"+captured.DataID)

			if got := tt.replay(h, captured); got != http.StatusOK {
				t.Errorf("the replay was answered %d, want 200 (acknowledged)", got)
			}
			h.Settle()

			if got := h.webexWrites(); len(got) != 0 {
				t.Errorf("Webex writes after a replay of an eight-day-old attach: %v, want none", got)
			}
			if got := h.BotMessages(webextest.PartnerSpaceID); len(got) != replies {
				t.Errorf("the bot answered the replay:\n%s", apptest.Joined(got[replies:]))
			}
			if got := h.Sim.CountCalls(http.MethodGet, "/v1/messages/"+captured.DataID) - reads; tt.unread && got != 0 {
				t.Errorf("the bot read the replayed message %d times, want none: the signed data.created alone shows it is stale", got)
			}
		})
	}
}
