package app_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The status job end to end: the sweep polls Webex for the requests being provisioned and
// tells each change in the request's thread once, and warns about stuck provisioning (the
// approvals, digests, webhooks and tokens it also keeps have their own files). The tests run
// the sweep themselves (h.Sweep) on the fake clock; the cron schedule is set to a day that
// never comes (newStatusHarness), except in TestStatusJobRunsOnPollSchedule.

func TestStatusTransitionNotices(t *testing.T) {
	twoErrors := []webextest.ErrorDetail{
		{ErrorCode: 10022, Description: "The email is already associated with an existing user."},
		{ErrorCode: 4711, Description: "The license pool of the package is exhausted."},
	}
	setStatus := func(status string, errs ...webextest.ErrorDetail) func(*testing.T, *harness, string) {
		return func(t *testing.T, h *harness, customerID string) {
			t.Helper()
			if err := h.Sim.SetCustomerStatus(customerID, status, errs...); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name     string
		orgID    string
		admin    string
		packages string
		// move sets the customer's status; nil leaves it to the organization's outcome.
		move      func(t *testing.T, h *harness, customerID string)
		marker    string // what only this notice says, the status verbatim
		wantState bot.State
		want      []string
		wantNot   []string
		tracking  bool // the notice quotes the trackingId of the status call
		// askFullAdmin: the notice's card has the button that asks the customer admin for
		// Full Admin.
		askFullAdmin bool
	}{
		{
			name: "provisioned as Provisioning Admin", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings",
			marker: statusProvisionedMarker, wantState: bot.StateProvisioned,
			want: []string{
				"The partner's role in the organization is **Provisioning Admin** (`" + webextest.RoleProvisionAdmin + "`)",
				bot.FullAdminAdvice, "The card's button asks " + webextest.SmallAdminEmail,
				"Remember: " + bot.FirstUserNote,
			},
			askFullAdmin: true,
		},
		{
			name: "provisioned as Full Admin", orgID: webextest.NoLicenseOrgID, admin: webextest.NoLicenseAdminEmail, packages: "webex_meetings",
			marker: statusProvisionedMarker, wantState: bot.StateProvisioned,
			want:    []string{"The partner's role in the organization is **Full Admin** (`" + webextest.RoleFullAdmin + "`)", "Remember: " + bot.FirstUserNote},
			wantNot: []string{bot.FullAdminAdvice},
		},
		{
			name: "provisioned_with_errors", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings,cx_ai_assistant",
			move:   setStatus(webextest.StatusProvisionedWithErrors, twoErrors...),
			marker: "is provisioned, with errors", wantState: bot.StateProvisionedWithErrors,
			want: []string{
				"Webex Meetings is `error`:\n- The email is already associated with an existing user. (code 10022)\n- The license pool of the package is exhausted. (code 4711)",
			},
			wantNot:  []string{"Package `cx_ai_assistant`", bot.FirstUserNote},
			tracking: true,
		},
		{
			name: "error", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings",
			move:   setStatus(webextest.StatusError, twoErrors...),
			marker: "failed. Nothing more happens by itself", wantState: bot.StateError,
			want: []string{
				"Errors:\n- The email is already associated with an existing user. (code 10022)\n- The license pool of the package is exhausted. (code 4711)",
			},
			tracking: true,
		},
		{
			name: "error of the seeded organization", orgID: webextest.ErrorOrgID, admin: webextest.ErrorAdminEmail, packages: "webex_meetings",
			marker: "failed. Nothing more happens by itself", wantState: bot.StateError,
			want: []string{
				"- One or more Webex Calling services are unavailable due to maintenance, unable to start provisioning. Consult status.webex.com and retry later. (code 2560)",
			},
			tracking: true,
		},
		{
			name: "pending_rpl_review", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings",
			move:   setStatus(webextest.StatusPendingReview),
			marker: "is now in Cisco's compliance review", wantState: bot.StatePendingReview,
			want: []string{"Denied Party List compliance review", "Nothing is needed from you"},
		},
		{
			name: "updating", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings",
			move:   setStatus(webextest.StatusUpdating),
			marker: "is now being updated by Webex", wantState: bot.StateUpdating,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{ManualClock: true})
			cmd, r := h.statusAttach(tt.orgID, tt.admin, tt.packages)
			if tt.move != nil {
				tt.move(t, h, r.CustomerID)
			}
			h.Clock.Advance(statusFirstPoll)
			h.MustSweep()

			n := h.statusOneNotice(cmd, tt.marker)
			if n.ParentID != cmd.ID || n.RoomID != webextest.PartnerSpaceID {
				t.Errorf("the notice is in room %s under %s, want the partner space under the command %s", n.RoomID, n.ParentID, cmd.ID)
			}
			want := append(slices.Clone(tt.want), "**"+r.ID+"**")
			if tt.tracking {
				polls := h.statusPolls(r.CustomerID)
				want = append(want, "TrackingId for Cisco support: `"+polls[len(polls)-1].TrackingID+"`")
			}
			apptest.Says(t, "the notice", n.Markdown, want, tt.wantNot)
			if got := apptest.SubmitData(t, n, statusAskFullAdmin) != nil; got != tt.askFullAdmin {
				t.Errorf("the notice has the Ask for Full Admin button: %t, want %t", got, tt.askFullAdmin)
			}
			if got := h.statusRequest(r.ID).State; got != tt.wantState {
				t.Errorf("state = %s, want %s", got, tt.wantState)
			}

			// Later sweeps find nothing new to tell.
			for range 3 {
				h.Clock.Advance(statusMaxPoll)
				h.MustSweep()
			}
			if got := len(h.statusNotices(cmd, tt.marker)); got != 1 {
				t.Errorf("after more sweeps the thread has %d such notices, want 1", got)
			}
			if got := len(h.statusNotices(cmd, statusStuckMarker)); got != 0 {
				t.Errorf("got %d stuck warnings for a request that did not stay provisioning", got)
			}
		})
	}
}

func TestStatusProvisionedButtonAsksCustomerAdminForFullAdmin(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()
	n := h.statusOneNotice(cmd, statusProvisionedMarker)
	data := apptest.SubmitData(t, n, statusAskFullAdmin)
	if data == nil {
		t.Fatalf("the provisioned notice has no Ask for Full Admin button")
	}

	h.Click(webextest.AnnID, n.ID, data)

	cards := h.statusCards(webextest.SmallAdminID)
	if len(cards) != 1 {
		t.Fatalf("the customer admin got %d cards, want 1 (the Full Admin request)", len(cards))
	}
	apptest.Says(t, "the customer admin's message", cards[0].Markdown,
		[]string{"asks you to make them a Full Admin of your organization (request " + r.ID + ")"}, nil)
	card := string(cards[0].Attachments[0].Content)
	apptest.Says(t, "the Full Admin request card", card, []string{"Please give your Webex partner Full Admin access", r.ID}, nil)
	h.statusOneNotice(cmd, "I asked "+webextest.SmallAdminEmail+" to make the partner a Full Admin")
}

func TestStatusReturningStatusIsToldAgain(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	for _, status := range []string{
		webextest.StatusUpdating, webextest.StatusProvisioning, webextest.StatusUpdating,
		webextest.StatusPendingReview, webextest.StatusProvisioning, webextest.StatusProvisioned,
	} {
		if err := h.Sim.SetCustomerStatus(r.CustomerID, status); err != nil {
			t.Fatal(err)
		}
		h.Clock.Advance(statusMaxPoll)
		h.MustSweep()
	}
	var got []string
	// The notices say the status in words.
	statuses := map[string]string{
		"being updated by Webex": "updating", "being provisioned by Webex": "provisioning",
		"in Cisco's compliance review": "pending_rpl_review", "provisioned": "provisioned",
	}
	statusRE := regexp.MustCompile("^Attach \\*\\*" + r.ID + "\\*\\* for \\*\\*[^*]*\\*\\* is (?:now )?(being updated by Webex|being provisioned by Webex|in Cisco's compliance review|provisioned)[.:]")
	for _, m := range h.RepliesTo(cmd) {
		if match := statusRE.FindStringSubmatch(m.Markdown); match != nil {
			got = append(got, statuses[match[1]])
		}
	}
	want := []string{"updating", "provisioning", "updating", "pending_rpl_review", "provisioning", "provisioned"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the statuses told in the thread (-want +got):\n%s", diff)
	}
}

func TestStatusStuckWarning(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")

	h.statusRunJob(3*time.Hour + 15*time.Minute)

	n := h.statusOneNotice(cmd, statusStuckMarker)
	if after := n.Created.Sub(r.Submitted); after < h.Cfg.StuckAfter || after > h.Cfg.StuckAfter+statusMaxPoll {
		t.Errorf("the warning came %s after the submission, want between STUCK_AFTER (%s) and %s later", after, h.Cfg.StuckAfter, statusMaxPoll)
	}
	provision := h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")
	if len(provision) != 1 {
		t.Fatalf("POST /wholesale/customers was called %d times, want 1", len(provision))
	}
	apptest.Says(t, "the stuck warning", n.Markdown, []string{
		"**" + r.ID + "**", "customer id `" + r.CustomerID + "`", "status.webex.com", "Partner Hub > Customers",
		"open a case with Cisco quoting the trackingId `" + provision[0].TrackingID + "`", "I keep polling",
	}, nil)
	h.statusOneNotice(cmd, statusProvisionedMarker)
	if !h.statusRequest(r.ID).StuckWarned {
		t.Error("the request is not marked as warned")
	}
}

func TestStatusJobRunsOnPollSchedule(t *testing.T) {
	h := newHarness(t, apptest.Options{ManualClock: true, Configure: func(c *app.Config) { c.PollSchedule = "@every 1s" }})
	cmd, _ := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Clock.Advance(statusFirstPoll)

	// cron runs the sweep on real time; no test code calls it.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := h.Sim.WaitFor(ctx, func() bool { return len(h.statusNotices(cmd, statusProvisionedMarker)) > 0 }); err != nil {
		t.Fatalf("the job did not tell the provisioning within 10s: %v", err)
	}
	h.CloseApp(h.App()) // waits for a sweep under way
	h.statusOneNotice(cmd, statusProvisionedMarker)
}

func TestStatusUnreadableStatusIsToldOnce(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{})
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/wholesale/customers/*", Status: http.StatusNotFound, Message: "Customer not found."})

	for range 4 { // each sweep finds the request due: the backoff is waited out
		h.Clock.Advance(statusMaxPoll)
		if err := h.Sweep(); err == nil {
			t.Fatal("a sweep whose poll got 404 reported no error")
		}
	}
	const marker = "I can't read how attach"
	n := h.statusOneNotice(cmd, marker)
	apptest.Says(t, "the notice", n.Markdown, []string{r.ID, "Webex answered 404: Customer not found.", "TrackingId for Cisco support", "`status " + r.ID + "`"}, nil)
	if got := len(h.statusPolls(r.CustomerID)); got != 4 {
		t.Errorf("status calls = %d, want 4 (a 404 is not retried within a poll)", got)
	}

	// Webex answers again: the outcome is told, and a later failure would be told anew.
	h.Sim.ClearFaults()
	h.Clock.Advance(statusMaxPoll)
	h.MustSweep()
	h.statusOneNotice(cmd, statusProvisionedMarker)
	h.statusOneNotice(cmd, marker)
	if got := h.statusRequest(r.ID); got.PollFailureTold {
		t.Error("PollFailureTold is still set after a successful poll")
	}
}

func TestStatusOtherPollFailuresAreNotToldPerRequest(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusBadRequest} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{})
			cmd, _ := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
			h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/wholesale/customers/*", Status: status})
			h.Clock.Advance(statusMaxPoll)
			if err := h.Sweep(); err == nil {
				t.Fatalf("a sweep whose poll got %d reported no error", status)
			}
			if got := h.statusNotices(cmd, "I can't read how attach"); len(got) != 0 {
				t.Errorf("a %d was told in the request's thread: %q", status, apptest.Joined(got))
			}
		})
	}
}

func TestStatusEveryErrorIsToldHoweverMany(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{})
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	var errs []webextest.ErrorDetail
	for i := range 150 {
		errs = append(errs, webextest.ErrorDetail{ErrorCode: 20000 + i,
			Description: fmt.Sprintf("Simulated failure number %d of a long list, to pass Webex's message limit.", i)})
	}
	if err := h.Sim.SetCustomerStatus(r.CustomerID, webextest.StatusError, errs...); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()

	var parts []webextest.Message
	for _, m := range h.RepliesTo(cmd) {
		if strings.Contains(m.Markdown, "code 2") {
			parts = append(parts, m)
		}
	}
	if len(parts) < 2 {
		t.Fatalf("the errors came in %d message, want several", len(parts))
	}
	text := apptest.Joined(parts)
	for _, p := range parts {
		if len(p.Markdown) > bot.MaxMessageBytes {
			t.Errorf("a part has %d bytes, more than Webex's %d", len(p.Markdown), bot.MaxMessageBytes)
		}
	}
	for _, e := range errs {
		if n := strings.Count(text, fmt.Sprintf("code %d)", e.ErrorCode)); n != 1 {
			t.Errorf("error code %d is told %d times, want once", e.ErrorCode, n)
		}
	}
	// Another sweep tells nothing again.
	before := len(h.RepliesTo(cmd))
	h.Clock.Advance(statusMaxPoll)
	h.MustSweep()
	if got := len(h.RepliesTo(cmd)); got != before {
		t.Errorf("the thread has %d messages after a sweep with no change, want still %d", got, before)
	}
}
