package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/store"
	"attachbot/webex/webextest"
)

// The attacks on the sandbox: another web site posting to its API through the visitor's
// browser, and the sandbox pointed at a real attachbot store.

func TestSandboxAPIRefusesCrossSiteRequests(t *testing.T) {
	s := newTestSandbox(t)
	body, err := json.Marshal(sayRequest{PersonID: webextest.AnnID, RoomID: webextest.PartnerSpaceID, Text: "attach"})
	if err != nil {
		t.Fatal(err)
	}
	fileBody, err := json.Marshal(sayFileRequest{PersonID: webextest.AnnID, RoomID: webextest.PartnerSpaceID, Text: "check",
		File: uploadedFile{Name: "orgs.csv", ContentType: "text/csv", Data: []byte("org\n")}})
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(s.url, "http://")
	tests := []struct {
		name       string
		header     map[string]string
		host       string // the Host header, when not the sandbox's address
		wantStatus int
		wantError  string
	}{
		{"a cross-site form posts text/plain", map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"},
			"", 403, `the request comes from "https://evil.example"`},
		{"text/plain without an Origin", map[string]string{"Content-Type": "text/plain"},
			"", 415, `takes a JSON body with Content-Type: application/json, not "text/plain"`},
		{"a form's content type", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			"", 415, "Content-Type: application/json"},
		{"no content type", map[string]string{}, "", 415, "Content-Type: application/json"},
		{"JSON from another origin", map[string]string{"Content-Type": "application/json", "Origin": "http://localhost:1"},
			"", 403, "answers only its own page"},
		{"the browser says cross-site", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
			"", 403, "comes from a cross-site page"},
		{"a DNS-rebound name", map[string]string{"Content-Type": "application/json", "Origin": "http://rebound.example:8080"},
			"rebound.example:8080", 403, `answers only on localhost or an IP address, not on "rebound.example:8080"`},
	}
	for _, route := range []struct {
		path string
		body []byte
	}{{"/sandbox/api/say", body}, {"/sandbox/api/sayfile", fileBody}} {
		for _, tt := range tests {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url+route.path, bytes.NewReader(route.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			var got struct{ Error string }
			if err := json.Unmarshal(b, &got); err != nil {
				t.Errorf("%s: the answer is not JSON: %s", tt.name, b)
			}
			if resp.StatusCode != tt.wantStatus || !strings.Contains(got.Error, tt.wantError) {
				t.Errorf("%s: POST %s = %d %q; want %d with %q", tt.name, route.path, resp.StatusCode, got.Error, tt.wantStatus, tt.wantError)
			}
		}
	}
	s.settle()
	if got := s.env.sim.Messages(webextest.PartnerSpaceID); len(got) != 0 {
		t.Errorf("the refused requests posted %d messages, want none", len(got))
	}

	// The page's own requests pass: JSON, from its origin, said same-origin by the browser.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url+"/sandbox/api/say", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Origin", s.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /sandbox/api/say from the page (Host %s) = %d, want 200", host, resp.StatusCode)
	}
}

// newRealStore makes an attachbot store as serve does, with a digest subscription in it, and
// returns its path and its bytes.
func newRealStore(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sub := bot.Subscription{RoomID: "real-room", Schedule: bot.DefaultDigestSchedule, CreatedBy: "ann@partner.example",
		Created: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)}
	if err := db.SaveSubscription(t.Context(), sub); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// mustBeUnchanged fails the test if the file at path no longer holds want.
func mustBeUnchanged(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the sandbox changed the real store %s", path)
	}
}

func TestSandboxRefusesARealStore(t *testing.T) {
	real, realBytes := newRealStore(t)
	notAStore := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notAStore, []byte("not a bbolt file"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{real, "SANDBOX_DB=" + real + " is an attachbot store that the sandbox did not create (it lacks the sandbox's mark)"},
		{notAStore, "SANDBOX_DB=" + notAStore + " is not a store the sandbox can use"},
	}
	for _, tt := range tests {
		env := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "SANDBOX_DB": tt.path}
		started, err := runSandboxUntilStarted(t, env)
		if started || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("the sandbox on %s: run = %v (started: %v), want it refused with %q", tt.path, err, started, tt.want)
		}
	}
	mustBeUnchanged(t, real, realBytes)
}

// runSandboxUntilStarted runs `attachbot sandbox` until it stops or prints its URL, and then
// stops it. It returns whether the sandbox had started, and the error run returned.
func runSandboxUntilStarted(t *testing.T, env map[string]string) (bool, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr apptest.SyncBuffer
	lines := make(chan string, 4)
	done := make(chan error, 1)
	go func() {
		done <- runCommand(ctx, func(k string) string { return env[k] }, lineWriter{lines}, &stderr)
	}()
	select {
	case err := <-done:
		return false, err
	case <-lines:
		cancel()
		return true, <-done
	}
}

func TestSandboxIgnoresDBPath(t *testing.T) {
	real, realBytes := newRealStore(t)
	url := runSandbox(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DB_PATH": real})
	b, err := json.Marshal(sayRequest{PersonID: webextest.AnnID, RoomID: webextest.PartnerSpaceID, Text: "digest on"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"sandbox/api/say", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /sandbox/api/say = %d, want 200", resp.StatusCode)
	}
	mustBeUnchanged(t, real, realBytes)
	// The running sandbox does not hold the real store: serve could open it now.
	db, err := store.Open(real, store.Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("the real store is held while the sandbox runs with DB_PATH set: %v", err)
	}
	subs, err := db.Subscriptions(t.Context())
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].RoomID != "real-room" {
		t.Errorf("the real store's subscriptions are %+v, want only real-room's", subs)
	}
}

func TestRunSandboxListensOnLoopbackByDefault(t *testing.T) {
	// Port 8080 may be taken on this machine; either way, the address tried is the loopback.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr apptest.SyncBuffer
	lines := make(chan string, 4)
	env := map[string]string{"SANDBOX_DB": filepath.Join(t.TempDir(), "sandbox.db")}
	done := make(chan error, 1)
	go func() {
		done <- runCommand(ctx, func(k string) string { return env[k] }, lineWriter{lines}, &stderr)
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:8080 (LISTEN_ADDR)") {
			t.Errorf("the sandbox stopped with %v, want it listening on 127.0.0.1:8080 (or that port busy)", err)
		}
		return
	case line := <-lines:
		if want := "attachbot sandbox: open http://127.0.0.1:8080/\n"; line != want {
			t.Errorf("the sandbox printed %q, want %q", line, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("the sandbox stopped with %v", err)
	}
}

// runCommand is `attachbot sandbox` as main runs it: Load, then Run with a JSON logger on
// stderr.
func runCommand(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := Load(getenv)
	if err != nil {
		return err
	}
	return Run(ctx, cfg, stdout, slog.New(slog.NewJSONHandler(stderr, nil)))
}

// testWriter sends the sandbox's logs to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
