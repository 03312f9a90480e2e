package app_test

import (
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

// The attach flow end to end: Ann, a partner admin, attaches the seeded
// organizations of the simulated Webex from the partner space; customer admins answer the
// approval cards in their direct spaces.

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

func TestAttachRefusesAPartnerAdminAsApprover(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	_, replies := h.attach(attachLine(webextest.BigOrgID, strings.ToUpper(webextest.AnnEmail), "webex_meetings", "verified-domain=no claimed-domain=no"))
	apptest.MustContain(t, "the reply", apptest.Joined(replies), "is a partner admin; give the email of the customer organization's admin")
	if got := h.DirectFromBot(webextest.AnnID); len(got) != 0 {
		t.Errorf("the bot sent Ann %d messages", len(got))
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
		"unknown package “teleporting”",
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
