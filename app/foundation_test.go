package app_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/handlers"
	"attachbot/store"
	"attachbot/webex/webextest"
)

func TestHelpGetsOneThreadedReply(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")

	replies := h.RepliesTo(cmd)
	if len(replies) != 1 {
		t.Fatalf("got %d replies in the thread, want 1: %+v", len(replies), h.BotMessages(webextest.PartnerSpaceID))
	}
	for _, name := range []string{"help", "check", "attach", "status", "list", "remind", "cancel", "digest"} {
		if !strings.Contains(replies[0].Markdown, "`"+name) {
			t.Errorf("help lacks the command %q:\n%s", name, replies[0].Markdown)
		}
	}
	if got := len(h.BotMessages(webextest.PartnerSpaceID)); got != 1 {
		t.Errorf("the bot posted %d messages in the space, want 1", got)
	}
}

func TestUnknownCommandGetsHintAndHelp(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "attahc now")
	replies := h.RepliesTo(cmd)
	if len(replies) != 1 || !strings.Contains(replies[0].Markdown, "I don't know `attahc`") || !strings.Contains(replies[0].Markdown, "`check") {
		t.Fatalf("replies = %+v, want one hint with the help", replies)
	}
}

func TestReplyToAThreadGoesUnderItsRoot(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	root := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	if _, err := h.Sim.Reply(t.Context(), webextest.AnnID, root.ID, "status"); err != nil {
		t.Fatal(err)
	}
	h.Settle()
	if got := len(h.RepliesTo(root)); got != 2 {
		t.Fatalf("got %d replies under the root, want 2 (help, then status)", got)
	}
}

func TestWebhookSignature(t *testing.T) {
	webhookOnly(t, "it checks the signature of webhook deliveries; over the websocket there is no /webhook route (TestWebsocketModeHasNoWebhookRoute)")
	body := []byte(`{"resource":"messages","event":"created","actorId":"x","data":{"id":"m1","roomId":"r1"}}`)
	tests := []struct {
		name       string
		header     string
		value      string
		body       []byte
		wantStatus int
	}{
		{"missing signature", "", "", body, http.StatusUnauthorized},
		{"wrong signature", "X-Spark-Signature", handlers.Sign([]byte("not the secret"), body), body, http.StatusUnauthorized},
		{"signature of another body", "X-Spark-Signature", handlers.Sign([]byte("s3cret-for-tests"), []byte("{}")), body, http.StatusUnauthorized},
		{"not hex", "X-Spark-Signature", "zz", body, http.StatusUnauthorized},
		{"signed but not JSON", "X-Spark-Signature", handlers.Sign([]byte("s3cret-for-tests"), []byte("nope")), []byte("nope"), http.StatusBadRequest},
		{"signed but no data id", "X-Spark-Signature", handlers.Sign([]byte("s3cret-for-tests"), []byte(`{"resource":"messages","event":"created"}`)), []byte(`{"resource":"messages","event":"created"}`), http.StatusBadRequest},
		{"too large", "X-Spark-Signature", "00", bytes.Repeat([]byte("x"), handlers.MaxWebhookBody+1), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			before := len(h.Sim.Calls())
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.BotURL+"/webhook", bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set(tt.header, tt.value)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			h.Settle()
			if calls := h.Sim.Calls()[before:]; len(calls) != 0 {
				t.Errorf("the bot called Webex %d times, want none: first %s %s", len(calls), calls[0].Method, calls[0].Path)
			}
			events, err := h.App().Store().Events(t.Context())
			if err != nil || len(events) != 0 {
				t.Errorf("inbox = %v, %v; want empty", events, err)
			}
		})
	}
}

func TestRedeliveryGetsOneReply(t *testing.T) {
	webhookOnly(t, "it replays a webhook delivery; the websocket's redelivery after a reconnect is TestWebsocketDropMidFlowLosesNothing")
	h := newHarness(t, apptest.Options{})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	d, ok := h.Sim.LastDelivery()
	if !ok {
		t.Fatal("no delivery")
	}
	for range 2 {
		again, err := h.Sim.Redeliver(t.Context(), d)
		if err != nil || again.Status != http.StatusOK {
			t.Fatalf("redeliver: status %d, %v; want 200", again.Status, err)
		}
	}
	h.Settle()
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Errorf("got %d replies after three deliveries, want 1", got)
	}
	if got := h.Sim.CountCalls(http.MethodGet, "/v1/messages/"+cmd.ID); got != 1 {
		t.Errorf("the bot read the message %d times, want 1", got)
	}
}

func TestBotIgnoresItself(t *testing.T) {
	h := newHarness(t, apptest.Options{Sim: webextest.Options{DeliverOwnMessages: true}})
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	// The help reply was delivered back to the bot (DeliverOwnMessages); an envelope naming
	// the bot as the actor is dropped before anything is read.
	before := len(h.Sim.Calls())
	for _, d := range h.Sim.Deliveries() {
		if d.ActorID == webextest.BotID && d.Status != http.StatusOK {
			t.Errorf("own message delivery answered %d, want 200", d.Status)
		}
	}
	own := []byte(`{"resource":"messages","event":"created","actorId":"` + webextest.BotID + `","data":{"id":"bot-said-this","roomId":"` + webextest.PartnerSpaceID + `"}}`)
	if _, err := h.Sim.SendSigned(t.Context(), h.BotURL+"/webhook", h.Cfg.WebhookSecret, own); err != nil {
		t.Fatal(err)
	}
	h.Settle()
	if got := len(h.BotMessages(webextest.PartnerSpaceID)); got != 1 {
		t.Errorf("the bot posted %d messages, want only its help reply", got)
	}
	if calls := h.Sim.Calls()[before:]; len(calls) != 0 {
		t.Errorf("the bot called Webex for its own event: %s %s", calls[0].Method, calls[0].Path)
	}
}

func TestUnauthorizedPersonIsRefused(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	if err := h.Sim.AddMember(webextest.PartnerSpaceID, webextest.EveID); err != nil {
		t.Fatal(err)
	}
	cmd := h.Say(webextest.EveID, webextest.PartnerSpaceID, "attach org="+webextest.SmallOrgID)
	replies := h.RepliesTo(cmd)
	if len(replies) != 1 || !strings.Contains(replies[0].Markdown, "only take commands from the partner's") || strings.Contains(replies[0].Markdown, "PARTNER_ADMINS") {
		t.Fatalf("replies = %+v, want one polite refusal that names no setting", replies)
	}
	if n := h.Sim.CountCalls(http.MethodGet, "/v1/organizations/"+webextest.SmallOrgID) + h.Sim.CountCalls(http.MethodPost, "/v1/wholesale/customers"); n != 0 {
		t.Errorf("the refused command reached the partner APIs %d times", n)
	}
}

func TestRateLimitedReplyArrivesOnce(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/messages", Status: http.StatusTooManyRequests, RetryAfter: 3, Times: 2})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Fatalf("got %d replies, want exactly 1", got)
	}
	if got := h.Sim.CountCalls(http.MethodPost, "/v1/messages"); got != 3 {
		t.Errorf("POST /v1/messages was called %d times, want 3 (two 429s, then the reply)", got)
	}
	if waits := h.Clock.Waits(); !containsDuration(waits, 3e9) {
		t.Errorf("the client did not wait the 3s Retry-After: waits %v", waits)
	}
}

func TestUnprocessedEventIsProcessedOnceAfterRestart(t *testing.T) {
	webhookOnly(t, "it reads the webhook delivery the restart follows; over the websocket an event stays unacknowledged until in the inbox (TestWebsocketDropMidFlowLosesNothing)")
	h := newHarness(t, apptest.Options{})
	// Stop the running bot, and take a delivery with a bot that has not started its workers
	// (as if it crashed right after storing the event).
	h.CloseApp(h.App())
	stopped := h.BuildApp()
	cmd, err := h.Sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID, "help")
	if err != nil {
		t.Fatal(err)
	}
	events, err := stopped.Store().Events(t.Context())
	if err != nil || len(events) != 1 {
		t.Fatalf("inbox after the delivery = %v, %v; want the one event", events, err)
	}
	h.CloseApp(stopped)
	if got := len(h.RepliesTo(cmd)); got != 0 {
		t.Fatalf("got %d replies before the restart, want 0", got)
	}

	h.StartApp()
	h.Settle()
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Errorf("got %d replies after the restart, want 1", got)
	}
	// And a redelivery after the restart is still recognised.
	d, _ := h.Sim.LastDelivery()
	if _, err := h.Sim.Redeliver(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	h.Settle()
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Errorf("got %d replies after a redelivery, want 1", got)
	}
}

func TestWebhooksRegisteredOnceAcrossRestarts(t *testing.T) {
	webhookOnly(t, "it is about webhook registration; the websocket's device is TestWebsocketStartStopLeavesOneDevice")
	h := newHarness(t, apptest.Options{})
	h.CloseApp(h.App())
	h.StartApp()
	hooks := h.Sim.Webhooks()
	if len(hooks) != 2 {
		t.Fatalf("got %d webhooks after two starts, want 2: %+v", len(hooks), hooks)
	}
	for _, hook := range hooks {
		if hook.TargetURL != h.BotURL+"/webhook" || hook.Status != "active" || hook.Secret != h.Cfg.WebhookSecret {
			t.Errorf("webhook %+v: want target %s/webhook, active, with the secret", hook, h.BotURL)
		}
	}
}

func TestHealthz(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	resp, err := http.Get(h.BotURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", resp.StatusCode)
	}
	// The bot's store can be closed under it.
	if err := h.App().Store().(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(h.BotURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /healthz with the store closed = %d, want 503", resp.StatusCode)
	}

	// A store that can be read but no longer written (here a bbolt file opened read-only)
	// fails too. (A PostgreSQL that is down: TestPostgresDownAnswers503.)
	if storeOnPostgres {
		return
	}
	ro, err := store.Open(h.Cfg.DBPath, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	srv := httptest.NewServer(handlers.New(h.App().Bot(), h.Cfg.WebhookSecret, ro, nil, handlers.Observability{}, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /healthz with a store that cannot write = %d, want 503", resp.StatusCode)
	}
}

func containsDuration(ds []time.Duration, d time.Duration) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

func TestEventGivenUpTellsTheSpaceOnce(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/licenses", Status: http.StatusServiceUnavailable})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "check "+webextest.SmallOrgID)

	replies := h.RepliesTo(cmd)
	if len(replies) != 1 {
		t.Fatalf("%d replies, want one notice:\n%s", len(replies), apptest.Joined(replies))
	}
	if got, want := replies[0].Markdown, "Sorry, I could not process that request."; !strings.HasPrefix(got, want) {
		t.Errorf("notice = %q, want it to start with %q", got, want)
	}
	apptest.MustContain(t, "the notice", replies[0].Markdown, "Webex answered 503", "TrackingId for Cisco support", "Please try again later")
	tries := h.Sim.CountCalls(http.MethodGet, "/v1/licenses")
	if tries < 2 {
		t.Errorf("GET /licenses tried %d times; a 503 is worth retrying", tries)
	}

	// Given up for good: a restart does not take it up again.
	h.CloseApp(h.App())
	h.Sim.ClearFaults()
	h.StartApp()
	h.Settle()
	if got := h.Sim.CountCalls(http.MethodGet, "/v1/licenses"); got != tries {
		t.Errorf("GET /licenses %d times after the restart, want still %d", got, tries)
	}
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Errorf("%d replies after the restart, want 1", got)
	}
}
