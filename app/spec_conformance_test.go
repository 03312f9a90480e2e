package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// What the Webex API reference says and the bot must hold to: the package dependencies, the
// customer status deleting, and organization ids compared by their UUID.

func TestAttachPackageDependencies(t *testing.T) {
	const needs = "package attendant_console (Attendant Console) needs one of webex_calling (Webex Calling), webex_suite (Webex Suite) or cx_essentials (Customer Assist) as well: add one of them to packages"
	tests := []struct {
		packages string
		want     []string // in the reply; nil: accepted
	}{
		{"webex_voice,attendant_console", []string{needs, "(webex_voice does not count for attendant_console)"}},
		{"attendant_console", []string{needs}},
		{"webex_calling,attendant_console", nil},
		{"cx_essentials,attendant_console", nil},
	}
	for _, tt := range tests {
		t.Run(tt.packages, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			_, replies := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, tt.packages, "verified-domain=no claimed-domain=no trial=no"))
			text := apptest.Joined(replies)
			creates := len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers"))
			if tt.want == nil {
				if creates != 1 || strings.Contains(text, "Please fix") {
					t.Errorf("%d POST /wholesale/customers, want 1; the bot answered:\n%s", creates, text)
				}
				return
			}
			apptest.MustContain(t, "the answer", text, append([]string{"Please fix this and try again"}, tt.want...)...)
			if got := h.partnerCalls(); len(got) != 0 {
				t.Errorf("the bot called Webex with the partner token: %q", got)
			}
		})
	}
}

func TestAttachWizardPackageDependencies(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "attach")
	for _, typed := range []map[string]any{
		{bot.InputAdminEmail: webextest.SmallAdminEmail, bot.InputOrgID: webextest.SmallOrgID},
		{bot.InputCustomerName: "Smallville Bakery", bot.InputTemplate: "Standard"},
		{bot.InputStreet: "Storgata 1", bot.InputCity: "Oslo", bot.InputZip: "0155", bot.InputCountry: "NO", bot.InputLocationConfirmed: "true"},
	} {
		h.Press(webextest.AnnID, h.lastCard(cmd), "Next", typed)
	}
	packages := h.lastCard(cmd)
	apptest.MustContain(t, "the packages card", string(packages.Attachments[0].Content),
		`"title":"Customer Assist"`, "Attendant Console needs one of Webex Calling, Webex Suite or Customer Assist as well.")
	h.Press(webextest.AnnID, packages, "Next", map[string]any{bot.InputPackages: "webex_voice,attendant_console"})

	again := h.lastCard(cmd)
	if again.ID == packages.ID {
		t.Fatal("no card after Next")
	}
	apptest.MustContain(t, "the card after Next", string(again.Attachments[0].Content),
		"package attendant_console (Attendant Console) needs one of webex_calling (Webex Calling), webex_suite (Webex Suite) or cx_essentials (Customer Assist) as well",
		"webex_voice does not count")
	if strings.Contains(string(again.Attachments[0].Content), "Create customer") {
		t.Error("the wizard went on to the review with webex_voice as attendant_console's only companion")
	}
}

func TestStatusDeletingIsTold(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	if err := h.Sim.SetCustomerStatus(r.CustomerID, webextest.StatusDeleting); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(statusMaxPoll)
	h.MustSweep()

	n := h.statusOneNotice(cmd, "Webex is deleting the wholesale customer, so it was deleted")
	apptest.Says(t, "the notice", n.Markdown, []string{"**" + r.ID + "**", "Nothing more will happen to this request"}, []string{"is now `", "provisioning"})
	if got := h.statusRequest(r.ID).State; got != bot.StateDeleting {
		t.Errorf("state = %s, want %s", got, bot.StateDeleting)
	}
	polls := len(h.statusPolls(r.CustomerID))
	for range 3 {
		h.Clock.Advance(statusMaxPoll)
		h.MustSweep()
	}
	if got := len(h.statusPolls(r.CustomerID)); got != polls {
		t.Errorf("a deleting customer was polled %d more times, want 0", got-polls)
	}
	status := apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "status "+r.ID)))
	apptest.Says(t, "status "+r.ID, status, []string{"being deleted in Webex", "Webex status: `deleting`"}, nil)
	list := apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "list done")))
	apptest.Says(t, "list done", list, []string{"**" + r.ID + "**"}, nil)
}

// respell returns another spelling of a Webex organization id: "Organization" for
// "ORGANIZATION", with base64 padding.
func respell(t *testing.T, orgID string) string {
	t.Helper()
	raw, err := base64.RawStdEncoding.DecodeString(orgID)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(raw), "/ORGANIZATION/", "/Organization/", 1)
	if other == string(raw) {
		t.Fatalf("%s decodes to %q, which has no ORGANIZATION", orgID, raw)
	}
	return base64.StdEncoding.EncodeToString([]byte(other))
}

// orgUUIDOf returns the UUID of a Webex organization id.
func orgUUIDOf(t *testing.T, orgID string) string {
	t.Helper()
	uuid, ok := bot.OrgUUID(orgID)
	if !ok {
		t.Fatalf("%s is not an organization id", orgID)
	}
	return uuid
}

func TestAttachOneOpenRequestPerOrgWhateverTheSpelling(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	_, first := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no trial=no"))
	id := apptest.RequestIDIn(t, first[0])
	for _, spelling := range []string{
		webextest.SmallOrgID + "=", respell(t, webextest.SmallOrgID), orgUUIDOf(t, webextest.SmallOrgID),
		strings.ToUpper(orgUUIDOf(t, webextest.SmallOrgID)),
	} {
		_, replies := h.attach(attachLine(spelling, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no trial=no"))
		if len(replies) != 1 {
			t.Errorf("org=%s: %d replies, want 1:\n%s", spelling, len(replies), apptest.Joined(replies))
			continue
		}
		apptest.MustContain(t, "the answer to org="+spelling, replies[0].Markdown, "Attach **"+id+"** for this organization is still")
	}
	if got := len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")); got != 1 {
		t.Errorf("POST /wholesale/customers %d times, want 1", got)
	}

	// A request stored with another spelling (typed as such before ids were normalized) holds
	// its organization too.
	stored := bot.Request{
		ID: "SPELL2", Source: "seed", State: bot.StateProvisioning, RoomID: webextest.PartnerSpaceID,
		Created: apptest.Start, Updated: apptest.Start, NextPoll: apptest.Start.Add(1000 * time.Hour), CustomerID: "seeded",
		Spec: bot.AttachSpec{OrgID: respell(t, webextest.NoLicenseOrgID), AdminEmail: webextest.NoLicenseAdminEmail},
	}
	if err := h.App().Store().CreateRequest(t.Context(), stored, nil); err != nil {
		t.Fatal(err)
	}
	_, replies := h.attach(attachLine(webextest.NoLicenseOrgID, webextest.NoLicenseAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no trial=no"))
	apptest.MustContain(t, "the answer for an organization with a request stored in another spelling", apptest.Joined(replies),
		"Attach **"+stored.ID+"** for this organization is still")
	if got := len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")); got != 1 {
		t.Errorf("POST /wholesale/customers %d times, want still 1", got)
	}
}

// orgRespeller is a transport that answers GET /people/{personID} with the person's orgId
// spelled otherwise, as Webex may.
type orgRespeller struct {
	personID, orgID string
}

func (o orgRespeller) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/people/"+o.personID) || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var person map[string]any
	if err := json.Unmarshal(body, &person); err != nil {
		return nil, err
	}
	person["orgId"] = o.orgID
	if body, err = json.Marshal(person); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

func TestApproverOrgSpelledOtherwise(t *testing.T) {
	tests := []struct {
		name        string
		personOrgID func(t *testing.T) string
		approved    bool
	}{
		{"Organization, padded", func(t *testing.T) string { return respell(t, webextest.BigOrgID) }, true},
		{"bare UUID", func(t *testing.T) string { return orgUUIDOf(t, webextest.BigOrgID) }, true},
		{"another organization", func(t *testing.T) string { return respell(t, webextest.SmallOrgID) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: orgRespeller{personID: webextest.BigAdminID, orgID: tt.personOrgID(t)}}
			h := newHarness(t, apptest.Options{HTTPClient: client})
			_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
			id := apptest.RequestIDIn(t, replies[0])
			h.Press(webextest.BigAdminID, h.approvalCard(webextest.BigAdminID), "Approve", nil)

			posts := len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers"))
			r, err := h.App().Store().Request(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if tt.approved && (posts != 1 || r.DecidedBy != webextest.BigAdminEmail) {
				t.Errorf("the approval was not accepted: %d POST /wholesale/customers, state %s; the admin was told:\n%s",
					posts, r.State, apptest.Joined(h.DirectFromBot(webextest.BigAdminID)))
			}
			if !tt.approved && (posts != 0 || r.State != bot.StateAwaitingApproval) {
				t.Errorf("an admin of another organization approved: %d POST /wholesale/customers, state %s", posts, r.State)
			}
		})
	}
}

func TestAttachAfterARefusalStoredInAnotherSpelling(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	// A declined request kept with another spelling of the organization's id.
	declined := bot.Request{
		ID: "SPELL3", Source: "seed", State: bot.StateDeclined, RoomID: webextest.PartnerSpaceID,
		Created: apptest.Start, Updated: apptest.Start,
		Spec: bot.AttachSpec{OrgID: respell(t, webextest.SmallOrgID), AdminEmail: webextest.SmallAdminEmail},
	}
	if err := h.App().Store().CreateRequest(t.Context(), declined, nil); err != nil {
		t.Fatal(err)
	}
	cmd, replies := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no trial=no"))
	if len(replies) == 0 {
		t.Fatal("no reply to the attach")
	}
	r, err := h.App().Store().Request(t.Context(), apptest.RequestIDIn(t, replies[0]))
	if err != nil {
		t.Fatal(err)
	}
	if r.State != bot.StateAwaitingApproval {
		t.Errorf("the attach after a refusal is %s, want %s", r.State, bot.StateAwaitingApproval)
	}
	apptest.MustContain(t, "the reply", apptest.Joined(h.RepliesTo(cmd)), bot.CriterionEarlierRefusal)
	if got := len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")); got != 0 {
		t.Errorf("POST /wholesale/customers %d times without the customer admin's approval", got)
	}
}

// customerListRespeller is a transport that answers GET /wholesale/customers with one
// organization's id spelled otherwise, as Webex may.
type customerListRespeller struct {
	orgID, spelling string
}

func (c customerListRespeller) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/wholesale/customers") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = bytes.ReplaceAll(body, []byte(`"`+c.orgID+`"`), []byte(`"`+c.spelling+`"`))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

func TestLostAnswerFindsTheCustomerWhateverTheSpelling(t *testing.T) {
	spelling := respell(t, webextest.SmallOrgID)
	h := newHarness(t, apptest.Options{HTTPClient: &http.Client{Transport: customerListRespeller{orgID: webextest.SmallOrgID, spelling: spelling}}})
	if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, time.Second); err != nil {
		t.Fatal(err)
	}
	// Webex creates the customer but its answer is lost; the lookup that follows finds it
	// provisioned, its orgId spelled otherwise than the request keeps it.
	h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Times: 1, AfterApply: true, Status: http.StatusGatewayTimeout})
	cmd, _ := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no trial=no"))

	thread := h.RepliesTo(cmd)
	r, err := h.App().Store().Request(t.Context(), apptest.RequestIDIn(t, thread[0]))
	if err != nil {
		t.Fatal(err)
	}
	customers := h.Sim.Customers()
	if r.State != bot.StateProvisioning || r.CustomerID != customers[len(customers)-1].ID {
		t.Errorf("request %s: state %s, customer %q; want %s, linked to %s; the thread:\n%s",
			r.ID, r.State, r.CustomerID, bot.StateProvisioning, customers[len(customers)-1].ID, apptest.Joined(thread))
	}
	if got := h.newCustomers(); got != 1 {
		t.Errorf("Webex has %d new wholesale customers, want 1", got)
	}
}
