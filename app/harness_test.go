package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/webex/webextest"
)

// The end-to-end tests run attachbot as serve wires it: the real HTTP handler, the real store
// in t.TempDir(), the real Webex adapter against the simulated Webex, which registers the
// bot's webhooks through PUBLIC_URL and delivers signed events to them. Only Webex and the
// clock are fake.

// start is where the fake clock starts.
var start = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// harness is one attachbot against one simulated Webex.
type harness struct {
	t      *testing.T
	opts   harnessOptions
	sim    *webextest.Sim
	clock  *bottest.Clock
	cfg    Config
	app    *App
	botURL string

	mu      sync.Mutex
	handler http.Handler // the current app's, swapped by restart
}

// harnessOptions change the defaults of a harness.
type harnessOptions struct {
	manualClock bool // the clock moves only with Advance (default: waits take no time)
	sim         webextest.Options
	configure   func(*Config)
	httpClient  *http.Client // the Webex clients' (default: a default client)
	// pollLoop runs the bot's poll loop, as serve does, instead of polling in the sweep only;
	// only with manualClock (with waits that take no time, the loop would race the clock ahead).
	pollLoop bool
}

// newHarness starts a simulated Webex and attachbot, with Ann as the only partner admin and
// two templates.
func newHarness(t *testing.T, opts harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, opts: opts, clock: bottest.NewClock(start, !opts.manualClock)}
	opts.sim.Now = h.clock.Now
	h.sim = webextest.New(opts.sim)
	// Registered first, so it runs last: after attachbot has stopped, nothing it sent to Webex
	// may have been refused for its shape.
	t.Cleanup(func() { h.noShapeRefusals() })
	webexSrv := httptest.NewServer(h.sim)
	t.Cleanup(webexSrv.Close)
	botSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		handler := h.handler
		h.mu.Unlock()
		if handler == nil {
			http.Error(w, "attachbot is not running", http.StatusServiceUnavailable)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(botSrv.Close)
	h.botURL = botSrv.URL

	admins, err := bot.ParseAllowlist(webextest.AnnEmail)
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = Config{
		WebexAPIURL:   webexSrv.URL + "/v1",
		BotToken:      webextest.DefaultBotToken,
		PartnerToken:  webextest.DefaultPartnerToken,
		WebhookSecret: "s3cret-for-tests",
		PublicURL:     botSrv.URL,
		DBPath:        filepath.Join(t.TempDir(), "attachbot.db"),
		PartnerAdmins: admins,
		Templates: []bot.Template{
			{Name: "Standard", ProvisioningID: "cHJvdmlzaW9uaW5nSWQtc3RhbmRhcmQ"},
			{Name: "Calling", ProvisioningID: "cHJvdmlzaW9uaW5nSWQtY2FsbGluZw"},
		},
		PollSchedule: "@every 1m",
		ApprovalTTL:  7 * 24 * time.Hour,
		StuckAfter:   2 * time.Hour,
	}
	if opts.configure != nil {
		opts.configure(&h.cfg)
	}
	h.startApp()
	return h
}

// noShapeRefusals fails the test for every request the simulated Webex refused because its
// query or body does not conform to the official spec.
func (h *harness) noShapeRefusals() {
	h.t.Helper()
	for _, r := range h.sim.ShapeRefusals() {
		h.t.Errorf("Webex refused %s %s (%s) for its shape: %s; body %s", r.Method, r.Path, r.Operation, strings.Join(r.Problems, " "), r.Body)
	}
}

// startApp builds and starts attachbot on the harness's store.
func (h *harness) startApp() {
	h.t.Helper()
	a := h.buildApp()
	if err := a.Start(h.t.Context()); err != nil {
		h.t.Fatalf("start attachbot: %v", err)
	}
	h.t.Cleanup(func() { h.closeApp(a) })
}

// buildApp builds attachbot and routes the webhook to it, without starting it.
func (h *harness) buildApp() *App {
	h.t.Helper()
	logger := slog.New(slog.NewTextHandler(testWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(h.cfg, Wiring{Clock: h.clock, HTTPClient: h.opts.httpClient, PollInSweepOnly: !h.opts.pollLoop}, logger)
	if err != nil {
		h.t.Fatalf("build attachbot: %v", err)
	}
	h.mu.Lock()
	h.app, h.handler = a, a.handler
	h.mu.Unlock()
	return a
}

// closeApp stops attachbot, as serve does after its HTTP server.
func (h *harness) closeApp(a *App) {
	h.mu.Lock()
	if h.app == a {
		h.handler = nil
	}
	h.mu.Unlock()
	if err := a.Close(context.Background()); err != nil && !strings.Contains(err.Error(), "database not open") {
		h.t.Errorf("close attachbot: %v", err)
	}
}

// settle waits until the bot has processed every event and sent every message.
func (h *harness) settle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), 20*time.Second)
	defer cancel()
	if err := h.app.bot.Settle(ctx); err != nil {
		h.t.Fatalf("waiting for the bot to settle: %v", err)
	}
}

// say posts text as a person in a room (mentioning the bot in group rooms), delivers it, and
// waits for the bot to finish with it.
func (h *harness) say(personID, roomID, text string) webextest.Message {
	h.t.Helper()
	msg, err := h.sim.Say(h.t.Context(), personID, roomID, text)
	if err != nil {
		h.t.Fatalf("say %q: %v", text, err)
	}
	h.settle()
	return msg
}

// click submits a card as a person, and waits for the bot to finish with it.
func (h *harness) click(personID, messageID string, inputs map[string]any) {
	h.t.Helper()
	if _, err := h.sim.Click(h.t.Context(), personID, messageID, inputs); err != nil {
		h.t.Fatalf("click card %s: %v", messageID, err)
	}
	h.settle()
}

// botMessages returns what the bot posted in a room, oldest first.
func (h *harness) botMessages(roomID string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.sim.Messages(roomID) {
		if m.PersonID == webextest.BotID {
			got = append(got, m)
		}
	}
	return got
}

// directFromBot returns what the bot sent a person directly, oldest first.
func (h *harness) directFromBot(personID string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.sim.DirectMessages(webextest.BotID, personID) {
		if m.PersonID == webextest.BotID {
			got = append(got, m)
		}
	}
	return got
}

// repliesTo returns the bot's messages in the thread of a root message.
func (h *harness) repliesTo(root webextest.Message) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.botMessages(root.RoomID) {
		if m.ParentID == root.ID {
			got = append(got, m)
		}
	}
	return got
}

// testWriter sends the bot's logs to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// syncBuffer is a bytes.Buffer safe for a logger and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
