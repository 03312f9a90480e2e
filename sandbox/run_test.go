package sandbox

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"attachbot/webex/webextest"
)

// The sandbox's command as main runs it (Load, then Run), its URLs, and a store kept from an
// earlier run.

func TestRunSandbox(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sandbox.db")
	url := runSandbox(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "SANDBOX_DB": dbPath})
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/") {
		t.Errorf("the printed URL is %q, want http://127.0.0.1:<port>/", url)
	}
	tests := []struct {
		method, path string
		wantStatus   int
		wantType     string
		wantBody     string
	}{
		{"GET", "", 200, "text/html", "<title>attachbot sandbox"},
		{"GET", "sandbox/static/app.js", 200, "javascript", "window.attachbotCards"},
		{"GET", "sandbox/static/style.css", 200, "text/css", ".ac-card"},
		{"GET", "healthz", 200, "application/json", `{"store":"ok"}`},
		{"POST", "webhook", 401, "", ""}, // the bot's own handler: unsigned deliveries are refused
		{"GET", "sandbox/api/scenarios", 200, "application/json", webextest.BigOrgID},
		{"GET", "nothing-here", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" /"+tt.path, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, url+tt.path, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, tt.wantType) {
				t.Errorf("Content-Type = %q, want %q in it", ct, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("the body lacks %q", tt.wantBody)
			}
		})
	}
	if _, err := os.Stat(dbPath); err != nil {
		t.Errorf("the store is not at SANDBOX_DB: %v", err)
	}
}

// TestRunSandboxOverWebsocket runs the sandbox with SANDBOX_EVENTS=websocket: the bot has no
// /webhook route, and /healthz shows the websocket (TestSandboxAPIApproval/websocket has the
// bot answer over it).
func TestRunSandboxOverWebsocket(t *testing.T) {
	url := runSandbox(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "SANDBOX_DB": filepath.Join(t.TempDir(), "sandbox.db"), "SANDBOX_EVENTS": "websocket"})
	resp, err := http.Post(url+"webhook", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /webhook over the websocket = %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get(url + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"websocket":{"connected":`) {
		t.Errorf("GET /healthz = %d %s, want 200 with the websocket's state", resp.StatusCode, body)
	}
}

func TestRunSandboxRefusesABadListenAddr(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		addr string
		want string
	}{
		{"nonsense", `LISTEN_ADDR="nonsense" is not a host:port address`},
		{"127.0.0.1:0 with SANDBOX_EVENTS=polling", `SANDBOX_EVENTS="polling" is neither webhook nor websocket`},
		{busy.Addr().String(), "listen on " + busy.Addr().String() + " (LISTEN_ADDR)"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			addr, events, _ := strings.Cut(tt.addr, " with SANDBOX_EVENTS=")
			env := map[string]string{"LISTEN_ADDR": addr, "SANDBOX_EVENTS": events, "SANDBOX_DB": filepath.Join(t.TempDir(), "x.db")}
			err := runCommand(t.Context(), func(k string) string { return env[k] }, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestSandboxURLs(t *testing.T) {
	tests := []struct {
		addr       string
		page, hook string
	}{
		{"0.0.0.0:8080", "http://localhost:8080/", "http://127.0.0.1:8080"},
		{"[::]:8080", "http://localhost:8080/", "http://127.0.0.1:8080"},
		{"127.0.0.1:9000", "http://127.0.0.1:9000/", "http://127.0.0.1:9000"},
		{"[::1]:9000", "http://[::1]:9000/", "http://[::1]:9000"},
	}
	for _, tt := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		page, hook := sandboxURLs(addr)
		if page != tt.page || hook != tt.hook {
			t.Errorf("sandboxURLs(%s) = %q, %q; want %q, %q", tt.addr, page, hook, tt.page, tt.hook)
		}
	}
}

// The browser tests.

func TestSandboxKeepsAnswersWithAStoreFromAnEarlierRun(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "kept.db")
	for _, run := range []string{"first run", "second run"} {
		t.Run(run, func(t *testing.T) {
			s := newTestSandboxAt(t, dbPath)
			s.say(webextest.AnnID, webextest.PartnerSpaceID, "help")
			if !s.botSaid(webextest.PartnerSpaceID, "`attach") {
				t.Errorf("no answer to help in the %s on the kept store", run)
			}
		})
	}
}

// TestReadmeExampleWorksInTheSandbox pastes the README's example attach line into the
// sandbox's partner space, as a new user would, and checks that it attaches the organization.
func TestReadmeExampleWorksInTheSandbox(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)Example[^\n]*\n(?:[^\n]+\n)*\n```\n([^\n]+)\n```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README has no example line in a code block after \"Example\"")
	}
	line := string(m[1])
	if !strings.HasPrefix(line, "attach ") {
		t.Fatalf("the README's example %q does not start with the command, so it does not work when pasted", line)
	}
	s := newTestSandbox(t)
	s.say(webextest.AnnID, webextest.PartnerSpaceID, line)
	s.waitFor("the attach to be submitted", func() bool {
		return s.botSaid(webextest.PartnerSpaceID, "**Automatic attach**", "is submitted")
	})
}
