package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// precheckCalls returns the bodies of POST /wholesale/customers/validate Webex received.
func (h *harness) precheckCalls() []map[string]any {
	h.T.Helper()
	var bodies []map[string]any
	for _, c := range h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers/validate") {
		var body map[string]any
		if err := json.Unmarshal(c.Body, &body); err != nil {
			h.T.Fatalf("POST /wholesale/customers/validate body: %v\n%s", err, c.Body)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

// TestAttachCustomerName: Webex requires customerInfo.name with customerInfo.primaryEmail. The
// name comes from name=, else from the organization's display name, else the partner is asked
// for it and nothing is written to Webex.
func TestAttachCustomerName(t *testing.T) {
	const facts = "verified-domain=no claimed-domain=no trial=no"
	tests := []struct {
		name     string
		managed  bool   // the partner can read the organization's display name
		line     string // the attach line after org= and admin=
		wantName string // customerInfo.name, or "" when the partner is asked
	}{
		{"name= wins", true, `template=Standard packages=webex_meetings name="Given Name" street="Storgata 1" city=Oslo country=NO ` + facts, "Given Name"},
		{"the display name of a managed org", true, `template=Standard packages=webex_meetings street="Storgata 1" city=Oslo country=NO ` + facts, "Fjord Fisk AS"},
		{"an org the partner cannot read", false, `template=Standard packages=webex_meetings street="Storgata 1" city=Oslo country=NO ` + facts, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			org, err := h.Sim.AddOrg(webextest.Org{Name: "Fjord Fisk AS", AdminEmail: "admin@fjordfisk.example", Users: 12,
				Readable: true, Managed: tt.managed, Licenses: []webextest.License{{Name: "Messaging", TotalUnits: 12, ConsumedUnits: 12}}})
			if err != nil {
				t.Fatal(err)
			}
			_, replies := h.attach("attach org=" + org.ID + " admin=admin@fjordfisk.example " + tt.line)
			bodies := h.provisionCalls()
			if tt.wantName == "" {
				apptest.MustContain(t, "the reply", apptest.Joined(replies), "name is missing", `name="Acme Inc"`)
				if len(bodies) != 0 || len(h.webexWrites()) != 0 {
					t.Errorf("Webex writes %q without a customer name, want none", h.webexWrites())
				}
				return
			}
			if len(bodies) != 1 {
				t.Fatalf("POST /wholesale/customers %d times, want once; replies:\n%s", len(bodies), apptest.Joined(replies))
			}
			want := map[string]any{"name": tt.wantName, "primaryEmail": "admin@fjordfisk.example"}
			if diff := cmp.Diff(want, bodies[0]["customerInfo"]); diff != "" {
				t.Errorf("customerInfo (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAttachLanguages: customerInfo.language is sent as {ISO-639-1}_{ISO-3166} (en_US), the
// calling location's language as its schema shows (en_us), and the precheck's customerInfo
// has no language at all.
func TestAttachLanguages(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	line := strings.Replace(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_calling", "verified-domain=no claimed-domain=no"),
		"country=NO", "country=NO language=en_GB", 1)
	_, replies := h.attach(line)
	bodies := h.provisionCalls()
	if len(bodies) != 1 {
		t.Fatalf("POST /wholesale/customers %d times, want once; replies:\n%s", len(bodies), apptest.Joined(replies))
	}
	if got := bodies[0]["customerInfo"].(map[string]any)["language"]; got != "en_GB" {
		t.Errorf("customerInfo.language = %v, want en_GB", got)
	}
	loc := bodies[0]["provisioningParameters"].(map[string]any)["calling"].(map[string]any)["location"].(map[string]any)
	if got := loc["language"]; got != "en_gb" {
		t.Errorf("the calling location's language = %v, want en_gb", got)
	}
	prechecks := h.precheckCalls()
	if len(prechecks) != 1 {
		t.Fatalf("%d prechecks, want 1", len(prechecks))
	}
	want := map[string]any{"name": "Nordlys AS", "primaryEmail": webextest.SmallAdminEmail}
	if diff := cmp.Diff(want, prechecks[0]["customerInfo"]); diff != "" {
		t.Errorf("the precheck's customerInfo (-want +got):\n%s", diff)
	}

	// A bare language: the country's default when it is that language, else the partner is
	// asked for the country too.
	h2 := newHarness(t, apptest.Options{})
	bare := strings.Replace(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_calling", "verified-domain=no claimed-domain=no"),
		"country=NO", "country=NO language=en", 1)
	_, replies = h2.attach(bare)
	apptest.MustContain(t, "the reply to language=en in Norway", apptest.Joined(replies), "a calling location needs a language with its country, such as en_us")
	if got := h2.webexWrites(); len(got) != 0 {
		t.Errorf("Webex writes %q after a bad language, want none", got)
	}
}

// TestEveryCommandConformsToTheSpec drives every command and card (retry included) through the simulated
// Webex, which checks each request against the official spec, and asserts that nothing was
// refused for its shape (the harness asserts it again when the test ends).
func TestEveryCommandConformsToTheSpec(t *testing.T) {
	h := newHarness(t, apptest.Options{ManualClock: true})
	bigOrg := func(name, email string) string {
		t.Helper()
		org, err := h.Sim.AddOrg(webextest.Org{Name: name, AdminEmail: email, Users: 120, Readable: true,
			Licenses: []webextest.License{{Name: "Messaging", TotalUnits: 120, ConsumedUnits: 120}}})
		if err != nil {
			t.Fatal(err)
		}
		return org.ID
	}
	say := func(text string) []webextest.Message {
		t.Helper()
		return h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, text))
	}
	const address = `street="Storgata 1" city=Oslo zip=0155 country=NO verified-domain=no claimed-domain=no`

	say("help")
	apptest.MustContain(t, "check with the precheck", apptest.Joined(say("check "+webextest.SmallOrgID+
		" admin="+webextest.SmallAdminEmail+" template=Standard packages=webex_calling,webex_meetings "+address)), "Precheck: success")
	apptest.MustContain(t, "attach without name=", apptest.Joined(say("attach org="+webextest.SmallOrgID+" admin="+webextest.SmallAdminEmail+
		" template=Standard packages=webex_meetings "+address)), "name is missing")
	automatic, replies := h.attach("attach org=" + webextest.SmallOrgID + " admin=" + webextest.SmallAdminEmail +
		` template=Calling packages=webex_calling,attendant_console name="Smallville Bakery" language=nb_NO ` + address)
	apptest.MustContain(t, "attach with name=", apptest.Joined(replies), "submitted")

	// The wizard, every step.
	wizard := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "attach")
	for _, step := range []map[string]any{
		{bot.InputAdminEmail: webextest.NoLicenseAdminEmail, bot.InputOrgID: webextest.NoLicenseOrgID},
		{bot.InputCustomerName: "Freelancers Guild", bot.InputTemplate: "Standard"},
		{bot.InputStreet: "Storgata 1", bot.InputCity: "Oslo", bot.InputZip: "0155", bot.InputCountry: "NO", bot.InputLocationConfirmed: "true"},
		{bot.InputPackages: "webex_meetings", bot.InputVerifiedDomain: "no", bot.InputClaimedDomain: "no", bot.InputTrial: "no"},
	} {
		h.Press(webextest.AnnID, h.lastCard(wizard), "Next", step)
	}
	h.Press(webextest.AnnID, h.lastCard(wizard), "Create customer", nil)
	apptest.MustContain(t, "the wizard's thread", apptest.Joined(h.RepliesTo(wizard)), "submitted")

	// Approve, decline, remind and cancel.
	_, replies = h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	approved := apptest.RequestIDIn(t, replies[0])
	say("remind " + approved)
	h.Press(webextest.BigAdminID, h.DirectFromBot(webextest.BigAdminID)[0], "Approve", map[string]any{bot.InputComment: "Go ahead"})
	declineOrg := bigOrg("Decline Co", "admin@decline.example")
	_, replies = h.attach(attachLine(declineOrg, "admin@decline.example", "webex_meetings", "verified-domain=no claimed-domain=no"))
	apptest.RequestIDIn(t, replies[0])
	decliner, _ := h.Sim.PersonByEmail("admin@decline.example")
	h.Press(decliner.ID, h.DirectFromBot(decliner.ID)[0], "Decline", map[string]any{bot.InputComment: "No"})
	cancelOrg := bigOrg("Cancel Co", "admin@cancel.example")
	_, replies = h.attach(attachLine(cancelOrg, "admin@cancel.example", "webex_meetings", "verified-domain=no claimed-domain=no"))
	apptest.MustContain(t, "cancel", apptest.Joined(say("cancel "+apptest.RequestIDIn(t, replies[0]))), "withdr")

	// The status sweep, the provisioned notice's Full Admin button, status, list and digest.
	h.Clock.Advance(time.Hour)
	h.MustSweep()
	var notice webextest.Message
	for _, m := range h.RepliesTo(automatic) {
		if apptest.SubmitData(t, m, statusAskFullAdmin) != nil {
			notice = m
		}
	}
	if notice.ID == "" {
		t.Fatalf("no provisioned notice with the Full Admin button in:\n%s", apptest.Joined(h.RepliesTo(automatic)))
	}
	h.Click(webextest.AnnID, notice.ID, apptest.SubmitData(t, notice, statusAskFullAdmin))
	if got := h.statusCards(webextest.SmallAdminID); len(got) != 1 {
		t.Errorf("the customer admin got %d Full Admin request cards, want 1", len(got))
	}
	say("status " + approved)
	say("status")
	say("list")
	say("list pending")
	say("digest on")
	h.Clock.Advance(24 * time.Hour)
	h.MustSweep()
	if got := h.statusDigests(webextest.PartnerSpaceID); len(got) != 1 {
		t.Errorf("%d digests, want 1", len(got))
	}
	say("digest off")

	// retry, typed and by the button.
	typed, _ := h.Sim.AddOrg(webextest.Org{Name: "Retry Typed AS", AdminEmail: "admin@typed.example", Users: 5, Readable: true})
	_, failed := h.retryFailed(typed.ID, "admin@typed.example", "webex_calling", webextest.StatusError)
	say("retry " + failed.ID)
	clicked, _ := h.Sim.AddOrg(webextest.Org{Name: "Retry Clicked AS", AdminEmail: "admin@clicked.example", Users: 5, Readable: true})
	root, _ := h.retryFailed(clicked.ID, "admin@clicked.example", "webex_meetings", webextest.StatusProvisionedWithErrors)
	card, data := h.retryCard(root)
	h.Click(webextest.AnnID, card.ID, data)
	if got := h.retryPuts(); len(got) != 2 {
		t.Errorf("PUT /wholesale/customers/{id} %d times, want 2", len(got))
	}

	if got := h.provisionCalls(); len(got) != 5 { // automatic, wizard, approved, the two retried
		t.Errorf("POST /wholesale/customers %d times, want 5", len(got))
	}
	if r := h.Sim.ShapeRefusals(); len(r) != 0 {
		t.Errorf("Webex refused %d requests for their shape: %+v", len(r), r)
	}
}
