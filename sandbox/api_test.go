package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app"
	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/webex/webextest"
)

// The sandbox's JSON API through net/http/httptest: what it refuses, an approval, the long
// poll of the state, the outcome control and the scenarios.

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

// TestSandboxAPIApproval holds over both transports (SANDBOX_EVENTS), so that a person sees
// the same bot over either.
func TestSandboxAPIApproval(t *testing.T) {
	for _, events := range []string{app.EventsWebhook, app.EventsWebsocket} {
		t.Run(events, func(t *testing.T) {
			s := newTestSandboxOver(t, events)
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
		})
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
