package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// The sandbox's tests: its API through net/http/httptest (api_test.go), its command as main
// runs it (run_test.go), and its page in headless Chromium (browser_test.go, renderer_test.go).

// testSandbox is a sandbox environment served by an httptest server.
type testSandbox struct {
	t   *testing.T
	env *sandboxEnv
	url string
	// websocket is set when the events come over the websocket.
	websocket bool
}

// newTestSandbox starts a sandbox with its store in t.TempDir(), served by httptest.
func newTestSandbox(t *testing.T) *testSandbox {
	t.Helper()
	return newTestSandboxAt(t, filepath.Join(t.TempDir(), "attachbot.db"))
}

// newTestSandboxAt is newTestSandbox with its store at dbPath.
func newTestSandboxAt(t *testing.T, dbPath string) *testSandbox {
	t.Helper()
	return newTestSandboxWith(t, dbPath, app.EventsWebhook)
}

// newTestSandboxOver is newTestSandbox with the events over a transport (app.EventsWebhook or
// app.EventsWebsocket), as SANDBOX_EVENTS chooses.
func newTestSandboxOver(t *testing.T, events string) *testSandbox {
	t.Helper()
	return newTestSandboxWith(t, filepath.Join(t.TempDir(), "attachbot.db"), events)
}

// newTestSandboxWith starts a sandbox with its store at dbPath and the events over events.
func newTestSandboxWith(t *testing.T, dbPath, events string) *testSandbox {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	env, err := newSandboxEnv(t.Context(), sandboxOptions{
		PublicURL: "http://" + srv.Listener.Addr().String(),
		DBPath:    dbPath,
		Logger:    logger,
		Events:    events,
	})
	if err != nil {
		srv.Close()
		t.Fatalf("start the sandbox: %v", err)
	}
	srv.Config.Handler = env.handler
	srv.Start()
	ts := &testSandbox{t: t, env: env, url: srv.URL, websocket: events == app.EventsWebsocket}
	t.Cleanup(func() {
		// In the sandbox's order: the HTTP server, then attachbot, then the simulated Webex.
		env.stopWaiting()
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := env.close(ctx); err != nil {
			t.Errorf("close the sandbox: %v", err)
		}
		for _, r := range env.sim.ShapeRefusals() {
			t.Errorf("Webex refused %s %s for its shape: %s", r.Method, r.Path, strings.Join(r.Problems, " "))
		}
	})
	if ts.websocket {
		ts.waitFor("the websocket to connect", func() bool { return env.sim.Connections() > 0 && env.app.WebsocketStatus().Connected })
	}
	return ts
}

// fetch is do for goroutines other than the test's: it returns the error.
func (s *testSandbox) fetch(method, path, body string) (int, []byte, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.url+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}

// post sends v as JSON and decodes a 200 answer into out (when not nil).
func (s *testSandbox) post(path string, v, out any) {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	status, body := s.do(http.MethodPost, path, string(b))
	if status != http.StatusOK {
		s.t.Fatalf("POST %s %s: status %d: %s", path, b, status, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			s.t.Fatalf("POST %s: decode %s: %v", path, body, err)
		}
	}
}

// state returns GET /sandbox/api/state.
func (s *testSandbox) state() stateView {
	s.t.Helper()
	status, body := s.do(http.MethodGet, "/sandbox/api/state", "")
	if status != http.StatusOK {
		s.t.Fatalf("GET state: status %d: %s", status, body)
	}
	var v stateView
	if err := json.Unmarshal(body, &v); err != nil {
		s.t.Fatalf("decode the state: %v", err)
	}
	return v
}

// say posts text through the API as a person, and waits for the bot to finish with it.
func (s *testSandbox) say(personID, roomID, text string) {
	s.t.Helper()
	s.post("/sandbox/api/say", sayRequest{PersonID: personID, RoomID: roomID, Text: text}, nil)
	s.settle()
}

// settle waits until the bot has processed every event and sent every message; over the
// websocket, until it has acknowledged (stored) every activity pushed to it, too.
func (s *testSandbox) settle() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), 20*time.Second)
	defer cancel()
	for {
		if s.websocket {
			if err := s.env.sim.WaitFor(ctx, s.allAcked); err != nil {
				s.t.Fatalf("waiting for the bot to acknowledge the websocket's activities: %v", err)
			}
		}
		if err := s.env.app.Bot().Settle(ctx); err != nil {
			s.t.Fatalf("waiting for the bot to settle: %v", err)
		}
		if !s.websocket || s.allAcked() {
			return
		}
	}
}

// allAcked reports whether the bot acknowledged every activity pushed to it.
func (s *testSandbox) allAcked() bool {
	for _, a := range s.env.sim.Activities() {
		if a.Recipient == webextest.BotID && !a.Acked {
			return false
		}
	}
	return true
}

// waitFor waits until cond holds in the simulated Webex, or fails after 20 seconds.
func (s *testSandbox) waitFor(what string, cond func() bool) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), 20*time.Second)
	defer cancel()
	if err := s.env.sim.WaitFor(ctx, cond); err != nil {
		s.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// directSpace returns the id of a customer admin's direct space with the bot.
func (s *testSandbox) directSpace(adminID string) string {
	s.t.Helper()
	id, ok := s.env.sim.DirectRoom(webextest.BotID, adminID)
	if !ok {
		s.t.Fatalf("no direct space of %s with the bot", adminID)
	}
	return id
}

// approvalCard waits for the bot's card in a customer admin's direct space and returns the
// message and the data of its Approve button.
func (s *testSandbox) approvalCard(adminID string) (webextest.Message, map[string]any) {
	s.t.Helper()
	room := s.directSpace(adminID)
	var card webextest.Message
	s.waitFor("the approval card", func() bool {
		for _, m := range s.env.sim.Messages(room) {
			if m.PersonID == webextest.BotID && len(m.Attachments) > 0 {
				card = m
				return true
			}
		}
		return false
	})
	var content struct {
		Actions []struct {
			Type  string         `json:"type"`
			Title string         `json:"title"`
			Data  map[string]any `json:"data"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(card.Attachments[0].Content, &content); err != nil {
		s.t.Fatalf("decode the approval card: %v", err)
	}
	for _, a := range content.Actions {
		if a.Type == "Action.Submit" && a.Title == "Approve" {
			return card, a.Data
		}
	}
	s.t.Fatalf("the approval card has no Approve button: %s", card.Attachments[0].Content)
	return webextest.Message{}, nil
}

// botSaid reports whether the bot wrote, in a room, markdown containing every part.
func (s *testSandbox) botSaid(roomID string, parts ...string) bool {
	for _, m := range s.env.sim.Messages(roomID) {
		if m.PersonID != webextest.BotID {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(m.Markdown, p)
		}
		if all {
			return true
		}
	}
	return false
}

// scenarioLine returns the line the scenarios panel gives for an organization.
func scenarioLine(t *testing.T, orgID string) string {
	t.Helper()
	for _, s := range sandboxScenarios() {
		if s.OrgID == orgID {
			return s.Line()
		}
	}
	t.Fatalf("no scenario for org %s", orgID)
	return ""
}

// lineWriter sends what is written to it to a channel, one write at a time.
type lineWriter struct{ c chan<- string }

func (w lineWriter) Write(p []byte) (int, error) {
	w.c <- string(p)
	return len(p), nil
}

// runSandbox runs `attachbot sandbox` as main does, in a goroutine the test owns, and returns
// the URL it printed. The sandbox stops when the test ends; the test fails if it stops with
// an error.
func runSandbox(t *testing.T, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan string, 4)
	done := make(chan error, 1)
	var stderr apptest.SyncBuffer
	go func() {
		done <- runCommand(ctx, func(k string) string { return env[k] }, lineWriter{lines}, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the sandbox stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("the sandbox did not stop within 30s of its context's end")
		}
	})
	select {
	case line := <-lines:
		const prefix = "attachbot sandbox: open "
		if !strings.HasPrefix(line, prefix) {
			t.Fatalf("the sandbox printed %q, want %q and the URL", line, prefix)
		}
		return strings.TrimSpace(strings.TrimPrefix(line, prefix))
	case err := <-done:
		t.Fatalf("the sandbox stopped at once: %v\n%s", err, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("the sandbox printed no URL within 20s:\n%s", stderr.String())
	}
	return ""
}
