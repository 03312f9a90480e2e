package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// Retrying a failed attach end to end: `retry <id>` and the Retry button submit the request's
// packages again with PUT /wholesale/customers/{customerId}, once per command or click, and
// the status job polls the customer as after the first submission.

// The markers of the retry messages in a request's thread.
const (
	retryButton        = "Retry"
	retryAcceptedMark  = "Webex accepted it; I'll tell you here how it goes."
	retryUnknownMark   = "did not say whether it took the request"
	retryNothingSent   = "Nothing was sent to Webex."
	retryErrorMarker   = "failed. Nothing more happens by itself"
	retryPWEMarker     = "is provisioned, with errors"
	retryUpdatingMark  = "is now `updating`"
	retryCustomersPath = "/v1/wholesale/customers/*"
)

// retryFailed has Ann attach an organization, makes its provisioning end in status, and runs
// the status job, so that the thread has the failed notice and the Retry card. It returns
// Ann's command and the request as stored then.
func (h *harness) retryFailed(orgID, adminEmail, packages, status string) (webextest.Message, bot.Request) {
	h.T.Helper()
	cmd, r := h.statusAttach(orgID, adminEmail, packages)
	if err := h.Sim.SetCustomerStatus(r.CustomerID, status); err != nil {
		h.T.Fatal(err)
	}
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()
	r = h.statusRequest(r.ID)
	if string(r.State) != status {
		h.T.Fatalf("state = %s after the sweep, want %s", r.State, status)
	}
	return cmd, r
}

// retryCard returns the one message in root's thread with a Retry button, and its data.
func (h *harness) retryCard(root webextest.Message) (webextest.Message, map[string]any) {
	h.T.Helper()
	var found []webextest.Message
	for _, m := range h.RepliesTo(root) {
		if apptest.SubmitData(h.T, m, retryButton) != nil {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		h.T.Fatalf("the thread has %d messages with a Retry button, want 1; the thread:\n%s", len(found), apptest.Joined(h.RepliesTo(root)))
	}
	return found[0], apptest.SubmitData(h.T, found[0], retryButton)
}

// retryPuts returns the PUT calls to the wholesale customers.
func (h *harness) retryPuts() []webextest.Call {
	return h.Sim.CallsTo(http.MethodPut, retryCustomersPath)
}

// retryLast returns the bot's last message in root's thread.
func (h *harness) retryLast(root webextest.Message) webextest.Message {
	h.T.Helper()
	replies := h.RepliesTo(root)
	if len(replies) == 0 {
		h.T.Fatalf("no reply to %q", root.Text)
	}
	return replies[len(replies)-1]
}

func TestRetryErrorThenProvisioned(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r := h.retryFailed(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_calling,webex_meetings", webextest.StatusError)
	notice := h.statusOneNotice(cmd, retryErrorMarker)
	apptest.Says(t, "the error notice", notice.Markdown, []string{"`retry " + r.ID + "`", "Retry button"}, []string{"Nothing more will happen unless it is submitted again"})
	h.retryCard(cmd)

	// Typed in the space, not in the request's thread.
	retry := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "retry "+strings.ToLower(r.ID))
	apptest.Says(t, "the answer to the command", apptest.Joined(h.RepliesTo(retry)), []string{"its thread will tell how it goes"}, nil)

	puts := h.retryPuts()
	if len(puts) != 1 {
		t.Fatalf("PUT %d times, want once", len(puts))
	}
	if want := "/v1/wholesale/customers/" + r.CustomerID; puts[0].Path != want || puts[0].Status != http.StatusAccepted {
		t.Errorf("PUT %s answered %d, want %s answered 202", puts[0].Path, puts[0].Status, want)
	}
	var body struct {
		Packages               []string
		ProvisioningParameters struct {
			Calling struct {
				Location struct{ Name, Timezone, Language string }
			}
		}
	}
	if err := json.Unmarshal(puts[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"webex_calling", "webex_meetings"}, body.Packages); diff != "" {
		t.Errorf("the PUT's packages (-want +got):\n%s", diff)
	}
	if loc := body.ProvisioningParameters.Calling.Location; loc.Name == "" || loc.Timezone == "" || loc.Language == "" {
		t.Errorf("the PUT's calling location is %+v, want the request's", loc)
	}
	h.statusOneNotice(cmd, retryAcceptedMark)
	if got := h.statusRequest(r.ID); got.State != bot.StateUpdating {
		t.Errorf("state after the retry = %s, want %s", got.State, bot.StateUpdating)
	}

	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()
	h.statusOneNotice(cmd, statusProvisionedMarker)
	got := h.statusRequest(r.ID)
	if got.State != bot.StateProvisioned {
		t.Errorf("state = %s, want %s", got.State, bot.StateProvisioned)
	}

	// The audit trail has the retry, by Ann, with the PUT's trackingId; status shows it.
	i := slices.IndexFunc(got.Audit, func(a bot.AuditEntry) bool { return a.Action == "retried" })
	if i < 0 {
		t.Fatalf("the audit trail has no retry: %+v", got.Audit)
	}
	if a := got.Audit[i]; a.Actor != webextest.AnnEmail || a.TrackingID != puts[0].TrackingID {
		t.Errorf("the retry's audit entry is by %q with trackingId %q, want by %s with %q", a.Actor, a.TrackingID, webextest.AnnEmail, puts[0].TrackingID)
	}
	status := apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "status "+r.ID)))
	apptest.Says(t, "status", status, []string{"retried", puts[0].TrackingID}, nil)
}

func TestRetryButtonAfterProvisionedWithErrors(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r := h.retryFailed(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", webextest.StatusProvisionedWithErrors)
	apptest.Says(t, "the notice", h.statusOneNotice(cmd, retryPWEMarker).Markdown, []string{"`retry " + r.ID + "`"}, nil)
	card, data := h.retryCard(cmd)

	h.Click(webextest.AnnID, card.ID, data)

	if got := len(h.retryPuts()); got != 1 {
		t.Fatalf("PUT %d times, want once", got)
	}
	// Clicked in the request's thread: the notice there is the only answer.
	if last := h.retryLast(cmd); !strings.Contains(last.Markdown, retryAcceptedMark) {
		t.Errorf("the thread's last message is %q, want the retry notice", last.Markdown)
	}
	// The used card can no longer act: it is deleted (Webex cannot edit a card).
	if got := h.Sim.CountCalls(http.MethodDelete, "/v1/messages/"+card.ID); got != 1 {
		t.Errorf("DELETE /messages/{the Retry card} %d times, want once", got)
	}
	if _, ok := h.Sim.Message(card.ID); ok {
		t.Error("the used Retry card is still there")
	}
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()
	h.statusOneNotice(cmd, statusProvisionedMarker)
	if got := h.statusRequest(r.ID).State; got != bot.StateProvisioned {
		t.Errorf("state = %s, want %s", got, bot.StateProvisioned)
	}
}

func TestRetryOnceForDoubleClickAndRedelivery(t *testing.T) {
	webhookOnly(t, "it replays a webhook delivery byte for byte")
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r := h.retryFailed(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", webextest.StatusError)
	card, data := h.retryCard(cmd)

	// Two clicks while attachbot is restarting (the webhook answers 503), so that both exist
	// before the bot has handled either; Webex delivers both again, then the last a third time.
	h.CloseApp(h.App())
	for range 2 {
		if _, err := h.Sim.Click(t.Context(), webextest.AnnID, card.ID, data); err == nil {
			t.Fatal("a click was delivered while attachbot was stopped")
		}
	}
	h.StartApp()
	ds := h.Sim.Deliveries()
	clicks := []webextest.Delivery{ds[len(ds)-2], ds[len(ds)-1], ds[len(ds)-1]}
	for _, d := range clicks {
		if again, err := h.Sim.Redeliver(t.Context(), d); err != nil || again.Status != http.StatusOK {
			t.Fatalf("redeliver: status %d, %v; want 200", again.Status, err)
		}
	}
	h.Settle()

	if got := len(h.retryPuts()); got != 1 {
		t.Errorf("PUT %d times for a double click and a redelivery, want once", got)
	}
	h.statusOneNotice(cmd, retryAcceptedMark)
	h.statusOneNotice(cmd, "was retried already")
	got := h.statusRequest(r.ID)
	n := 0
	for _, a := range got.Audit {
		if a.Action == "retried" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the audit trail has %d retries, want 1", n)
	}

	// A later click, once the retry has failed again, retries again.
	if err := h.Sim.SetCustomerStatus(r.CustomerID, webextest.StatusError); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()
	if got := len(h.statusNotices(cmd, retryErrorMarker)); got != 2 {
		t.Fatalf("the thread has %d error notices, want 2 (before and after the retry)", got)
	}
	// The used card is gone; the new error notice brought a new one.
	if _, ok := h.Sim.Message(card.ID); ok {
		t.Error("the used Retry card is still there")
	}
	again, againData := h.retryCard(cmd)
	h.Click(webextest.AnnID, again.ID, againData)
	if got := len(h.retryPuts()); got != 2 {
		t.Errorf("PUT %d times after a second failure and a click, want 2", got)
	}
}

func TestRetryOutsiderClickRefused(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r := h.retryFailed(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", webextest.StatusError)
	card, data := h.retryCard(cmd)

	if _, err := h.Sim.ClickUnseen(t.Context(), webextest.EveID, card.ID, data); err != nil {
		t.Fatal(err)
	}
	h.Settle()

	if got := len(h.retryPuts()); got != 0 {
		t.Errorf("PUT %d times for an outsider's click, want none", got)
	}
	if got := h.statusRequest(r.ID); got.State != bot.StateError || got.RetryEvent != "" {
		t.Errorf("the request is %s with retry event %q, want still error and never retried", got.State, got.RetryEvent)
	}
	told := h.DirectFromBot(webextest.EveID)
	if len(told) != 1 {
		t.Fatalf("Eve got %d direct messages, want the refusal", len(told))
	}
	apptest.Says(t, "the answer to Eve", told[0].Markdown, []string{"I only take commands from the partner's Webex for Wholesale admins"}, nil)
	if last := h.retryLast(cmd); !strings.Contains(last.Markdown, "type `retry "+r.ID+"`") {
		t.Errorf("the partner's thread got a new message after the outsider's click: %q", last.Markdown)
	}
}

func TestRetryLostAnswerIsNotResent(t *testing.T) {
	tests := []struct {
		name   string
		fault  webextest.Fault
		client *http.Client
		// applied says whether Webex took the PUT before the answer was lost.
		applied bool
	}{
		{
			name:    "gateway timeout after Webex acted",
			fault:   webextest.Fault{Method: http.MethodPut, Path: retryCustomersPath, Times: 1, AfterApply: true, Status: http.StatusGatewayTimeout},
			applied: true,
		},
		{
			name:    "no answer until the client gives up",
			fault:   webextest.Fault{Method: http.MethodPut, Path: retryCustomersPath, Times: 1, AfterApply: true, Hang: true},
			client:  &http.Client{Timeout: 2 * time.Second}, // every call's: long enough for the others under -race
			applied: true,
		},
		{
			name:  "a server error before Webex acted",
			fault: webextest.Fault{Method: http.MethodPut, Path: retryCustomersPath, Times: 1, Status: http.StatusServiceUnavailable},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{ManualClock: true, HTTPClient: tt.client})
			cmd, r := h.retryFailed(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", webextest.StatusError)
			h.Sim.Inject(tt.fault)

			h.Say(webextest.AnnID, webextest.PartnerSpaceID, "retry "+r.ID)

			if got := len(h.retryPuts()); got != 1 {
				t.Fatalf("PUT %d times after a lost answer, want once", got)
			}
			h.statusOneNotice(cmd, retryUnknownMark)
			if c, _ := h.Sim.Customer(r.CustomerID); (c.Status == webextest.StatusUpdating) != tt.applied {
				t.Fatalf("the customer is %s; the fault should have left it applied=%t", c.Status, tt.applied)
			}

			// The status job finds out how it stands, and sends nothing again.
			h.Clock.Advance(statusFirstPoll)
			h.MustSweep()
			if got := len(h.retryPuts()); got != 1 {
				t.Errorf("PUT %d times after the sweep, want still once", got)
			}
			if tt.applied {
				h.statusOneNotice(cmd, statusProvisionedMarker)
				return
			}
			if got := len(h.statusNotices(cmd, retryErrorMarker)); got != 2 {
				t.Fatalf("the thread has %d error notices, want 2 (the status job tells the failure again)", got)
			}
			// The partner decides to retry again: that one goes through.
			h.Say(webextest.AnnID, webextest.PartnerSpaceID, "retry "+r.ID)
			if got := len(h.retryPuts()); got != 2 {
				t.Errorf("PUT %d times after a second retry, want 2", got)
			}
			h.Clock.Advance(statusFirstPoll)
			h.MustSweep()
			h.statusOneNotice(cmd, statusProvisionedMarker)
		})
	}
}

func TestRetryRefusedByWebexIsTold(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r := h.retryFailed(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", webextest.StatusError)
	h.Sim.Inject(webextest.Fault{Method: http.MethodPut, Path: retryCustomersPath, Times: 1, Status: http.StatusNotFound, Message: "Customer not found."})

	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "retry "+r.ID)

	n := h.statusOneNotice(cmd, "Webex refused to provision attach **"+r.ID+"**")
	apptest.Says(t, "the notice", n.Markdown, []string{"Webex answered 404: Customer not found.", "TrackingId for Cisco support"}, nil)
	got := h.statusRequest(r.ID)
	if got.State != bot.StateError {
		t.Errorf("state = %s, want still %s", got.State, bot.StateError)
	}
	if !slices.ContainsFunc(got.Audit, func(a bot.AuditEntry) bool { return a.Action == "retry refused by Webex" && a.TrackingID != "" }) {
		t.Errorf("the audit trail does not have the refusal with its trackingId: %+v", got.Audit)
	}
	// Nothing was done at Webex, so the partner can retry again.
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "retry "+r.ID)
	if got := len(h.retryPuts()); got != 2 {
		t.Errorf("PUT %d times, want 2", got)
	}
}

func TestRetryInHelp(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	help := apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")))
	apptest.Says(t, "help", help, []string{"`retry <id>`", "`error` or `provisioned_with_errors`"}, nil)
}

func TestRetryAfterStopDuringPutIsNotResent(t *testing.T) {
	webhookOnly(t, "it reads the failed webhook delivery of a click made while attachbot is stopped")
	for _, applied := range []bool{true, false} {
		t.Run(map[bool]string{true: "Webex took the PUT", false: "the PUT never arrived"}[applied], func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{ManualClock: true})
			cmd, r := h.retryFailed(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", webextest.StatusError)
			card, data := h.retryCard(cmd)

			// attachbot stops; the click's delivery fails and Webex will deliver it again.
			h.CloseApp(h.App())
			action, _ := h.Sim.Click(t.Context(), webextest.AnnID, card.ID, data)
			d, ok := h.Sim.LastDelivery()
			if !ok || d.Status == http.StatusOK {
				t.Fatalf("the click's delivery = %+v, want a failed one", d)
			}
			// What the stopped process had recorded when it died with its PUT under way.
			stopped := h.BuildApp()
			if _, err := stopped.Store().UpdateRequest(t.Context(), r.ID, func(r *bot.Request) ([]bot.Outgoing, error) {
				r.RetryEvent, r.RetrySending = bot.EventKey("attachmentActions", "created", action.ID), true
				return nil, nil
			}); err != nil {
				t.Fatal(err)
			}
			h.CloseApp(stopped)
			if applied {
				if err := h.Sim.SetCustomerStatus(r.CustomerID, webextest.StatusUpdating); err != nil {
					t.Fatal(err)
				}
			}

			h.StartApp()
			if again, err := h.Sim.Redeliver(t.Context(), d); err != nil || again.Status != http.StatusOK {
				t.Fatalf("redeliver: status %d, %v; want 200", again.Status, err)
			}
			h.Settle()

			if got := len(h.retryPuts()); got != 0 {
				t.Errorf("PUT %d times after the restart, want none: the first one's outcome is unknown", got)
			}
			h.statusOneNotice(cmd, retryUnknownMark)
			if applied {
				if err := h.Sim.SetCustomerStatus(r.CustomerID, webextest.StatusProvisioned); err != nil {
					t.Fatal(err)
				}
			}
			h.Clock.Advance(statusFirstPoll)
			h.MustSweep()
			if applied {
				h.statusOneNotice(cmd, statusProvisionedMarker)
			} else if got := len(h.statusNotices(cmd, retryErrorMarker)); got != 2 {
				t.Errorf("the thread has %d error notices, want 2 (the failure told again, with the Retry button)", got)
			}
		})
	}
}
