package app_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The commands end to end, other than attach itself: the wizard that builds an attach step by
// step, check, and commands that span several lines.

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
	apptest.MustContain(t, "the reply", text, "“nonsense” is not a Webex organization id", "users=maybe: say yes or no", "admin=x@ is not an email address", "colour")
	if n := strings.Count(text, "users=maybe"); n != 1 {
		t.Errorf("the reply names users=maybe %d times, want once:\n%s", n, text)
	}
	if got := h.partnerCalls(); len(got) != 0 {
		t.Errorf("Webex was asked about the organization before the input was valid: %q", got)
	}
}

func TestStatusCommand(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	other := h.statusAddRoom("Other partner space")
	_, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	_, elsewhere := h.statusAttachIn(other, webextest.NoLicenseOrgID, webextest.NoLicenseAdminEmail, "webex_meetings")
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()
	polls := h.statusPolls(r.CustomerID)
	provision := h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")

	tests := []struct {
		command string
		want    []string
		wantNot []string
	}{
		{
			command: "status " + strings.ToLower(r.ID),
			want: []string{
				"**Attach " + r.ID + "**: provisioned",
				"- Customer id: `" + r.CustomerID + "`; Webex status: `provisioned`",
				"- Partner role in the organization: `" + webextest.RoleProvisionAdmin + "`",
				"attachbot: submitted (POST /wholesale/customers answered 202; customer id " + r.CustomerID + ") trackingId `" + provision[0].TrackingID + "`",
				"webex: status provisioned trackingId `" + polls[len(polls)-1].TrackingID + "`",
				"**Facts**",
			},
		},
		{
			command: "status",
			want:    []string{"**Attach requests in this space**, newest first:", "- **" + r.ID + "** ", ", provisioned, updated", "`status <id>` shows one in full."},
			wantNot: []string{elsewhere.ID},
		},
		{command: "status ZZZZZZ", want: []string{"I don't know request ZZZZZZ."}},
	}
	for _, tt := range tests {
		cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, tt.command)
		replies := h.RepliesTo(cmd)
		if len(replies) != 1 {
			t.Errorf("%s: got %d replies, want 1:\n%s", tt.command, len(replies), apptest.Joined(replies))
			continue
		}
		apptest.Says(t, "the answer to "+tt.command, replies[0].Markdown, tt.want, tt.wantNot)
	}
}

func TestStatusListCommand(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	states := []bot.State{bot.StateAwaitingApproval, bot.StateProvisioning, bot.StateError, bot.StateProvisioned, bot.StateExpired}
	const n = 230
	ids := map[bot.State][]string{} // newest first
	var all []string
	for i := n - 1; i >= 0; i-- {
		r := bot.Request{
			ID: fmt.Sprintf("L%04d", i), Source: "seed", State: states[i%len(states)], RoomID: webextest.PartnerSpaceID,
			Created: apptest.Start.Add(time.Duration(i) * time.Minute), Updated: apptest.Start.Add(time.Duration(i) * time.Minute),
			Spec: bot.AttachSpec{OrgID: webextest.SmallOrgID, AdminEmail: webextest.SmallAdminEmail, CustomerName: "Seeded Customer"},
		}
		if err := h.App().Store().CreateRequest(t.Context(), r, nil); err != nil {
			t.Fatal(err)
		}
		ids[r.State] = append(ids[r.State], r.ID)
		all = append(all, r.ID)
	}

	tests := []struct {
		command  string
		want     []string
		wantMore bool
	}{
		{"list", all[:200], true},
		{"list all", all[:200], true},
		{"list approvals", ids[bot.StateAwaitingApproval], false},
		{"list pending", ids[bot.StateProvisioning], false},
		{"list failed", ids[bot.StateError], false},
		{"list done", statusMergeNewestFirst(ids[bot.StateProvisioned], ids[bot.StateExpired]), false},
	}
	idRE := regexp.MustCompile(`(?m)^- \*\*(L\d{4})\*\* `)
	for _, tt := range tests {
		cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, tt.command)
		replies := h.RepliesTo(cmd)
		var got []string
		for _, m := range replies {
			if len(m.Markdown) > bot.MaxMessageBytes {
				t.Errorf("%s: a page has %d bytes, more than Webex's %d", tt.command, len(m.Markdown), bot.MaxMessageBytes)
			}
			for _, match := range idRE.FindAllStringSubmatch(m.Markdown, -1) {
				got = append(got, match[1])
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: requests listed (-want +got):\n%s", tt.command, diff)
		}
		text := apptest.Joined(replies)
		if more := strings.Contains(text, "only the newest 200 are shown"); more != tt.wantMore {
			t.Errorf("%s: says there are more: %t, want %t", tt.command, more, tt.wantMore)
		}
		if tt.wantMore && len(replies) < 2 {
			t.Errorf("%s: the long list came in %d message, want several pages", tt.command, len(replies))
		}
	}

	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "list bogus")
	if got := apptest.Joined(h.RepliesTo(cmd)); !strings.Contains(got, "list bogus? Use one of: all, pending, approvals, failed, done.") {
		t.Errorf("list bogus answered %q", got)
	}
}

// statusMergeNewestFirst merges two lists of seeded request ids, each newest first, into one,
// newest first (the seeded ids sort like their creation times).
func statusMergeNewestFirst(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || (len(a) > 0 && a[0] > b[0]) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}
