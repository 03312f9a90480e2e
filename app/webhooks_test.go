package app_test

import (
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// The sweep keeps the bot's webhooks registered and active.

func TestStatusWebhookReactivation(t *testing.T) {
	webhookOnly(t, "it is about the webhooks the status job keeps active")
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	quiet := h.statusAddRoom("Quiet space")
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "digest on")
	const note = "Webex had disabled my webhooks"

	messagesHook := func() webextest.Webhook {
		t.Helper()
		for _, hook := range h.Sim.Webhooks() {
			if hook.Resource == "messages" {
				return hook
			}
		}
		t.Fatal("the bot has no messages webhook")
		return webextest.Webhook{}
	}
	// deactivate disables the bot's messages webhook, and shows that the bot is unreachable.
	deactivate := func() {
		t.Helper()
		if err := h.Sim.DeactivateWebhook(messagesHook().ID); err != nil {
			t.Fatal(err)
		}
		if cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help"); len(h.RepliesTo(cmd)) != 0 {
			t.Fatal("the bot answered while its webhook was inactive")
		}
	}

	checks := []struct {
		after      time.Duration // since the previous check
		wantActive bool
		wantNotes  int
	}{
		{after: 0, wantActive: true, wantNotes: 1}, // the first sweep checks at once
		{after: 59 * time.Minute, wantActive: false, wantNotes: 1},
		{after: time.Minute, wantActive: true, wantNotes: 2},
	}
	deactivate()
	for i, c := range checks {
		h.Clock.Advance(c.after)
		h.MustSweep()
		if got := messagesHook().Status == webextest.WebhookActive; got != c.wantActive {
			t.Errorf("check %d (%s later): webhook active %t, want %t", i, c.after, got, c.wantActive)
		}
		if got := len(h.statusTopLevel(webextest.PartnerSpaceID, note)); got != c.wantNotes {
			t.Errorf("check %d: the digest space has %d notes, want %d", i, got, c.wantNotes)
		}
		if c.wantActive && i < len(checks)-1 {
			if cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help"); len(h.RepliesTo(cmd)) != 1 {
				t.Errorf("check %d: the bot did not answer after the re-activation", i)
			}
			deactivate()
		}
	}
	if got := len(h.statusTopLevel(quiet, note)); got != 0 {
		t.Errorf("a space without the digest got %d notes, want 0", got)
	}
	if cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help"); len(h.RepliesTo(cmd)) != 1 {
		t.Error("the bot did not answer after the last re-activation")
	}
	apptest.Says(t, "the note", h.statusTopLevel(webextest.PartnerSpaceID, note)[0].Markdown,
		[]string{`re-activated webhook "attachbot messages"`, "please repeat anything that got no answer"}, nil)
}
