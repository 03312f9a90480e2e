package mercury_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/webex/mercury"
	"attachbot/webex/webextest"
)

// hangGuard bounds a test that would otherwise hang on a bug; no assertion depends on it.
const hangGuard = 60 * time.Second

// sink records accepted events and, like the bot's inbox, accepts a key it has seen once
// without recording it again. fail, when set, decides the answer of each call first; onAccept
// runs inside Accept, before the answer.
type sink struct {
	mu       sync.Mutex
	calls    []bot.Event
	events   []bot.Event
	seen     map[string]bool
	fail     func(call int, ev bot.Event) error
	onAccept func(ev bot.Event)
	changed  chan struct{}
}

func newSink() *sink { return &sink{seen: map[string]bool{}, changed: make(chan struct{}, 1000)} }

func (s *sink) Accept(ctx context.Context, ev bot.Event) error {
	if s.onAccept != nil {
		s.onAccept(ev)
	}
	s.mu.Lock()
	defer func() { s.mu.Unlock(); s.changed <- struct{}{} }()
	s.calls = append(s.calls, ev)
	if s.fail != nil {
		if err := s.fail(len(s.calls), ev); err != nil {
			return err
		}
	}
	if !s.seen[ev.Key] {
		s.seen[ev.Key] = true
		s.events = append(s.events, ev)
	}
	return nil
}

// Calls returns every Accept call so far; Events the events stored once each.
func (s *sink) Calls() []bot.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bot.Event(nil), s.calls...)
}

func (s *sink) Events() []bot.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bot.Event(nil), s.events...)
}

// waitCalls waits until Accept has been called n times.
func (s *sink) waitCalls(t *testing.T, ctx context.Context, n int) []bot.Event {
	t.Helper()
	for {
		if calls := s.Calls(); len(calls) >= n {
			return calls
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
			t.Fatalf("waiting for %d Accept calls: %v (got %d)", n, ctx.Err(), len(s.Calls()))
		}
	}
}

// logBuffer is a concurrency-safe log destination.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a Sim served over HTTP, and a transport pointed at it.
type env struct {
	sim    *webextest.Sim
	srv    *httptest.Server
	sink   *sink
	client *http.Client // the transport's
	clock  *bottest.Clock
	logs   *logBuffer
	opts   mercury.Options
	ctx    context.Context
	tr     *mercury.Transport // the last one started; set before its Run starts

	mu       sync.Mutex
	backoff  []int            // the failures counts Backoff was called with
	statuses []mercury.Status // the transport's Status at each Backoff call
}

// backoffs returns the failure counts Backoff was called with, and the Status at each.
func (e *env) backoffs() ([]int, []mercury.Status) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.backoff...), append([]mercury.Status(nil), e.statuses...)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	t.Cleanup(cancel)
	sim := webextest.New(webextest.Options{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e := &env{
		sim: sim, srv: srv, sink: newSink(), logs: &logBuffer{}, ctx: ctx, client: srv.Client(),
		clock: bottest.NewClock(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC), false),
	}
	e.opts = mercury.Options{
		Token:          webextest.DefaultBotToken,
		U2CURL:         srv.URL + "/u2c/api/v1",
		FallbackWDMURL: srv.URL + "/unreachable-fallback",
		BotPersonID:    webextest.BotID,
		Proxy:          func(*http.Request) (*url.URL, error) { return nil, nil },
		// No wait between attempts: the tests follow the attempts through the Sim.
		Backoff: func(failures int) time.Duration {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.backoff = append(e.backoff, failures)
			e.statuses = append(e.statuses, e.tr.Status())
			return 0
		},
	}
	return e
}

// start runs a transport with e.opts until the test ends; the returned channel gives Run's
// result after stop.
func (e *env) start(t *testing.T) (tr *mercury.Transport, stop func() error) {
	t.Helper()
	tr, err := mercury.New(e.opts, e.sink, e.client, e.clock, slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	e.tr = tr
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() {
			cancel()
			result = <-done
		})
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return tr, stop
}

// waitFor waits until cond holds, re-checking it at every change of the Sim.
func (e *env) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := e.sim.WaitFor(e.ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v\nlog:\n%s", what, err, e.logs.String())
	}
}

// waitConnected waits until the Sim has n live websockets.
func (e *env) waitConnected(t *testing.T, n int) {
	t.Helper()
	// The transport acknowledges the buffer state after it records the connection, and the
	// acknowledgement wakes WaitFor.
	e.waitFor(t, "live websockets", func() bool {
		return e.sim.Connections() == n && (n == 0 || e.tr.Status().Connected)
	})
}

// acked reports whether the Sim got an acknowledgement of the activity of dataID.
func (e *env) acked(dataID string) bool {
	for _, a := range e.sim.Acks() {
		if a.DataID == dataID {
			return true
		}
	}
	return false
}

// activity returns the Sim's activity of dataID.
func (e *env) activity(t *testing.T, dataID string) webextest.Activity {
	t.Helper()
	for _, a := range e.sim.Activities() {
		if a.DataID == dataID {
			return a
		}
	}
	t.Fatalf("no activity for %s", dataID)
	return webextest.Activity{}
}

// botCard posts a message with a card as the bot, over the Sim's REST API.
func (e *env) botCard(t *testing.T, roomID string) webextest.Message {
	t.Helper()
	body := `{"roomId":"` + roomID + `","markdown":"a card","attachments":[{"contentType":"` + webextest.CardContentType +
		`","content":{"type":"AdaptiveCard","version":"1.3","body":[],"actions":[{"type":"Action.Submit","title":"Go"}]}}]}`
	var m webextest.Message
	e.rest(t, http.MethodPost, "/v1/messages", body, http.StatusOK, &m)
	return m
}

// rest calls the Sim as the bot and checks the status.
func (e *env) rest(t *testing.T, method, path, body string, want int, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+webextest.DefaultBotToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: got %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
}

// webhookEvent is the event handlers/webhook.go builds from a delivery's envelope.
func webhookEvent(env webextest.Envelope) bot.Event {
	return bot.Event{
		Key:      bot.EventKey(env.Resource, env.Event, env.Data.ID),
		Resource: env.Resource, Event: env.Event, DataID: env.Data.ID,
		ActorID: env.ActorID, RoomID: env.Data.RoomID, Created: env.Data.Created,
	}
}

// errRefused is the error a failing sink returns.
var errRefused = errors.New("inbox unavailable")

// The bot's durable inbox is what the transport feeds in production.
var _ mercury.Sink = (*bot.Bot)(nil)
