package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/webex/webextest"
)

// The sandbox's tests: its API through net/http/httptest, its command through run, and its
// page in headless Chromium.

// testSandbox is a sandbox environment served by an httptest server.
type testSandbox struct {
	t   *testing.T
	env *sandboxEnv
	url string
}

// newTestSandbox starts a sandbox with its store in t.TempDir(), served by httptest.
func newTestSandbox(t *testing.T) *testSandbox {
	t.Helper()
	return newTestSandboxAt(t, filepath.Join(t.TempDir(), "attachbot.db"))
}

// newTestSandboxAt is newTestSandbox with its store at dbPath.
func newTestSandboxAt(t *testing.T, dbPath string) *testSandbox {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	env, err := newSandboxEnv(t.Context(), sandboxOptions{
		PublicURL: "http://" + srv.Listener.Addr().String(),
		DBPath:    dbPath,
		Logger:    logger,
	})
	if err != nil {
		srv.Close()
		t.Fatalf("start the sandbox: %v", err)
	}
	srv.Config.Handler = env.handler
	srv.Start()
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
	return &testSandbox{t: t, env: env, url: srv.URL}
}

// do sends a request to the sandbox and returns the status and the body.
func (s *testSandbox) do(method, path, body string) (int, []byte) {
	s.t.Helper()
	status, b, err := s.fetch(method, path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	return status, b
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

// settle waits until the bot has processed every event and sent every message.
func (s *testSandbox) settle() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), 20*time.Second)
	defer cancel()
	if err := s.env.app.Bot().Settle(ctx); err != nil {
		s.t.Fatalf("waiting for the bot to settle: %v", err)
	}
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
			return s.Line
		}
	}
	t.Fatalf("no scenario for org %s", orgID)
	return ""
}

func TestSandboxAPIRejectsBadRequests(t *testing.T) {
	s := newTestSandbox(t)
	// A message without a card, and the approval card in Bill Big's direct space.
	s.say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	plain := s.env.sim.Messages(webextest.PartnerSpaceID)[0]
	s.say(webextest.AnnID, webextest.PartnerSpaceID, scenarioLine(t, webextest.BigOrgID))
	card, _ := s.approvalCard(webextest.BigAdminID)
	bigSpace := s.directSpace(webextest.BigAdminID)
	deliveries := len(s.env.sim.Deliveries())
	messages := len(s.env.sim.Messages(webextest.PartnerSpaceID)) + len(s.env.sim.Messages(bigSpace))

	say := func(person, room, text string) string {
		b, _ := json.Marshal(sayRequest{PersonID: person, RoomID: room, Text: text})
		return string(b)
	}
	click := func(person, message string) string {
		b, _ := json.Marshal(clickRequest{PersonID: person, MessageID: message, Inputs: map[string]any{"action": "approve"}})
		return string(b)
	}
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantError  string
	}{
		{"say: not JSON", "POST", "/sandbox/api/say", "hello", 400, "is not the JSON object expected"},
		{"say: unknown field", "POST", "/sandbox/api/say", `{"person": "x"}`, 400, `unknown field "person"`},
		{"say: two objects", "POST", "/sandbox/api/say", say(webextest.AnnID, webextest.PartnerSpaceID, "help") + "{}", 400, "more than one JSON value"},
		{"say: no text", "POST", "/sandbox/api/say", say(webextest.AnnID, webextest.PartnerSpaceID, "  "), 400, "text is empty"},
		{"say: too long", "POST", "/sandbox/api/say", say(webextest.AnnID, webextest.PartnerSpaceID, strings.Repeat("x", webextest.MaxMessageBytes+1)), 400, "Webex takes at most 7439"},
		{"say: nobody acting", "POST", "/sandbox/api/say", say("", webextest.PartnerSpaceID, "help"), 400, "personId is missing"},
		{"say: unknown person", "POST", "/sandbox/api/say", say("nobody", webextest.PartnerSpaceID, "help"), 400, `personId "nobody" is nobody`},
		{"say: no space", "POST", "/sandbox/api/say", say(webextest.AnnID, "", "help"), 400, "roomId is missing"},
		{"say: unknown space", "POST", "/sandbox/api/say", say(webextest.AnnID, "nowhere", "help"), 400, `roomId "nowhere" is no space`},
		{"say: not a member", "POST", "/sandbox/api/say", say(webextest.BigAdminID, webextest.PartnerSpaceID, "help"), 403, "Bill Big is not a member of Partner space"},
		{"say: unknown parent", "POST", "/sandbox/api/say", `{"personId": "` + webextest.AnnID + `", "roomId": "` + webextest.PartnerSpaceID + `", "parentId": "nope", "text": "status"}`, 400, `parentId "nope" is no message of the space`},
		{"click: no message", "POST", "/sandbox/api/click", click(webextest.AnnID, ""), 400, "messageId is missing"},
		{"click: unknown message", "POST", "/sandbox/api/click", click(webextest.AnnID, "nope"), 400, `messageId "nope" is no message`},
		{"click: no card", "POST", "/sandbox/api/click", click(webextest.AnnID, plain.ID), 400, "has no card to submit"},
		{"click: inputs not an object", "POST", "/sandbox/api/click", `{"personId": "` + webextest.BigAdminID + `", "messageId": "` + card.ID + `", "inputs": [1]}`, 400, "is not the JSON object expected"},
		{"outcome: unknown status", "POST", "/sandbox/api/outcome", `{"status": "done", "delaySeconds": 2}`, 400, `status "done" is none of seeded, provisioned`},
		{"outcome: no delay", "POST", "/sandbox/api/outcome", `{"status": "error"}`, 400, "delaySeconds 0 is out of range: give 1 to 3600 seconds"},
		{"outcome: too long", "POST", "/sandbox/api/outcome", `{"status": "error", "delaySeconds": 3601}`, 400, "out of range"},
		{"outcome: beyond a Duration", "POST", "/sandbox/api/outcome", `{"status": "error", "delaySeconds": 1e10}`, 400, "out of range"},
		{"outcome: unknown org", "POST", "/sandbox/api/outcome", `{"orgId": "nope", "status": "error", "delaySeconds": 2}`, 400, `orgId "nope" is none of the seeded organizations`},
		{"body too large", "POST", "/sandbox/api/say", `{"text": "` + strings.Repeat("x", sandboxMaxBody) + `"}`, 413, "larger than"},
	}
	for _, tt := range tests {
		status, body := s.do(tt.method, tt.path, tt.body)
		var got struct{ Error string }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("%s: the answer is not JSON: %s", tt.name, body)
			continue
		}
		if status != tt.wantStatus || !strings.Contains(got.Error, tt.wantError) {
			t.Errorf("%s: %s %s = %d %q; want %d with %q", tt.name, tt.method, tt.path, status, got.Error, tt.wantStatus, tt.wantError)
		}
	}
	for _, tt := range []struct{ method, path string }{{"GET", "/sandbox/api/say"}, {"POST", "/sandbox/api/state"}} {
		if status, _ := s.do(tt.method, tt.path, ""); status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s = %d, want 405", tt.method, tt.path, status)
		}
	}
	s.settle()
	if got := len(s.env.sim.Deliveries()); got != deliveries {
		t.Errorf("the bad requests delivered %d events to the bot, want none", got-deliveries)
	}
	if got := len(s.env.sim.Messages(webextest.PartnerSpaceID)) + len(s.env.sim.Messages(bigSpace)); got != messages {
		t.Errorf("the bad requests made %d messages, want none", got-messages)
	}
}

func TestSandboxAPIApproval(t *testing.T) {
	s := newTestSandbox(t)
	s.post("/sandbox/api/outcome", outcomeRequest{OrgID: webextest.BigOrgID, Status: webextest.StatusProvisioned, DelaySeconds: 1}, nil)

	s.say(webextest.AnnID, webextest.PartnerSpaceID, scenarioLine(t, webextest.BigOrgID))
	card, approve := s.approvalCard(webextest.BigAdminID)
	requestID, _ := approve["requestId"].(string)
	if requestID == "" || approve["action"] != "approve" {
		t.Fatalf("Approve's data = %v, want action approve and a requestId", approve)
	}

	// The state shows the card in Bill Big's direct space, as the bot sent it.
	st := s.state()
	var shown *messageView
	for i, sp := range st.Spaces {
		for j, m := range sp.Messages {
			if m.ID == card.ID {
				if sp.With != webextest.BigAdminID || sp.Type != webextest.RoomTypeDirect {
					t.Errorf("the approval card is in space %q (with %q), want Bill Big's direct space", sp.Title, sp.With)
				}
				shown = &st.Spaces[i].Messages[j]
			}
		}
	}
	if shown == nil {
		t.Fatalf("the state lacks the approval card %s", card.ID)
	}
	if diff := cmp.Diff(string(card.Attachments[0].Content), string(shown.Card)); diff != "" {
		t.Errorf("the state's card differs from the bot's (-bot +state):\n%s", diff)
	}

	inputs := map[string]any{"comment": ""}
	for k, v := range approve {
		inputs[k] = v
	}
	// The outsider presses Approve on Bill Big's card: the bot refuses and tells both.
	s.post("/sandbox/api/click", clickRequest{PersonID: webextest.EveID, MessageID: card.ID, Inputs: inputs}, nil)
	s.waitFor("the refusal", func() bool {
		return s.botSaid(webextest.PartnerSpaceID, webextest.EveEmail+" tried to approve attach **"+requestID+"** and was refused")
	})
	s.waitFor("the outsider told why her click did nothing", func() bool {
		eveSpace, ok := s.env.sim.DirectRoom(webextest.BotID, webextest.EveID)
		return ok && s.botSaid(eveSpace, "you can't approve or decline request "+requestID)
	})

	s.post("/sandbox/api/click", clickRequest{PersonID: webextest.BigAdminID, MessageID: card.ID, Inputs: inputs}, nil)
	s.waitFor("the provisioned notice", func() bool {
		return s.botSaid(webextest.PartnerSpaceID, "Attach **"+requestID+"**", "is provisioned.")
	})
	if !s.botSaid(webextest.PartnerSpaceID, webextest.BigAdminEmail+" **approved** attach **"+requestID+"**") {
		t.Errorf("the partner space was not told of the approval: %+v", s.env.sim.Messages(webextest.PartnerSpaceID))
	}
}

func TestSandboxAPIStateWaitsForAChange(t *testing.T) {
	s := newTestSandbox(t)
	before := s.state()
	if before.Version == "" {
		t.Fatal("the state has no version")
	}
	type answer struct {
		v   stateView
		err error
	}
	wait := func() <-chan answer {
		c := make(chan answer, 1)
		go func() {
			status, body, err := s.fetch(http.MethodGet, "/sandbox/api/state?since="+before.Version, "")
			var a answer
			switch {
			case err != nil:
				a.err = err
			case status != http.StatusOK:
				a.err = fmt.Errorf("status %d: %s", status, body)
			default:
				a.err = json.Unmarshal(body, &a.v)
			}
			c <- a
		}()
		return c
	}
	receive := func(c <-chan answer) stateView {
		t.Helper()
		select {
		case a := <-c:
			if a.err != nil {
				t.Fatal(a.err)
			}
			return a.v
		case <-time.After(20 * time.Second):
			t.Fatal("GET state?since= did not answer")
		}
		return stateView{}
	}

	changed := wait()
	s.say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	after := receive(changed)
	if after.Version == before.Version {
		t.Errorf("the version did not change with a new message")
	}
	var texts []string
	for _, sp := range after.Spaces {
		if sp.ID == webextest.PartnerSpaceID {
			for _, m := range sp.Messages {
				texts = append(texts, m.Text)
			}
		}
	}
	if len(texts) == 0 || texts[0] != webextest.BotName+" help" {
		t.Errorf("the partner space's messages = %q, want Ann's help with the bot's mention first", texts)
	}

	// An unknown version answers at once; a shutdown ends the wait.
	if status, _ := s.do(http.MethodGet, "/sandbox/api/state?since=old", ""); status != http.StatusOK {
		t.Errorf("GET state?since=old = %d, want 200", status)
	}
	before = s.state()
	stopped := wait()
	s.env.stopWaiting()
	if got := receive(stopped); got.Version != before.Version {
		t.Errorf("after the shutdown began the version is %s, want the unchanged %s", got.Version, before.Version)
	}
}

func TestSandboxAPIOutcome(t *testing.T) {
	s := newTestSandbox(t)
	var first scenariosView
	if status, body := s.do(http.MethodGet, "/sandbox/api/scenarios", ""); status != http.StatusOK || json.Unmarshal(body, &first) != nil {
		t.Fatalf("GET scenarios = %d %s", status, body)
	}
	defaultDelay := webextest.DefaultProvisioningDelay.Seconds()
	if diff := cmp.Diff(outcomeRequest{Status: outcomeSeeded, DelaySeconds: defaultDelay}, first.Applied); diff != "" {
		t.Errorf("the control's setting before any Apply (-want +got):\n%s", diff)
	}
	type outcome struct {
		Status string
		Delay  time.Duration
	}
	seeded := map[string]outcome{}
	for _, o := range webextest.SeedOrgs() {
		st := o.Outcome.Status
		if st == "" {
			st = webextest.StatusProvisioned
		}
		seeded[o.ID] = outcome{st, o.Outcome.Delay}
	}
	bigUUID, ok := bot.OrgUUID(webextest.BigOrgID)
	if !ok {
		t.Fatalf("no UUID in %s", webextest.BigOrgID)
	}
	tests := []struct {
		name        string
		in          outcomeRequest
		want        func(orgID string) outcome
		wantApplied outcomeRequest
	}{
		{"one organization", outcomeRequest{OrgID: webextest.BigOrgID, Status: webextest.StatusError, DelaySeconds: 5},
			func(id string) outcome {
				if id == webextest.BigOrgID {
					return outcome{webextest.StatusError, 5 * time.Second}
				}
				return seeded[id]
			}, outcomeRequest{OrgID: webextest.BigOrgID, Status: webextest.StatusError, DelaySeconds: 5}},
		{"every organization", outcomeRequest{Status: webextest.StatusPendingReview, DelaySeconds: 1.5},
			func(string) outcome { return outcome{webextest.StatusPendingReview, 1500 * time.Millisecond} },
			outcomeRequest{Status: webextest.StatusPendingReview, DelaySeconds: 1.5}},
		{"as seeded", outcomeRequest{Status: outcomeSeeded},
			func(id string) outcome { return seeded[id] }, outcomeRequest{Status: outcomeSeeded, DelaySeconds: 1.5}},
		{"one organization by its UUID", outcomeRequest{OrgID: bigUUID, Status: webextest.StatusProvisionedWithErrors, DelaySeconds: 3},
			func(id string) outcome {
				if id == webextest.BigOrgID {
					return outcome{webextest.StatusProvisionedWithErrors, 3 * time.Second}
				}
				return seeded[id]
			}, outcomeRequest{OrgID: webextest.BigOrgID, Status: webextest.StatusProvisionedWithErrors, DelaySeconds: 3}},
	}
	for _, tt := range tests {
		var v scenariosView
		s.post("/sandbox/api/outcome", tt.in, &v)
		got, want := map[string]outcome{}, map[string]outcome{}
		shown := map[string]outcome{}
		for _, o := range webextest.SeedOrgs() {
			cur, _ := s.env.sim.Org(o.ID)
			got[o.ID] = outcome{cur.Outcome.Status, cur.Outcome.Delay}
			want[o.ID] = tt.want(o.ID)
		}
		for _, sc := range v.Scenarios {
			shown[sc.OrgID] = outcome{sc.Outcome, time.Duration(sc.DelaySeconds * float64(time.Second))}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: the simulator's outcomes (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(want, shown); diff != "" {
			t.Errorf("%s: the scenarios' outcomes (-want +shown):\n%s", tt.name, diff)
		}
		// A reload asks GET scenarios, and shows the control as it was applied.
		var reloaded scenariosView
		if status, body := s.do(http.MethodGet, "/sandbox/api/scenarios", ""); status != http.StatusOK || json.Unmarshal(body, &reloaded) != nil {
			t.Fatalf("GET scenarios = %d %s", status, body)
		}
		if diff := cmp.Diff(tt.wantApplied, reloaded.Applied); diff != "" {
			t.Errorf("%s: the control's setting after a reload (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestSandboxScenariosDoWhatTheySay(t *testing.T) {
	s := newTestSandbox(t)
	status, body := s.do(http.MethodGet, "/sandbox/api/scenarios", "")
	if status != http.StatusOK {
		t.Fatalf("GET scenarios = %d: %s", status, body)
	}
	var v scenariosView
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, sc := range v.Scenarios {
		got = append(got, sc.OrgID)
		if !strings.Contains(sc.Line, "admin="+sc.AdminEmail) || sc.Description == "" || sc.Demonstrates == "" {
			t.Errorf("scenario %s: line %q, description %q, demonstrates %q; want the admin's email in the line and both texts", sc.OrgName, sc.Line, sc.Description, sc.Demonstrates)
		}
	}
	for _, o := range webextest.SeedOrgs() {
		want = append(want, o.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the scenarios' organizations (-seeded +listed):\n%s", diff)
	}

	// Each line, typed by the partner admin, does what its scenario says.
	tests := []struct {
		org     string
		partner []string // what the bot must say in the partner space
		admin   string   // a customer admin who must get the approval card ("" for none)
	}{
		{webextest.SmallOrgID, []string{"**Automatic attach**", "is provisioned.", "**Provisioning Admin**"}, ""},
		{webextest.BigOrgID, []string{"**The customer admin must approve**", "100 users or more"}, webextest.BigAdminID},
		{webextest.NoLicenseOrgID, []string{"**Automatic attach**", "is provisioned.", "**Full Admin**"}, ""},
		{webextest.TrialOrgID, []string{"Webex's precheck refused", "Trial organizations cannot be converted"}, ""},
		{webextest.CustomerOrgID, []string{"already is a wholesale customer"}, ""},
		{webextest.ErrorOrgID, []string{"**Automatic attach**", "failed. Nothing more happens by itself", "(code 2560)"}, ""},
		{webextest.HiddenOrgID, []string{"**The customer admin must approve** (the safe side)"}, webextest.HiddenAdminID},
	}
	for _, tt := range tests {
		s.say(webextest.AnnID, webextest.PartnerSpaceID, scenarioLine(t, tt.org))
	}
	companyRE := regexp.MustCompile(`name="([^"]*)"`)
	for _, tt := range tests {
		// The bot names the customer by the company name of the line (name=), not its id.
		company := companyRE.FindStringSubmatch(scenarioLine(t, tt.org))
		if company == nil {
			t.Fatalf("the scenario line of %s has no name=", tt.org)
		}
		for _, part := range tt.partner {
			s.waitFor(fmt.Sprintf("%q in the partner space", part), func() bool {
				for _, m := range s.env.sim.Messages(webextest.PartnerSpaceID) {
					if m.PersonID == webextest.BotID && strings.Contains(m.Markdown, part) && bottest.Contains(m.Markdown, company[1]) {
						return true
					}
				}
				return false
			})
		}
		if tt.admin != "" {
			s.approvalCard(tt.admin)
		}
	}
	for _, admin := range []string{webextest.SmallAdminID, webextest.NoLicenseAdminID, webextest.TrialAdminID, webextest.CustomerAdminID, webextest.ErrorAdminID} {
		if msgs := s.env.sim.Messages(s.directSpace(admin)); len(msgs) != 0 {
			t.Errorf("the bot wrote to %s, whose approval no scenario asks: %+v", admin, msgs)
		}
	}
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
	var stderr syncBuffer
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

// syncBuffer is a bytes.Buffer safe for the sandbox's logger and the test.
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
		{"GET", "healthz", 200, "text/plain", "ok"},
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
		{busy.Addr().String(), "listen on " + busy.Addr().String() + " (LISTEN_ADDR)"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := map[string]string{"LISTEN_ADDR": tt.addr, "SANDBOX_DB": filepath.Join(t.TempDir(), "x.db")}
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

// newBrowser starts headless Chromium for the test and returns its context, which ends
// after timeout. The test is skipped, saying why, when no Chromium or Chrome is installed.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	var execPath string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			execPath = p
			break
		}
	}
	if execPath == "" {
		t.Skip("no browser: none of chromium, chromium-browser, google-chrome is on PATH (.ci/run installs Debian's chromium)")
	}
	profile := t.TempDir() // removed after the browser has exited: cleanups run in reverse
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1600, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", execPath, err)
	}
	return ctx
}

// do runs browser steps, failing the test with what they were for.
func do(ctx context.Context, t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one browser action that returns a value.
func get[T any](ctx context.Context, t *testing.T, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Selectors of the page.
const (
	partnerComposer = `#partner-space .composer textarea`
	partnerSend     = `#partner-space .composer button.send`
	directApprove   = `#direct-space .ac-card button.ac-action[data-title="Approve"]`
)

func TestSandboxInBrowser(t *testing.T) {
	started := time.Now()
	ctx := newBrowser(t, 50*time.Second)
	url := runSandbox(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "SANDBOX_DB": filepath.Join(t.TempDir(), "attachbot.db")})
	line := scenarioLine(t, webextest.BigOrgID)

	// The page is used from 1024 pixels wide: the test runs it at that width.
	bigScenario := `#scenario-list li[data-org-id="` + webextest.BigOrgID + `"] button[data-fill="attach"]`
	do(ctx, t, "open the page and set the next provisioning of Bigcorp to end provisioned after 1s",
		chromedp.EmulateViewport(1024, 768),
		chromedp.Navigate(url),
		chromedp.WaitVisible(bigScenario),
		chromedp.SetValue(`#outcome-status`, webextest.StatusProvisioned),
		chromedp.SetValue(`#outcome-delay`, "1"),
		chromedp.SetValue(`#outcome-org`, webextest.BigOrgID),
		chromedp.Click(`#outcome-form button[type="submit"]`),
		chromedp.WaitVisible(`#outcome-note[data-applied="true"]`),
	)
	do(ctx, t, "reload the page", chromedp.Reload(), chromedp.WaitVisible(bigScenario))
	control := get(ctx, t, "read the outcome control after the reload", chromedp.Evaluate[[]string](
		`["outcome-status", "outcome-delay", "outcome-org", "outcome-note"].map(id => { const e = document.getElementById(id); return e.value === undefined ? e.textContent : e.value; })`))
	if want := []string{webextest.StatusProvisioned, "1", webextest.BigOrgID, "The next provisioning of Bigcorp Logistics ends in provisioned after 1 s."}; !cmp.Equal(want, control) {
		t.Errorf("after a reload the outcome control shows %q, want the applied setting %q", control, want)
	}
	topBarBefore := get(ctx, t, "measure the top bar", chromedp.Evaluate[[]float64](topBarGeometry))
	do(ctx, t, "type the attach line as the partner admin and see the approval card in the customer admin's space",
		chromedp.Click(`#acting button[data-role="partner"]`),
		chromedp.SendKeys(partnerComposer, line),
		chromedp.Click(partnerSend),
		chromedp.WaitVisible(`//section[@id="partner-space"]//div[contains(@class,"message-body")][contains(., "The customer admin must approve")]`),
		chromedp.WaitVisible(directApprove),
	)
	directTitle := get(ctx, t, "read the direct space's title", chromedp.Text(`#direct-space .space-title`))
	refusalNotice := `//section[@id="partner-space"]//div[contains(@class,"message-body")][contains(., "tried to approve")]`
	do(ctx, t, "click Approve as the outsider and see the bot's refusal told in the partner space",
		chromedp.Click(`#acting button[data-role="outsider"]`),
		chromedp.Click(directApprove),
		chromedp.WaitVisible(refusalNotice),
		// Eve's own direct space is not on the page: the bot's message to her shows in the
		// status line.
		chromedp.WaitVisible(`//div[@id="status"][contains(., "attachbot to Eve Outsider, directly: Sorry, you can't approve or decline request")]`),
	)
	refusal := get(ctx, t, "read the refusal", chromedp.Text(refusalNotice))
	if topBar := get(ctx, t, "measure the top bar with a long status line", chromedp.Evaluate[[]float64](topBarGeometry)); !cmp.Equal(topBarBefore, topBar) {
		t.Errorf("a long status line moves the top bar: [height, acting switch left, top, status line height] went from %v to %v", topBarBefore, topBar)
	}
	provisionedCard := `//section[@id="partner-space"]//div[contains(@class,"ac-text")][contains(., " is provisioned")]`
	do(ctx, t, "click Approve as the customer admin and see the provisioned notice in the partner space",
		chromedp.Click(`#acting button[data-role="customer"]`),
		chromedp.Click(directApprove),
		chromedp.WaitVisible(`//section[@id="direct-space"]//div[contains(@class,"message-body")][contains(., "You approved request")]`),
		chromedp.WaitVisible(provisionedCard),
	)
	provisioned := get(ctx, t, "read the provisioned card", chromedp.Text(provisionedCard))
	if clipped := get(ctx, t, "look for clipped parts", chromedp.Evaluate[[]string](clippedParts)); len(clipped) != 0 {
		t.Errorf("at 1024 pixels wide, these parts of the page are clipped: %q", clipped)
	}
	screenshot := get(ctx, t, "take a screenshot", chromedp.FullScreenshot(100))
	if directTitle != "Bill Big" {
		t.Errorf("the direct space shown is %q's, want Bill Big's", directTitle)
	}
	if want := webextest.EveEmail + " tried to approve attach"; !strings.Contains(refusal, want) || !strings.Contains(refusal, "was refused") {
		t.Errorf("the outsider's click shows %q, want %q in it", refusal, want)
	}
	if !strings.HasPrefix(provisioned, "Attach ") {
		t.Errorf("the provisioned card says %q, want Attach <id> is provisioned", provisioned)
	}
	shot := filepath.Join(t.TempDir(), "sandbox-1024.png")
	if err := os.WriteFile(shot, screenshot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the sandbox at 1024 pixels: %s (the browser scenario took %s)", shot, time.Since(started).Round(time.Millisecond))
}

// topBarGeometry measures what a long status line must not change: the top bar's height,
// the acting switch's position, and the status line's height (one line).
const topBarGeometry = `(() => {
	const bar = document.querySelector(".topbar").getBoundingClientRect();
	const acting = document.getElementById("acting").getBoundingClientRect();
	return [bar.height, acting.left, acting.top, document.getElementById("status").getBoundingClientRect().height];
})()`

// clippedParts lists the page's parts that do not fit in the window's width, or are cut
// inside their own box: the spaces, the panel, the composers' Send buttons, the acting
// switch, the cards' buttons.
const clippedParts = `(() => {
	const clipped = [];
	if (document.documentElement.scrollWidth > window.innerWidth) clipped.push("the page scrolls sideways");
	const parts = ["#partner-space", "#direct-space", "#scenarios", "#acting", ".brand",
		"#partner-space .send", "#direct-space .send", "#outcome-form button", ".space-picker select"];
	for (const sel of parts) {
		const e = document.querySelector(sel);
		if (!e) { clipped.push(sel + " is missing"); continue; }
		const r = e.getBoundingClientRect();
		if (r.left < 0 || r.right > window.innerWidth || r.width < 1) clipped.push(sel + " is outside the window");
	}
	for (const e of document.querySelectorAll(".space-title, .composer textarea")) {
		if (e.clientHeight > 40) clipped.push(e.closest(".space").id + " " + e.tagName.toLowerCase() + "." + e.className + " takes several lines");
	}
	for (const e of document.querySelectorAll(".ac-action, .acting button, .brand strong, .space-title, .message-meta .name")) {
		if (e.scrollWidth > e.clientWidth + 1) clipped.push("the text of " + e.textContent.trim() + " is cut");
		const r = e.getBoundingClientRect();
		if (r.right > window.innerWidth) clipped.push(e.textContent.trim() + " is outside the window");
	}
	return clipped;
})()`

// goldenCards returns the cards of cards/testdata by name.
func goldenCards(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "cards", "testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	cards := map[string]json.RawMessage{}
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "schema") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cards[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	if len(cards) == 0 {
		t.Fatal("no golden cards in cards/testdata")
	}
	return cards
}

// cardSummary is what the page's renderer reports of a card (attachbotCards.inspect).
type cardSummary struct {
	Types       []string `json:"types"`
	Unsupported []string `json:"unsupported"`
	Inputs      []string `json:"inputs"`
	Actions     []string `json:"actions"`
}

// summarize walks a card's JSON as the renderer should: the element and action types, the
// input ids and the action titles, in document order (a ShowCard's card after its button).
func summarize(t *testing.T, card json.RawMessage) cardSummary {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(card, &root); err != nil {
		t.Fatal(err)
	}
	s := cardSummary{Unsupported: []string{}, Inputs: []string{}, Actions: []string{}}
	types := map[string]bool{}
	var walkCard func(c map[string]any)
	var walkItems func(items []any)
	var walkActions func(actions []any)
	walkItems = func(items []any) {
		for _, it := range items {
			e, ok := it.(map[string]any)
			if !ok {
				continue
			}
			typ, _ := e["type"].(string)
			types[typ] = true
			if strings.HasPrefix(typ, "Input.") {
				id, _ := e["id"].(string)
				s.Inputs = append(s.Inputs, id)
			}
			if items, ok := e["items"].([]any); ok {
				walkItems(items)
			}
			if cols, ok := e["columns"].([]any); ok {
				for _, c := range cols {
					if col, ok := c.(map[string]any); ok {
						types["Column"] = true
						items, _ := col["items"].([]any)
						walkItems(items)
					}
				}
			}
			if actions, ok := e["actions"].([]any); ok && typ == "ActionSet" {
				walkActions(actions)
			}
		}
	}
	walkActions = func(actions []any) {
		for _, a := range actions {
			act, ok := a.(map[string]any)
			if !ok {
				continue
			}
			typ, _ := act["type"].(string)
			types[typ] = true
			title, _ := act["title"].(string)
			s.Actions = append(s.Actions, title)
			if c, ok := act["card"].(map[string]any); ok {
				walkCard(c)
			}
		}
	}
	walkCard = func(c map[string]any) {
		body, _ := c["body"].([]any)
		walkItems(body)
		actions, _ := c["actions"].([]any)
		walkActions(actions)
	}
	walkCard(root)
	for typ := range types {
		s.Types = append(s.Types, typ)
	}
	sort.Strings(s.Types)
	return s
}

// everyElementCard uses every element and action the renderer supports.
const everyElementCard = `{
  "type": "AdaptiveCard", "version": "1.3",
  "body": [
    {"type": "TextBlock", "text": "**Every** element", "size": "large", "weight": "bolder", "wrap": true},
    {"type": "RichTextBlock", "inlines": ["plain ", {"type": "TextRun", "text": "bold", "weight": "bolder"}, {"type": "TextRun", "text": " struck", "strikethrough": true}]},
    {"type": "FactSet", "facts": [{"title": "Fact", "value": "value"}]},
    {"type": "ColumnSet", "columns": [
      {"type": "Column", "width": "auto", "items": [{"type": "Image", "url": "data:image/gif;base64,R0lGODlhAQABAAAAACw=", "altText": "dot", "size": "small", "style": "person"}]},
      {"type": "Column", "width": "stretch", "items": [{"type": "Container", "style": "emphasis", "items": [{"type": "TextBlock", "text": "in a container", "wrap": true}]}]}
    ]},
    {"type": "TextBlock", "id": "secret", "text": "now you see me", "isVisible": false},
    {"type": "Input.Text", "id": "name", "label": "Name", "isRequired": true, "errorMessage": "Enter a name."},
    {"type": "Input.Number", "id": "count", "label": "Count", "min": 1, "max": 10, "isRequired": true},
    {"type": "Input.Date", "id": "when", "label": "When", "value": "2026-11-24"},
    {"type": "Input.Toggle", "id": "agree", "title": "I agree", "valueOn": "yes", "valueOff": "no"},
    {"type": "Input.ChoiceSet", "id": "colors", "isMultiSelect": true, "style": "expanded", "choices": [{"title": "Red", "value": "red"}, {"title": "Blue", "value": "blue"}]},
    {"type": "Input.ChoiceSet", "id": "size", "style": "compact", "value": "m", "choices": [{"title": "Small", "value": "s"}, {"title": "Medium", "value": "m"}]},
    {"type": "ActionSet", "actions": [{"type": "Action.ToggleVisibility", "title": "Reveal", "targetElements": ["secret"]}]}
  ],
  "actions": [
    {"type": "Action.Submit", "title": "Send", "data": {"action": "send", "name": "overwritten by the input"}},
    {"type": "Action.ShowCard", "title": "More", "card": {"type": "AdaptiveCard", "body": [{"type": "Input.Text", "id": "note", "label": "Note"}], "actions": [{"type": "Action.Submit", "title": "Send note", "data": {"action": "note"}}]}},
    {"type": "Action.OpenUrl", "title": "Open", "url": "https://example.com/"}
  ]
}`

func TestCardRendererInBrowser(t *testing.T) {
	ctx := newBrowser(t, 50*time.Second)
	url := runSandbox(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "SANDBOX_DB": filepath.Join(t.TempDir(), "attachbot.db")})
	do(ctx, t, "open the page", chromedp.Navigate(url), chromedp.WaitReady(`#scenario-list`))

	t.Run("every golden card renders completely", func(t *testing.T) {
		cards := goldenCards(t)
		names := make([]string, 0, len(cards))
		for name := range cards {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			got := get(ctx, t, "inspect "+name, chromedp.Evaluate[cardSummary](`attachbotCards.inspect(`+string(cards[name])+`)`))
			if diff := cmp.Diff(summarize(t, cards[name]), got); diff != "" {
				t.Errorf("%s: the rendered card differs from its JSON (-json +rendered):\n%s", name, diff)
			}
		}
	})

	t.Run("markdown is escaped, and links and code keep their text", func(t *testing.T) {
		for _, tt := range []struct{ md, want string }{
			{`<img src=x onerror=alert(1)> **bold**`, `<p>&lt;img src=x onerror=alert(1)&gt; <strong>bold</strong></p>`},
			{`[the **docs**](https://example.com/a**b**c)`, `<p><a href="https://example.com/a**b**c" target="_blank" rel="noopener noreferrer">the <strong>docs</strong></a></p>`},
			{"`a *b* c` and *d*", `<p><code>a *b* c</code> and <em>d</em></p>`},
			{`[x](javascript:alert(1))`, `<p>[x](javascript:alert(1))</p>`},
			{"## Attach **K7QM2X** failed", `<h2>Attach <strong>K7QM2X</strong> failed</h2>`},
			{"# *one* `two`", `<h1><em>one</em> <code>two</code></h1>`},
		} {
			md, err := json.Marshal(tt.md)
			if err != nil {
				t.Fatal(err)
			}
			got := get(ctx, t, "render "+tt.md, chromedp.Evaluate[string](`attachbotMarkdown(`+string(md)+`)`))
			if got != tt.want {
				t.Errorf("markdown %q renders as\n%s\nwant\n%s", tt.md, got, tt.want)
			}
		}
	})

	t.Run("values outside the enums do not break the renderer", func(t *testing.T) {
		odd := `{"type": "AdaptiveCard", "version": "1.3", "body": [
			{"type": "TextBlock", "text": "odd", "size": "extra large", "weight": {"x": 1}, "color": "bad\u0000"},
			{"type": "Container", "style": "a b", "items": [{"type": "Image", "url": "https://example.com/x.png", "size": "very big"}]}]}`
		got := get(ctx, t, "inspect the odd card", chromedp.Evaluate[cardSummary](`attachbotCards.inspect(`+odd+`)`))
		if len(got.Unsupported) != 0 {
			t.Errorf("the odd card rendered with unsupported parts: %v", got.Unsupported)
		}
	})

	// Each case renders a card into the page, fills inputs, clicks a button, and reads what
	// was submitted and which inputs were marked.
	golden := goldenCards(t)
	tests := []struct {
		name   string
		card   string
		fill   map[string]string // input id → value typed
		tick   []string          // selectors (inside the card) clicked before the button
		button string
		want   []map[string]any  // the submissions
		errors map[string]string // input id → the message shown
	}{
		{
			name: "required inputs block the submit", card: string(golden["wizard-3-address"]), button: "Next",
			want: []map[string]any{},
			errors: map[string]string{
				"street":            "Enter the street address (at most 50 characters).",
				"city":              "Enter the city (at most 50 characters).",
				"locationConfirmed": "Webex for Wholesale can only be attached where Webex is supported: tick the box to confirm the customer is in a supported location.",
			},
		},
		{
			name: "the data is merged with the inputs that hold a value", card: string(golden["wizard-3-address"]), button: "Next",
			fill: map[string]string{"street": "Nørregade 12", "city": "København K", "zip": "1165"},
			tick: []string{`[data-input-id="locationConfirmed"] input`},
			want: []map[string]any{{
				"action": "wizard", "step": "3", "state": wizardState(t, golden["wizard-3-address"]),
				"street": "Nørregade 12", "city": "København K", "zip": "1165",
				"country": "DK", "locationConfirmed": "true",
			}},
			errors: map[string]string{},
		},
		{
			name: "associatedInputs none sends the data alone", card: string(golden["wizard-3-address"]), button: "Cancel",
			want:   []map[string]any{{"action": "wizard.cancel", "state": wizardState(t, golden["wizard-3-address"])}},
			errors: map[string]string{},
		},
		{
			name: "a regex mismatch is marked", card: string(golden["wizard-4-packages"]), button: "Next",
			fill: map[string]string{"timezone": "not a zone"},
			tick: []string{`input[data-choice-of="packages"][value="webex_meetings"]`},
			want: []map[string]any{},
			errors: map[string]string{
				"timezone": "Enter a time zone such as America/Los_Angeles or Europe/Copenhagen.",
			},
		},
		{
			name: "a multi-select is a comma list", card: string(golden["wizard-4-packages"]), button: "Next",
			tick: []string{`input[data-choice-of="packages"][value="webex_calling"]`, `input[data-choice-of="packages"][value="webex_meetings"]`},
			want: []map[string]any{{
				"action": "wizard", "step": "4", "state": wizardState(t, golden["wizard-4-packages"]),
				"packages": "webex_calling,webex_meetings",
				"users":    "unknown", "verifiedDomain": "unknown", "claimedDomain": "unknown", "trial": "unknown", "inactiveLicenses": "unknown",
			}},
			errors: map[string]string{},
		},
		{
			name: "every element, with a required number and a toggle", card: everyElementCard, button: "Send",
			fill: map[string]string{"name": "Ann", "count": "3"},
			tick: []string{`button[data-title="Reveal"]`, `input[data-choice-of="colors"][value="blue"]`, `[data-input-id="agree"] input`},
			want: []map[string]any{{
				"action": "send", "name": "Ann", "count": "3", "when": "2026-11-24", "agree": "yes", "colors": "blue", "size": "m",
			}},
			errors: map[string]string{},
		},
		{
			name: "a number out of range is marked", card: everyElementCard, button: "Send",
			fill:   map[string]string{"name": "Ann", "count": "11"},
			want:   []map[string]any{},
			errors: map[string]string{"count": "Enter a number of at most 10."},
		},
		{
			name: "a ShowCard's submit sends its inputs and its parent's", card: everyElementCard, button: "Send note",
			fill: map[string]string{"name": "Ann", "count": "1", "note": "hi"},
			tick: []string{`button[data-title="More"]`},
			want: []map[string]any{{
				"action": "note", "note": "hi", "name": "Ann", "count": "1", "when": "2026-11-24", "agree": "no", "size": "m",
			}},
			errors: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const host = `#card-under-test`
			actions := []chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](`(() => {
				document.querySelector("#card-under-test")?.remove();
				const host = document.createElement("div");
				host.id = "card-under-test";
				host.style.cssText = "position:fixed;top:0;left:0;width:600px;max-height:100vh;overflow:auto;background:#fff;z-index:10";
				window.submitted = [];
				host.append(attachbotCards.render(` + tt.card + `, {onSubmit: d => { window.submitted.push(d); return Promise.resolve(); }}));
				document.body.append(host);
			})()`)}
			for _, sel := range tt.tick {
				if strings.HasPrefix(sel, "button") {
					actions = append(actions, chromedp.Click(host+" "+sel))
				}
			}
			if _, ok := tt.fill["note"]; ok {
				actions = append(actions, chromedp.WaitVisible(host+` [data-input-id="note"]`))
			}
			ids := make([]string, 0, len(tt.fill))
			for id := range tt.fill {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				actions = append(actions, chromedp.SendKeys(host+` [data-input-id="`+id+`"]`, tt.fill[id]))
			}
			for _, sel := range tt.tick {
				if !strings.HasPrefix(sel, "button") {
					actions = append(actions, chromedp.Click(host+" "+sel))
				}
			}
			actions = append(actions, chromedp.Click(host+` button.ac-action[data-title="`+tt.button+`"]`))
			do(ctx, t, "fill the card and click "+tt.button, actions...)
			submitted := get(ctx, t, "read the submissions", chromedp.Evaluate[[]map[string]any](`window.submitted`))
			shown := get(ctx, t, "read the marked inputs", chromedp.Evaluate[map[string]string](
				`Object.fromEntries(Array.from(document.querySelectorAll("#card-under-test .ac-input-error:not([hidden])")).map(e => [e.dataset.errorFor, e.textContent]))`))
			if diff := cmp.Diff(tt.want, submitted); diff != "" {
				t.Errorf("submitted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.errors, shown); diff != "" {
				t.Errorf("inputs marked (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("ToggleVisibility shows the hidden element", func(t *testing.T) {
		hiddenBefore := get(ctx, t, "render the card", chromedp.Evaluate[bool](`(() => {
				document.querySelector("#card-under-test")?.remove();
				const host = document.createElement("div");
				host.id = "card-under-test";
				host.style.cssText = "position:fixed;top:0;left:0;width:600px;background:#fff;z-index:10";
				host.append(attachbotCards.render(`+everyElementCard+`, {}));
				document.body.append(host);
				return host.querySelector('[data-ac-id="secret"]').hidden;
			})()`))
		do(ctx, t, "click Reveal", chromedp.Click(`#card-under-test button[data-title="Reveal"]`))
		hiddenAfter := get(ctx, t, "read the element", chromedp.Evaluate[bool](`document.querySelector('#card-under-test [data-ac-id="secret"]').hidden`))
		if !hiddenBefore || hiddenAfter {
			t.Errorf("hidden before and after Reveal = %v, %v; want true, false", hiddenBefore, hiddenAfter)
		}
	})
}

// wizardState returns the state a wizard card's Submit actions carry.
func wizardState(t *testing.T, card json.RawMessage) string {
	t.Helper()
	var c struct {
		Actions []struct {
			Data map[string]string `json:"data"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(card, &c); err != nil || len(c.Actions) == 0 {
		t.Fatalf("decode the wizard card: %v", err)
	}
	return c.Actions[0].Data["state"]
}

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
