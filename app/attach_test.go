package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The attach flow end to end (issue 3): Ann, a partner admin, attaches the seeded
// organizations of the simulated Webex from the partner space; customer admins answer the
// approval cards in their direct spaces.

// attachLine is a complete one-line attach of an organization, with the declared facts in
// facts (such as "verified-domain=no claimed-domain=no").
func attachLine(orgID, adminEmail, packages, facts string) string {
	return fmt.Sprintf(`attach org=%s admin=%s template=Standard packages=%s name="Nordlys AS" street="Storgata 1" city=Oslo zip=0155 country=NO %s`,
		orgID, adminEmail, packages, facts)
}

// attach says line as Ann in the partner space and returns the command message and the
// bot's replies to it.
func (h *harness) attach(line string) (webextest.Message, []webextest.Message) {
	h.T.Helper()
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, line)
	return cmd, h.RepliesTo(cmd)
}

// provisionCalls returns the bodies of POST /wholesale/customers Webex received.
func (h *harness) provisionCalls() []map[string]any {
	h.T.Helper()
	var bodies []map[string]any
	for _, c := range h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers") {
		var body map[string]any
		if err := json.Unmarshal(c.Body, &body); err != nil {
			h.T.Fatalf("POST /wholesale/customers body: %v\n%s", err, c.Body)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

// newCustomers counts the wholesale customers other than the seeded one.
func (h *harness) newCustomers() int {
	n := 0
	for _, c := range h.Sim.Customers() {
		if c.ExternalID != webextest.ExistingExternalID {
			n++
		}
	}
	return n
}

// webexWrites returns the calls that would change something in Webex, other than the bot's
// own messages and webhooks.
func (h *harness) webexWrites() []string {
	var got []string
	for _, c := range h.Sim.Calls() {
		if c.Method == http.MethodGet || strings.HasPrefix(c.Path, "/v1/messages") || c.Path == "/v1/webhooks" || c.Path == "/v1/wholesale/customers/validate" {
			continue
		}
		got = append(got, c.Method+" "+c.Path)
	}
	return got
}

// partnerCalls returns the calls made with the partner token.
func (h *harness) partnerCalls() []string {
	var got []string
	for _, c := range h.Sim.Calls() {
		if c.Identity == webextest.IdentityPartner {
			got = append(got, c.Method+" "+c.Path)
		}
	}
	return got
}

// approvalCard returns the one approval card the bot sent to a customer admin.
func (h *harness) approvalCard(adminID string) webextest.Message {
	h.T.Helper()
	var cards []webextest.Message
	for _, m := range h.DirectFromBot(adminID) {
		if len(m.Attachments) > 0 {
			cards = append(cards, m)
		}
	}
	if len(cards) != 1 {
		h.T.Fatalf("the bot sent %d cards to %s, want 1", len(cards), adminID)
	}
	return cards[0]
}

func TestAttachSmallOrgIsAutomatic(t *testing.T) {
	tests := []struct {
		name     string
		template string
		packages string
		want     map[string]any
	}{
		{
			name: "meetings, template by name", template: "Standard", packages: "webex_meetings",
			want: map[string]any{
				"orgId": webextest.SmallOrgID, "provisioningId": "cHJvdmlzaW9uaW5nSWQtc3RhbmRhcmQ",
				"packages": []any{"webex_meetings"},
			},
		},
		{
			name: "calling, template by provisioningId", template: "cHJvdmlzaW9uaW5nSWQtY2FsbGluZw", packages: "webex_calling",
			want: map[string]any{
				"orgId": webextest.SmallOrgID, "provisioningId": "cHJvdmlzaW9uaW5nSWQtY2FsbGluZw",
				"packages": []any{"webex_calling"},
				"provisioningParameters": map[string]any{"calling": map[string]any{"location": map[string]any{
					"name": "Headquarters", "timezone": "Europe/Oslo", "language": "nb_no",
					"address": map[string]any{"addressLine1": "Storgata 1", "city": "Oslo", "zipOrPostalCode": "0155", "country": "NO"},
				}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			line := strings.Replace(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, tt.packages, "verified-domain=no claimed-domain=no"),
				"template=Standard", "template="+tt.template, 1)
			_, replies := h.attach(line)

			bodies := h.provisionCalls()
			if len(bodies) != 1 {
				t.Fatalf("POST /wholesale/customers %d times, want once; replies:\n%s", len(bodies), apptest.Joined(replies))
			}
			got := bodies[0]
			for _, k := range []string{"externalId", "customerInfo", "address"} {
				if got[k] == nil {
					t.Errorf("the POST has no %s: %v", k, got)
				}
			}
			// Compare what the test decides; the generated externalId and the echoed
			// customer details are checked above.
			trimmed := map[string]any{}
			for k := range tt.want {
				trimmed[k] = got[k]
			}
			if diff := cmp.Diff(tt.want, trimmed); diff != "" {
				t.Errorf("POST /wholesale/customers body (-want +got):\n%s", diff)
			}
			if got, want := got["customerInfo"], map[string]any{"name": "Nordlys AS", "primaryEmail": webextest.SmallAdminEmail}; !cmp.Equal(got, want) {
				t.Errorf("customerInfo = %v, want %v", got, want)
			}
			if n := len(h.DirectFromBot(webextest.SmallAdminID)); n != 0 {
				t.Errorf("the bot wrote to the customer admin %d times; an automatic attach does not ask them", n)
			}
			text := apptest.Joined(replies)
			apptest.MustContain(t, "the replies", text, "Automatic attach", "declared by "+webextest.AnnEmail, "counted 12 users",
				"Precheck: success", "Provisioning Admin", "is submitted", "for **Nordlys AS**")
			if len(replies) != 1 {
				t.Errorf("%d replies to the attach, want one that tells the report and the submission:\n%s", len(replies), text)
			}
			if strings.Contains(text, webextest.SmallOrgID) {
				t.Errorf("the reply names the customer by its organization id, not its company name:\n%s", text)
			}
			if len(h.Sim.Customers()) != 2 { // the seeded one and this one
				t.Errorf("Webex has %d wholesale customers, want 2", len(h.Sim.Customers()))
			}
		})
	}
}

func TestAttachNeedsApproval(t *testing.T) {
	tests := []struct {
		name      string
		orgID     string
		adminID   string
		email     string
		facts     string
		wantWhy   []string
		wantFacts []string
	}{
		{
			name: "150 users", orgID: webextest.BigOrgID, adminID: webextest.BigAdminID, email: webextest.BigAdminEmail,
			facts:     "verified-domain=no claimed-domain=no",
			wantWhy:   []string{"because the organization has 100 users or more"},
			wantFacts: []string{"counted 100 users (stopped there)"},
		},
		{
			name: "150 users, declared fewer", orgID: webextest.BigOrgID, adminID: webextest.BigAdminID, email: webextest.BigAdminEmail,
			facts:     "users=no verified-domain=no claimed-domain=no",
			wantWhy:   []string{"because the organization has 100 users or more"},
			wantFacts: []string{"counted 100 users (stopped there); the declared users=no is ignored"},
		},
		{
			name: "declared verified domain", orgID: webextest.SmallOrgID, adminID: webextest.SmallAdminID, email: webextest.SmallAdminEmail,
			facts:     "verified-domain=yes claimed-domain=no",
			wantWhy:   []string{"because the organization has a verified email domain"},
			wantFacts: []string{"Verified email domain: **yes** (declared by " + webextest.AnnEmail},
		},
		{
			name: "unmanaged org, unknown facts", orgID: webextest.HiddenOrgID, adminID: webextest.HiddenAdminID, email: webextest.HiddenAdminEmail,
			facts:     "",
			wantWhy:   []string{"(the safe side)", "If all of these are known to be false, the attach can be automatic"},
			wantFacts: []string{"answered 403: the partner cannot read its people; declare users=yes|no", "Has licenses: **unknown**"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			_, replies := h.attach(attachLine(tt.orgID, tt.email, "webex_meetings", tt.facts))
			text := apptest.Joined(replies)
			apptest.MustContain(t, "the partner's reply", text, append(tt.wantWhy, tt.wantFacts...)...)
			apptest.MustContain(t, "the partner's reply", text, "I sent an approval card to **"+tt.email+"**",
				"The request expires on "+bot.FormatTime(h.statusRequest(apptest.RequestIDIn(t, replies[0])).ApprovalSent.Add(h.Cfg.ApprovalTTL))+" if nobody answers")

			card := h.approvalCard(tt.adminID)
			if diff := cmp.Diff([]string{"Approve", "Decline"}, apptest.CardButtons(t, card)); diff != "" {
				t.Errorf("approval card buttons (-want +got):\n%s", diff)
			}
			raw := string(card.Attachments[0].Content)
			apptest.MustContain(t, "the approval card", raw, webextest.AnnEmail, bot.OrgIDText(tt.orgID), "Webex Meetings", "If you neither approve nor decline by "+bot.FormatTime(h.statusRequest(apptest.RequestIDIn(t, replies[0])).ApprovalSent.Add(h.Cfg.ApprovalTTL)), apptest.RequestIDIn(t, replies[0]),
				"is not provisioned as an admin user", "external administrator with full admin rights")
			if got := h.provisionCalls(); len(got) != 0 {
				t.Errorf("POST /wholesale/customers %d times before anyone approved", len(got))
			}
		})
	}
}

func TestApprovalClickBySomeoneElse(t *testing.T) {
	tests := []struct {
		name      string
		adminMail string // the admin= of the attach
		personID  string // who clicks
		email     string
		unseen    bool // not in the card's room (Webex would not let them; the bot checks anyway)
		why       string
	}{
		{name: "outsider", adminMail: webextest.BigAdminEmail, personID: webextest.EveID, email: webextest.EveEmail, unseen: true,
			why: "the card was sent to someone else"},
		{name: "the partner admin herself", adminMail: webextest.BigAdminEmail, personID: webextest.AnnID, email: webextest.AnnEmail, unseen: true,
			why: "the card was sent to someone else"},
		{name: "the addressed person, of another organization", adminMail: webextest.EveEmail, personID: webextest.EveID, email: webextest.EveEmail,
			why: "your Webex account belongs to another organization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			cmd, replies := h.attach(attachLine(webextest.BigOrgID, tt.adminMail, "webex_meetings", "verified-domain=no claimed-domain=no"))
			id := apptest.RequestIDIn(t, replies[0])
			adminID := webextest.BigAdminID
			if tt.adminMail == webextest.EveEmail {
				adminID = webextest.EveID
			}
			card := h.approvalCard(adminID)

			click := h.Sim.Click
			if tt.unseen {
				click = h.Sim.ClickUnseen
			}
			if _, err := click(t.Context(), tt.personID, card.ID, h.Submission(card, "Approve", nil)); err != nil {
				t.Fatal(err)
			}
			h.Settle()

			if got := h.provisionCalls(); len(got) != 0 {
				t.Errorf("POST /wholesale/customers %d times after a click by %s", len(got), tt.email)
			}
			refusal := h.DirectFromBot(tt.personID)
			apptest.MustContain(t, "the refusal to "+tt.email, refusal[len(refusal)-1].Markdown,
				"you can't approve or decline request "+id+": "+tt.why, "Only "+tt.adminMail+", an admin of the customer's organization, can.")
			apptest.MustContain(t, "the partner thread", apptest.Joined(h.RepliesTo(cmd)), tt.email+" tried to approve attach **"+id+"** and was refused ("+tt.why+")")
			if tt.unseen {
				if got := h.DirectFromBot(adminID); len(got) != 1 {
					t.Errorf("the customer admin got %d messages, want only the card:\n%s", len(got), apptest.Joined(got))
				}
				// The real admin's click still counts.
				h.Press(adminID, card, "Approve", nil)
				if got := h.provisionCalls(); len(got) != 1 {
					t.Errorf("POST /wholesale/customers %d times after the admin approved, want once", len(got))
				}
			}
		})
	}
}

func TestAttachRefusesAPartnerAdminAsApprover(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	_, replies := h.attach(attachLine(webextest.BigOrgID, strings.ToUpper(webextest.AnnEmail), "webex_meetings", "verified-domain=no claimed-domain=no"))
	apptest.MustContain(t, "the reply", apptest.Joined(replies), "is a partner admin; give the email of the customer organization's admin")
	if got := h.DirectFromBot(webextest.AnnID); len(got) != 0 {
		t.Errorf("the bot sent Ann %d messages", len(got))
	}
}

func TestApprove(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	id := apptest.RequestIDIn(t, replies[0])
	card := h.approvalCard(webextest.BigAdminID)

	// The card's deletion fails once, so that it stays and later clicks on it can be shown
	// to be answered politely.
	h.Sim.Inject(webextest.Fault{Method: http.MethodDelete, Path: "/v1/messages/*", Status: http.StatusForbidden, Times: 1})
	h.Press(webextest.BigAdminID, card, "Approve", map[string]any{bot.InputComment: "Go ahead"})

	bodies := h.provisionCalls()
	if len(bodies) != 1 {
		t.Fatalf("POST /wholesale/customers %d times, want once", len(bodies))
	}
	if got, want := bodies[0]["orgId"], webextest.BigOrgID; got != want {
		t.Errorf("provisioned orgId %v, want %v", got, want)
	}
	thread := apptest.Joined(h.RepliesTo(cmd))
	apptest.MustContain(t, "the partner thread", thread,
		webextest.BigAdminEmail+" **approved** attach **"+id+"**", bot.FormatTime(apptest.Start), "Their comment: “Go ahead”", "is submitted")
	apptest.MustContain(t, "the thanks", apptest.Joined(h.DirectFromBot(webextest.BigAdminID)), "You approved request "+id)

	// A second click, on Approve or Decline, changes nothing and says so.
	for _, title := range []string{"Approve", "Decline"} {
		h.Press(webextest.BigAdminID, card, title, nil)
	}
	if got := h.provisionCalls(); len(got) != 1 {
		t.Errorf("POST /wholesale/customers %d times after more clicks, want once", len(got))
	}
	admin := h.DirectFromBot(webextest.BigAdminID)
	apptest.MustContain(t, "the answer to a later click", admin[len(admin)-1].Markdown, "already approved")

	// status shows the audit trail.
	status := apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "status "+id)))
	apptest.MustContain(t, "status "+id, status, "requested", "approved", webextest.BigAdminEmail, "submitted", "precheck passed", "counted 100 users")
	if !strings.Contains(status, "TrackingID") && !strings.Contains(status, "trackingId") {
		t.Errorf("status %s shows no trackingIds:\n%s", id, status)
	}
}

func TestDecline(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	id := apptest.RequestIDIn(t, replies[0])
	card := h.approvalCard(webextest.BigAdminID)

	h.Press(webextest.BigAdminID, card, "Decline", map[string]any{bot.InputComment: "Not this quarter"})

	if got := h.provisionCalls(); len(got) != 0 {
		t.Errorf("POST /wholesale/customers %d times after a decline", len(got))
	}
	apptest.MustContain(t, "the partner thread", apptest.Joined(h.RepliesTo(cmd)),
		webextest.BigAdminEmail+" **declined** attach **"+id+"**", "Nothing was provisioned", "Their comment: “Not this quarter”")

	// The decided card is gone (Webex cannot edit it): one line says the outcome in its place.
	if _, ok := h.Sim.Message(card.ID); ok {
		t.Error("the decided approval card is still there")
	}
	if got := h.Sim.CountCalls(http.MethodDelete, "/v1/messages/"+card.ID); got != 1 {
		t.Errorf("DELETE /messages/{card} %d times, want once", got)
	}
	admin := h.DirectFromBot(webextest.BigAdminID)
	if len(admin) != 1 || admin[0].ParentID != "" || len(admin[0].Attachments) != 0 {
		t.Fatalf("the admin's space holds %d messages from the bot, want only the outcome line:\n%s", len(admin), apptest.Joined(admin))
	}
	apptest.MustContain(t, "the outcome line", admin[0].Markdown, "You declined request "+id+" on "+bot.FormatTime(apptest.Start))
	// A deleted card cannot be clicked any more.
	if _, err := h.Sim.Click(t.Context(), webextest.BigAdminID, card.ID, h.Submission(card, "Approve", nil)); err == nil {
		t.Error("a click on the deleted card went through")
	}
}

func TestAttachRefused(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		wants []string
	}{
		{
			name:  "declared trial",
			line:  attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no trial=yes"),
			wants: []string{"declared a trial organization", bot.TrialRule},
		},
		{
			name:  "trial org, undeclared: the precheck refuses",
			line:  attachLine(webextest.TrialOrgID, webextest.TrialAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"),
			wants: []string{"precheck refused", "TrackingId for Cisco support"},
		},
		{
			name: "externalId taken",
			line: attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no external-id="+webextest.ExistingExternalID),
			wants: []string{"external-id=" + webextest.ExistingExternalID, "wholesale customer `" + webextest.ExistingCustomerID + "` (status `provisioned`) already has that externalId",
				"Choose another one"},
		},
		{
			name:  "already a customer",
			line:  attachLine(webextest.CustomerOrgID, webextest.CustomerAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"),
			wants: []string{"already is a wholesale customer", "status `provisioned`", "externalId `" + webextest.ExistingExternalID + "`"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			_, replies := h.attach(tt.line)
			if len(replies) != 1 {
				t.Fatalf("%d replies, want 1:\n%s", len(replies), apptest.Joined(replies))
			}
			apptest.MustContain(t, "the refusal", replies[0].Markdown, tt.wants...)
			if !strings.Contains(strings.ToLower(replies[0].Markdown), "nothing was") {
				t.Errorf("the refusal does not say nothing was changed:\n%s", replies[0].Markdown)
			}
			if got := h.webexWrites(); len(got) != 0 {
				t.Errorf("Webex writes after a refusal: %q", got)
			}
			if got := h.DirectFromBot(webextest.TrialAdminID); len(got) != 0 {
				t.Errorf("the trial org's admin was written to")
			}
		})
	}
}

func TestAttachInvalidInput(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	line := `attach org=not-an-org admin=nobody template=Gold packages=webex_calling,teleporting name="X" ` +
		`street="` + strings.Repeat("a", 51) + `" country=XX colour=blue`
	_, replies := h.attach(line)
	if len(replies) != 1 {
		t.Fatalf("%d replies, want one listing every problem:\n%s", len(replies), apptest.Joined(replies))
	}
	apptest.MustContain(t, "the reply", replies[0].Markdown,
		"org=not-an-org is not a Webex organization id",
		"admin=nobody is not an email address",
		"template=Gold is not one of Standard, Calling",
		`unknown package "teleporting"`,
		"street is 51 characters long; Webex takes at most 50",
		"city is missing",
		"country=XX is not an ISO 3166 two-letter country code",
		"colour",
	)
	if got := h.partnerCalls(); len(got) != 0 {
		t.Errorf("Webex was asked about the organization before the input was valid: %q", got)
	}
}

func TestProvisionTimeoutThenRetry(t *testing.T) {
	tests := []struct {
		name   string
		fault  webextest.Fault
		client *http.Client
	}{
		{
			name:  "gateway timeout after Webex acted",
			fault: webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Times: 1, AfterApply: true, Status: http.StatusGatewayTimeout},
		},
		{
			name:   "no answer until the client gives up",
			fault:  webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Times: 1, AfterApply: true, Hang: true},
			client: &http.Client{Timeout: 2 * time.Second}, // every call's: long enough for the others under -race
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{HTTPClient: tt.client})
			h.Sim.Inject(tt.fault)
			cmd, _ := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))

			if got := len(h.provisionCalls()); got != 1 {
				t.Errorf("POST /wholesale/customers %d times, want once (the retry looks the externalId up)", got)
			}
			if got := h.newCustomers(); got != 1 {
				t.Errorf("Webex has %d new wholesale customers, want 1", got)
			}
			if got := h.Sim.CountCalls(http.MethodGet, "/v1/wholesale/customers"); got < 2 {
				t.Errorf("GET /wholesale/customers %d times; the retry must look the externalId up", got)
			}
			thread := h.RepliesTo(cmd)
			var submitted int
			for _, m := range thread {
				if strings.Contains(m.Markdown, "submitted") {
					submitted++
				}
			}
			if submitted != 1 {
				t.Errorf("%d 'submitted' notices, want 1:\n%s", submitted, apptest.Joined(thread))
			}
			status := apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "status "+apptest.RequestIDIn(t, thread[0]))))
			apptest.MustContain(t, "the audit trail", status, "an earlier submission went through: found by externalId")
		})
	}
}

// lastCard returns the newest card the bot posted in a thread.
func (h *harness) lastCard(root webextest.Message) webextest.Message {
	h.T.Helper()
	replies := h.RepliesTo(root)
	for i := len(replies) - 1; i >= 0; i-- {
		if len(replies[i].Attachments) > 0 {
			return replies[i]
		}
	}
	h.T.Fatalf("no card in the thread of %q:\n%s", root.Text, apptest.Joined(replies))
	return webextest.Message{}
}

func TestAttachWizard(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "attach")

	steps := []struct {
		button string
		typed  map[string]any
		want   []string // what the next card says
	}{
		// A wrong email is caught on the card, which comes again with the problem.
		{"Next", map[string]any{bot.InputAdminEmail: "admin@", bot.InputOrgID: webextest.SmallOrgID}, []string{"not an email address"}},
		{"Next", map[string]any{bot.InputAdminEmail: webextest.SmallAdminEmail, bot.InputOrgID: webextest.SmallOrgID}, []string{"step 2 of 5", "Company name", "Standard", webextest.SmallAdminEmail}},
		{"Next", map[string]any{bot.InputCustomerName: "Smallville Bakery", bot.InputTemplate: "Standard"}, []string{"I confirm this customer is in a Cisco Webex-supported location"}},
		{"Next", map[string]any{bot.InputStreet: "Storgata 1", bot.InputCity: "Oslo", bot.InputZip: "0155", bot.InputCountry: "NO", bot.InputLocationConfirmed: "true"}, []string{"webex_calling"}},
		{"Next", map[string]any{bot.InputPackages: "webex_calling,webex_meetings", bot.InputVerifiedDomain: "no", bot.InputClaimedDomain: "no", bot.InputTrial: "no"},
			[]string{"Automatic attach", "Create customer", "Europe/Oslo", "Provisioning Admin"}},
	}
	for i, step := range steps {
		card := h.lastCard(cmd)
		h.Press(webextest.AnnID, card, step.button, step.typed)
		next := h.lastCard(cmd)
		if next.ID == card.ID {
			t.Fatalf("step %d: no new card after %s", i+1, step.button)
		}
		apptest.MustContain(t, fmt.Sprintf("the card after step %d", i+1), string(next.Attachments[0].Content), step.want...)
		if got := h.provisionCalls(); len(got) != 0 {
			t.Fatalf("step %d: POST /wholesale/customers before Create customer", i+1)
		}
	}
	review := h.lastCard(cmd)
	// A double click: the second click may come before the bot has replaced the card, or
	// find it deleted already (Webex then refuses it).
	if _, err := h.Sim.Click(t.Context(), webextest.AnnID, review.ID, h.Submission(review, "Create customer", nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Sim.Click(t.Context(), webextest.AnnID, review.ID, h.Submission(review, "Create customer", nil)); err != nil && !strings.Contains(err.Error(), "404") {
		t.Fatal(err)
	}
	h.Settle()

	bodies := h.provisionCalls()
	if len(bodies) != 1 {
		t.Fatalf("POST /wholesale/customers %d times, want once", len(bodies))
	}
	got := map[string]any{"orgId": bodies[0]["orgId"], "provisioningId": bodies[0]["provisioningId"], "packages": bodies[0]["packages"]}
	want := map[string]any{"orgId": webextest.SmallOrgID, "provisioningId": "cHJvdmlzaW9uaW5nSWQtc3RhbmRhcmQ", "packages": []any{"webex_calling", "webex_meetings"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("POST /wholesale/customers (-want +got):\n%s", diff)
	}
	if bodies[0]["provisioningParameters"] == nil {
		t.Errorf("a calling package was chosen but the POST has no calling location: %v", bodies[0])
	}
	// Webex requires both name and primaryEmail in customerInfo: the company name of step 2.
	wantInfo := map[string]any{"name": "Smallville Bakery", "primaryEmail": webextest.SmallAdminEmail}
	if diff := cmp.Diff(wantInfo, bodies[0]["customerInfo"]); diff != "" {
		t.Errorf("customerInfo (-want +got):\n%s", diff)
	}
	thread := h.RepliesTo(cmd)
	apptest.MustContain(t, "the thread", apptest.Joined(thread), "is submitted", "Step 1 of 5 done: customer admin "+webextest.SmallAdminEmail,
		"Step 2 of 5 done: company **Smallville Bakery**, template Standard", "Step 4 of 5 done: packages Webex Calling, Webex Meetings",
		"You confirmed the summary for **Smallville Bakery**")
	// Every finished step's card was replaced: only cards that can still act remain.
	for _, m := range thread {
		if len(m.Attachments) > 0 {
			t.Errorf("a wizard card is still in the thread after the customer was created: %s", m.Markdown)
		}
	}
}

func TestAttachWizardCancel(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "attach")
	h.Press(webextest.AnnID, h.lastCard(cmd), "Cancel", nil)

	replies := h.RepliesTo(cmd)
	if got := replies[len(replies)-1]; len(got.Attachments) != 0 || !strings.Contains(strings.ToLower(got.Markdown), "cancel") {
		t.Errorf("last reply after Cancel = %q, want a plain note that the wizard was cancelled", got.Markdown)
	}
	if got := h.webexWrites(); len(got) != 0 {
		t.Errorf("Webex writes after Cancel: %q", got)
	}
}

func TestRemindAndCancel(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	id := apptest.RequestIDIn(t, replies[0])

	remind := h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "remind "+strings.ToLower(id)))
	apptest.MustContain(t, "the answer to remind", apptest.Joined(remind), "I sent the approval card for **"+id+"** to "+webextest.BigAdminEmail+" again")
	var cards []webextest.Message
	for _, m := range h.DirectFromBot(webextest.BigAdminID) {
		if len(m.Attachments) > 0 {
			cards = append(cards, m)
		}
	}
	if len(cards) != 2 {
		t.Fatalf("the admin has %d approval cards after remind, want 2", len(cards))
	}

	cancel := h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "cancel "+id))
	apptest.MustContain(t, "the answer to cancel", apptest.Joined(cancel), "withdr")
	// Both approval cards are deleted; the admin is told the request was withdrawn.
	for _, c := range cards {
		if _, ok := h.Sim.Message(c.ID); ok {
			t.Errorf("approval card %s is still there after cancel", c.ID)
		}
	}
	if got := h.provisionCalls(); len(got) != 0 {
		t.Errorf("POST /wholesale/customers %d times after cancel", len(got))
	}
	admin := h.DirectFromBot(webextest.BigAdminID)
	apptest.MustContain(t, "the note to the admin after cancel", admin[len(admin)-1].Markdown, "withdrew request "+id)

	// Reminding or cancelling what is not waiting says why not.
	for _, tt := range []struct{ line, want string }{
		{"remind " + id, "Request " + id + " is withdrawn, so there is nothing to remind anyone of."},
		{"cancel " + id, "only a request waiting for approval can be cancelled"},
		{"remind ZZZZZZ", "I don't know request ZZZZZZ."},
		{"remind NOSUCH", "That is not a request id"}, // O and U are not of the id alphabet
	} {
		apptest.MustContain(t, "the answer to "+tt.line, apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, tt.line))), tt.want)
	}
	apptest.MustContain(t, "the partner thread", apptest.Joined(h.RepliesTo(cmd)), "I sent an approval card")
}

func TestAttachManagedOrgNote(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	org, err := h.Sim.AddOrg(webextest.Org{Name: "Managed Co", AdminEmail: "admin@managed.example", Users: 20, Readable: true, Managed: true,
		Licenses: []webextest.License{{Name: "Messaging", TotalUnits: 20, ConsumedUnits: 20}}})
	if err != nil {
		t.Fatal(err)
	}
	_, check := h.attach("check " + org.ID + " verified-domain=no claimed-domain=no")
	_, attach := h.attach(attachLine(org.ID, "admin@managed.example", "webex_meetings", "verified-domain=no claimed-domain=no"))
	for what, msgs := range map[string][]webextest.Message{"check": check, "attach": attach} {
		apptest.MustContain(t, what, apptest.Joined(msgs), "Already managed by this partner: **yes**", bot.ManagedNote)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		line string
		want []string
	}{
		{
			name: "automatic, with the precheck",
			line: "check " + webextest.SmallOrgID + ` verified-domain=no claimed-domain=no admin=` + webextest.SmallAdminEmail +
				` template=Standard packages=webex_meetings street="Storgata 1" city=Oslo country=NO`,
			want: []string{"**Automatic attach**", "counted 12 users", "declared by " + webextest.AnnEmail, "Precheck: success", "Not a wholesale customer yet", "Nothing was changed."},
		},
		{
			name: "approval: 150 users, precheck not asked for",
			line: "check " + webextest.BigOrgID,
			want: []string{"**The customer admin must approve**, because the organization has 100 users or more", "Precheck not run"},
		},
		{
			name: "unknown facts of an org the partner cannot read",
			line: "check " + webextest.HiddenOrgID,
			want: []string{"(the safe side)", "answered 403", "declare users=yes|no"},
		},
		{
			name: "unreadable org, every criterion declared",
			line: "check " + webextest.HiddenOrgID + " users=no verified-domain=no claimed-domain=no",
			want: []string{"**Automatic attach**", "100 users or more: **no** (declared by " + webextest.AnnEmail + " (GET /people?orgId= answered 403))"},
		},
		{
			name: "no licenses: Full Admin",
			line: "check " + webextest.NoLicenseOrgID + " verified-domain=no claimed-domain=no",
			want: []string{"Has licenses: **no**", "Predicted partner role: **Full Admin**"},
		},
		{
			name: "already a customer",
			line: "check " + webextest.CustomerOrgID,
			want: []string{"Already a wholesale customer: status `provisioned`, externalId `" + webextest.ExistingExternalID + "`"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			_, replies := h.attach(tt.line)
			apptest.MustContain(t, "the report", apptest.Joined(replies), tt.want...)
			if got := h.webexWrites(); len(got) != 0 {
				t.Errorf("check wrote to Webex: %q", got)
			}
			status := apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "status")))
			if strings.Contains(status, webextest.SmallOrgID) || strings.Contains(status, webextest.BigOrgID) {
				t.Errorf("check recorded a request:\n%s", status)
			}
		})
	}
}

func TestAttachCallingLocationIsChecked(t *testing.T) {
	tests := []struct{ name, extra, want string }{
		{"unknown time zone", "timezone=Mars/Olympus", "Mars/Olympus"},
		{"a country of several time zones needs one", "", "timezone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			_, replies := h.attach(fmt.Sprintf(`attach org=%s admin=%s template=Standard packages=webex_calling name="Acme" street="1 Main St" city=Austin state=TX zip=78701 country=US %s verified-domain=no claimed-domain=no`,
				webextest.SmallOrgID, webextest.SmallAdminEmail, tt.extra))
			if len(replies) != 1 {
				t.Fatalf("%d replies, want 1:\n%s", len(replies), apptest.Joined(replies))
			}
			apptest.MustContain(t, "the reply", replies[0].Markdown, "Please fix", tt.want)
			if got := len(h.provisionCalls()); got != 0 {
				t.Errorf("POST /wholesale/customers %d times with a bad calling location", got)
			}
		})
	}
}

func TestAttachOneOpenRequestPerOrg(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	line := attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no")
	_, first := h.attach(line)
	id := apptest.RequestIDIn(t, first[0])
	_, second := h.attach(line)

	if len(second) != 1 {
		t.Fatalf("%d replies to the second attach, want 1:\n%s", len(second), apptest.Joined(second))
	}
	apptest.MustContain(t, "the second reply", second[0].Markdown, "Attach **"+id+"** for this organization is still waiting for the customer admin's approval", "status "+id)
	if got := len(h.DirectFromBot(webextest.BigAdminID)); got != 1 {
		t.Errorf("the customer admin got %d cards, want 1", got)
	}
}

func TestApprovalAfterTheDeadline(t *testing.T) {
	h := newHarness(t, apptest.Options{ManualClock: true})
	_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	id := apptest.RequestIDIn(t, replies[0])
	card := h.approvalCard(webextest.BigAdminID)

	h.Clock.Advance(h.Cfg.ApprovalTTL) // no sweep has expired it yet
	h.Press(webextest.BigAdminID, card, "Approve", nil)

	if got := h.provisionCalls(); len(got) != 0 {
		t.Errorf("POST /wholesale/customers %d times after the deadline", len(got))
	}
	admin := h.DirectFromBot(webextest.BigAdminID)
	apptest.MustContain(t, "the answer to a late click", admin[len(admin)-1].Markdown, "Request "+id+" is already expired")
}

func TestCommandOnSeveralLines(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	line := strings.Replace(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"), "attach ", "attach\n", 1)
	line = strings.ReplaceAll(line, " template=", "\ntemplate=")
	_, replies := h.attach(line)
	apptest.MustContain(t, "the replies", apptest.Joined(replies), "Automatic attach", "submitted")
}

func TestCheckInvalidInput(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	_, replies := h.attach("check nonsense users=maybe admin=x@ colour=red")
	if len(replies) != 1 {
		t.Fatalf("%d replies, want 1:\n%s", len(replies), apptest.Joined(replies))
	}
	text := replies[0].Markdown
	apptest.MustContain(t, "the reply", text, `"nonsense" is not a Webex organization id`, "users=maybe: say yes or no", "admin=x@ is not an email address", "colour")
	if n := strings.Count(text, "users=maybe"); n != 1 {
		t.Errorf("the reply names users=maybe %d times, want once:\n%s", n, text)
	}
	if got := h.partnerCalls(); len(got) != 0 {
		t.Errorf("Webex was asked about the organization before the input was valid: %q", got)
	}
}

func TestApprovalCardUndeliverable(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	const nobody = "nobody@bigcorp.example" // no Webex account: Webex answers 404
	cmd, replies := h.attach(attachLine(webextest.BigOrgID, nobody, "webex_meetings", "verified-domain=no claimed-domain=no"))
	id := apptest.RequestIDIn(t, replies[0])

	var undelivered []webextest.Message
	for _, m := range h.RepliesTo(cmd) {
		if strings.Contains(m.Markdown, "I could not deliver") {
			undelivered = append(undelivered, m)
		}
	}
	if len(undelivered) != 1 {
		t.Fatalf("%d notices of the undelivered card, want 1:\n%s", len(undelivered), apptest.Joined(h.RepliesTo(cmd)))
	}
	apptest.MustContain(t, "the notice", undelivered[0].Markdown, "attach **"+id+"** to "+nobody, "Webex answered 404", "`remind "+id+"`", "`cancel "+id+"`")

	// A reminder that cannot be delivered either is told too, once more.
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "remind "+id)
	if got := strings.Count(apptest.Joined(h.RepliesTo(cmd)), "I could not deliver"); got != 2 {
		t.Errorf("%d notices of undelivered cards after remind, want 2", got)
	}
	if got := h.provisionCalls(); len(got) != 0 {
		t.Errorf("POST /wholesale/customers %d times", len(got))
	}
}

func TestTwiceAtOnce(t *testing.T) {
	line := attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no")
	tests := []struct {
		name string
		// twice returns the two deliveries to make at the same time.
		twice func(h *harness) [2]func() error
	}{
		{
			name: "the same attach line said twice",
			twice: func(h *harness) [2]func() error {
				say := func() error {
					_, err := h.Sim.Say(h.T.Context(), webextest.AnnID, webextest.PartnerSpaceID, line)
					return err
				}
				return [2]func() error{say, say}
			},
		},
		{
			name: "Approve pressed twice",
			twice: func(h *harness) [2]func() error {
				_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
				apptest.RequestIDIn(h.T, replies[0])
				card := h.approvalCard(webextest.BigAdminID)
				inputs := h.Submission(card, "Approve", nil)
				press := func() error {
					_, err := h.Sim.Click(h.T.Context(), webextest.BigAdminID, card.ID, inputs)
					return err
				}
				return [2]func() error{press, press}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			calls := tt.twice(h)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, call := range calls {
				wg.Go(func() { errs[i] = call() })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			h.Settle()
			if got := len(h.provisionCalls()); got != 1 {
				t.Errorf("POST /wholesale/customers %d times, want once", got)
			}
			if got := h.newCustomers(); got != 1 {
				t.Errorf("Webex has %d new wholesale customers, want 1", got)
			}
		})
	}
}
