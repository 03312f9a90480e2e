// Package apptest is attachbot's end-to-end harness: attachbot wired as serve wires it (the
// real HTTP handler, the real store in t.TempDir(), the real Webex adapter) against the
// simulated Webex of package webextest, which either registers the bot's webhooks through
// PUBLIC_URL and delivers signed events to them (Webhook), or serves the device service and
// pushes the events over the websocket (Websocket). Only Webex and the clock are fake.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/webex/mercury"
	"attachbot/webex/webextest"
)

// Start is where the fake clock starts.
var Start = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// Harness is one attachbot against one simulated Webex.
type Harness struct {
	// T is the test the harness belongs to.
	T *testing.T
	// Sim is the simulated Webex.
	Sim *webextest.Sim
	// Clock is the fake clock of both attachbot and the simulated Webex.
	Clock *bottest.Clock
	// Cfg is attachbot's configuration; a change takes effect at the next StartApp.
	Cfg app.Config
	// BotURL is where attachbot is served (its PUBLIC_URL with webhooks).
	BotURL string
	// WebexURL is where the simulated Webex is served.
	WebexURL string

	opts Options
	mu   sync.Mutex
	app  *app.App
	// handler is the current app's, swapped by StartApp and CloseApp.
	handler http.Handler
	// replicas are the other attachbots sharing the store (AddReplica); with some, the
	// requests to BotURL go to the running ones in turn.
	replicas []*replica
	// turn counts the requests to BotURL, for the round-robin.
	turn int
}

// Transport is how the simulated Webex's events reach attachbot (its EVENTS).
type Transport string

// The transports.
const (
	Webhook   Transport = "webhook"
	Websocket Transport = "websocket"
)

// Transports are every transport, for a suite that runs once per transport.
func Transports() []Transport { return []Transport{Webhook, Websocket} }

// Options change the defaults of a harness.
type Options struct {
	// Transport is how the events reach attachbot (default Webhook).
	Transport Transport
	// WebsocketClock times the websocket transport (default: the real clock, since the
	// harness's clock moves at every wait, which would time out every authorization).
	WebsocketClock bot.Clock
	// Websocket changes the websocket transport's options after the harness's (no proxy, a
	// 10 ms backoff, an unreachable fallback device service).
	Websocket func(*mercury.Options)
	// Disconnected has StartApp not wait for the websocket to connect, for tests of a
	// websocket that cannot.
	Disconnected bool
	// BeforeStart runs after the simulated Webex is up and before attachbot first starts,
	// to inject faults that the start must meet.
	BeforeStart func(*Harness)
	// Logs gets attachbot's logs too (they always go to the test's log).
	Logs io.Writer
	// ManualClock has the clock move only with Advance (default: waits take no time).
	ManualClock bool
	// Sim are the simulated Webex's options (its clock is the harness's).
	Sim webextest.Options
	// Configure changes the configuration before attachbot starts.
	Configure func(*app.Config)
	// HTTPClient is the Webex clients' (default: a default client).
	HTTPClient *http.Client
	// ScanEvery is how often every attachbot scans the store for work no one holds
	// (default: the bot's); with replicas (AddReplica), the work one leaves to the others is
	// found by that scan, so their tests shorten it.
	ScanEvery time.Duration
	// PollLoop runs the bot's poll loop, as serve does, instead of polling in the sweep only;
	// only with ManualClock (with waits that take no time, the loop would race the clock ahead).
	PollLoop bool
}

// New starts a simulated Webex and attachbot, with Ann as the only partner admin and the
// simulated partner's templates.
func New(t *testing.T, opts Options) *Harness {
	t.Helper()
	h := &Harness{T: t, opts: opts, Clock: bottest.NewClock(Start, !opts.ManualClock)}
	opts.Sim.Now = h.Clock.Now
	h.Sim = webextest.New(opts.Sim)
	// Registered first, so it runs last: after attachbot has stopped, nothing it sent to Webex
	// may have been refused for its shape.
	t.Cleanup(func() { h.noShapeRefusals() })
	webexSrv := httptest.NewServer(h.Sim)
	t.Cleanup(webexSrv.Close)
	h.WebexURL = webexSrv.URL
	botSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler := h.nextHandler()
		if handler == nil {
			http.Error(w, "attachbot is not running", http.StatusServiceUnavailable)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(botSrv.Close)
	h.BotURL = botSrv.URL

	admins, err := bot.ParseAllowlist(webextest.AnnEmail)
	if err != nil {
		t.Fatal(err)
	}
	templates, err := app.ParseTemplates(webextest.Templates)
	if err != nil {
		t.Fatal(err)
	}
	h.Cfg = app.Config{
		WebexAPIURL:   webexSrv.URL + "/v1",
		BotToken:      webextest.DefaultBotToken,
		PartnerToken:  webextest.DefaultPartnerToken,
		WebhookSecret: "s3cret-for-tests",
		PublicURL:     botSrv.URL,
		DBPath:        filepath.Join(t.TempDir(), "attachbot.db"),
		PartnerAdmins: admins,
		Templates:     templates,
		PollSchedule:  "@every 1m",
		ApprovalTTL:   bot.DefaultApprovalTTL,
		StuckAfter:    bot.DefaultStuckAfter,
	}
	if opts.Transport == Websocket {
		h.Cfg.Events, h.Cfg.PublicURL, h.Cfg.WebhookSecret = app.EventsWebsocket, "", ""
		h.Cfg.U2CURL = webexSrv.URL + "/u2c/api/v1"
		h.Cfg.WebsocketUnhealthyAfter = app.DefaultWebsocketUnhealthyAfter
	}
	if opts.Configure != nil {
		opts.Configure(&h.Cfg)
	}
	if opts.BeforeStart != nil {
		opts.BeforeStart(h)
	}
	h.StartApp()
	return h
}

// noShapeRefusals fails the test for every request the simulated Webex refused because its
// query or body does not conform to the official spec.
func (h *Harness) noShapeRefusals() {
	h.T.Helper()
	for _, r := range h.Sim.ShapeRefusals() {
		h.T.Errorf("Webex refused %s %s (%s) for its shape: %s; body %s", r.Method, r.Path, r.Operation, strings.Join(r.Problems, " "), r.Body)
	}
}

// App is the attachbot running now (the last one StartApp or BuildApp built).
func (h *Harness) App() *app.App {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.app
}

// StartApp builds and starts attachbot on the harness's store, as after a restart; it is
// closed at the end of the test unless CloseApp closed it before.
func (h *Harness) StartApp() {
	h.T.Helper()
	a := h.BuildApp()
	if err := a.Start(h.T.Context()); err != nil {
		h.T.Fatalf("start attachbot: %v", err)
	}
	h.T.Cleanup(func() { h.CloseApp(a) })
	if h.Cfg.Websocket() && !h.opts.Disconnected {
		h.WaitConnected()
	}
}

// WaitConnected waits until the running attachbot's websocket is connected and authorized
// (websocket mode).
func (h *Harness) WaitConnected() {
	h.T.Helper()
	h.waitSim("the websocket to connect", func() bool {
		return h.Sim.Connections() > 0 && h.App().WebsocketStatus().Connected
	})
}

// waitSim waits until cond holds, re-checking it at every change of the simulated Webex.
func (h *Harness) waitSim(what string, cond func() bool) {
	h.T.Helper()
	ctx, cancel := context.WithTimeout(h.T.Context(), 20*time.Second)
	defer cancel()
	if err := h.Sim.WaitFor(ctx, cond); err != nil {
		h.T.Fatalf("waiting for %s: %v", what, err)
	}
}

// allAcked reports whether the bot has acknowledged every activity pushed to it: with the
// websocket, an event is in the bot's inbox once acknowledged.
func (h *Harness) allAcked() bool {
	for _, a := range h.Sim.Activities() {
		if a.Recipient == webextest.BotID && !a.Acked {
			return false
		}
	}
	return true
}

// isRunning reports whether an attachbot is running (between StartApp and CloseApp).
func (h *Harness) isRunning() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handler != nil
}

// BuildApp builds attachbot and routes the webhook to it, without starting it.
func (h *Harness) BuildApp() *app.App {
	h.T.Helper()
	a := h.build(h.Cfg, "", h.opts.HTTPClient)
	h.mu.Lock()
	h.app, h.handler = a, a.Handler()
	h.mu.Unlock()
	return a
}

// build builds an attachbot on cfg as serve would, for owner (default: one of its own),
// calling Webex with client (nil: a default one).
func (h *Harness) build(cfg app.Config, owner string, client *http.Client) *app.App {
	h.T.Helper()
	var logs io.Writer = TestWriter{h.T}
	if h.opts.Logs != nil {
		logs = io.MultiWriter(logs, h.opts.Logs)
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := app.Wiring{Clock: h.Clock, HTTPClient: client, PollInSweepOnly: !h.opts.PollLoop, Owner: owner,
		ScanEvery: h.opts.ScanEvery}
	if !h.opts.ManualClock {
		// The claims' renewal and the scans wait on a timer again and again: on a clock that
		// moves at every wait, they would race it ahead.
		w.Timers = bot.SystemClock{}
	}
	if h.Cfg.Websocket() {
		w.WebsocketClock = h.opts.WebsocketClock
		if w.WebsocketClock == nil {
			w.WebsocketClock = bot.SystemClock{}
		}
		w.Websocket = func(o *mercury.Options) {
			o.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
			o.Backoff = func(int) time.Duration { return 10 * time.Millisecond }
			o.FallbackWDMURL = h.WebexURL + "/unreachable-fallback"
			if h.opts.Websocket != nil {
				h.opts.Websocket(o)
			}
		}
	}
	a, err := app.New(h.T.Context(), cfg, w, logger)
	if err != nil {
		h.T.Fatalf("build attachbot: %v", err)
	}
	return a
}

// CloseApp stops attachbot, as serve does after its HTTP server; the webhook answers 503
// until the next StartApp.
func (h *Harness) CloseApp(a *app.App) {
	h.mu.Lock()
	if h.app == a {
		h.handler = nil
	}
	h.mu.Unlock()
	if err := a.Close(context.Background()); err != nil && !strings.Contains(err.Error(), "database not open") {
		h.T.Errorf("close attachbot: %v", err)
	}
}

// Settle waits until the bot has processed every event and sent every message (with
// replicas: every one has settled, and the store holds no event or message left: the work
// one left to another is found by their scans). With the websocket, it first waits until every activity pushed to the running bot is acknowledged
// (in its inbox), again after the bot settled, until both hold at once.
func (h *Harness) Settle() {
	h.T.Helper()
	ctx, cancel := context.WithTimeout(h.T.Context(), 20*time.Second)
	defer cancel()
	for {
		websocket := h.Cfg.Websocket() && h.isRunning()
		if websocket {
			if err := h.Sim.WaitFor(ctx, func() bool { return h.allAcked() || !h.isRunning() }); err != nil {
				h.T.Fatalf("waiting for the bot to acknowledge the websocket's activities: %v", err)
			}
		}
		for _, a := range h.running() {
			if err := a.Bot().Settle(ctx); err != nil {
				h.T.Fatalf("waiting for the bot to settle: %v; its queues: %+v", err, a.Bot().QueueStats())
			}
		}
		if !h.replicasDone(ctx) {
			continue
		}
		if !websocket || h.allAcked() || !h.isRunning() {
			return
		}
	}
}

// Say posts text as a person in a room (mentioning the bot in group rooms), delivers it, and
// waits for the bot to finish with it.
func (h *Harness) Say(personID, roomID, text string) webextest.Message {
	h.T.Helper()
	msg, err := h.Sim.Say(h.T.Context(), personID, roomID, text)
	if err != nil {
		h.T.Fatalf("say %q: %v", text, err)
	}
	h.Settle()
	return msg
}

// SayFile is Say with a file attached (a CSV a person drops in the space).
func (h *Harness) SayFile(personID, roomID, text string, f webextest.File) webextest.Message {
	h.T.Helper()
	msg, err := h.Sim.SayFile(h.T.Context(), personID, roomID, text, f)
	if err != nil {
		h.T.Fatalf("say %q with file %s: %v", text, f.Name, err)
	}
	h.Settle()
	return msg
}

// Click submits a card as a person, and waits for the bot to finish with it.
func (h *Harness) Click(personID, messageID string, inputs map[string]any) {
	h.T.Helper()
	if _, err := h.Sim.Click(h.T.Context(), personID, messageID, inputs); err != nil {
		h.T.Fatalf("click card %s: %v", messageID, err)
	}
	h.Settle()
}

// Sweep runs the bot's periodic work once, every concern in order as the cron entries would,
// and waits until the bot has sent what it enqueued. It returns the sweep's error.
func (h *Harness) Sweep() error {
	h.T.Helper()
	err := h.App().Bot().Sweep(h.T.Context())
	h.Settle()
	return err
}

// MustSweep is Sweep for sweeps that must succeed.
func (h *Harness) MustSweep() {
	h.T.Helper()
	if err := h.Sweep(); err != nil {
		h.T.Fatalf("sweep: %v", err)
	}
}

// Advance moves the fake clock d forward.
func (h *Harness) Advance(d time.Duration) { h.Clock.Advance(d) }

// BotMessages returns what the bot posted in a room, oldest first.
func (h *Harness) BotMessages(roomID string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.Sim.Messages(roomID) {
		if m.PersonID == webextest.BotID {
			got = append(got, m)
		}
	}
	return got
}

// DirectFromBot returns what the bot sent a person directly, oldest first.
func (h *Harness) DirectFromBot(personID string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.Sim.DirectMessages(webextest.BotID, personID) {
		if m.PersonID == webextest.BotID {
			got = append(got, m)
		}
	}
	return got
}

// RepliesTo returns the bot's messages in the thread of a root message.
func (h *Harness) RepliesTo(root webextest.Message) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.BotMessages(root.RoomID) {
		if m.ParentID == root.ID {
			got = append(got, m)
		}
	}
	return got
}

// TestWriter sends logs to a test's log.
type TestWriter struct{ T testing.TB }

// Write logs p, without its final newline.
func (w TestWriter) Write(p []byte) (int, error) {
	w.T.Helper()
	w.T.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = TestWriter{}
