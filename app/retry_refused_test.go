package app_test

import (
	"net/http"
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

func TestRetryRefusedInOtherStates(t *testing.T) {
	tests := []struct {
		name string
		// prepare brings a request to the state and returns its id.
		prepare func(t *testing.T, h *harness) string
		want    string
	}{
		{
			name: "awaiting approval",
			prepare: func(t *testing.T, h *harness) string {
				_, r, _ := h.statusAwaitingApproval()
				return r.ID
			},
			want: "still waiting for the customer admin's approval",
		},
		{
			name: "withdrawn",
			prepare: func(t *testing.T, h *harness) string {
				_, r, _ := h.statusAwaitingApproval()
				h.Say(webextest.AnnID, webextest.PartnerSpaceID, "cancel "+r.ID)
				return r.ID
			},
			want: "cannot be retried; run the attach again",
		},
		{
			name: "declined",
			prepare: func(t *testing.T, h *harness) string {
				_, r, card := h.statusAwaitingApproval()
				h.Press(webextest.BigAdminID, card, "Decline", nil)
				if got := h.statusRequest(r.ID).State; got != bot.StateDeclined {
					t.Fatalf("state %s after the decline, want %s", got, bot.StateDeclined)
				}
				return r.ID
			},
			want: "is declined by the customer admin, so it cannot be retried; run the attach again",
		},
		{
			name: "expired",
			prepare: func(t *testing.T, h *harness) string {
				_, r, _ := h.statusAwaitingApproval()
				h.Advance(bot.DefaultApprovalTTL + time.Hour)
				h.MustSweep()
				if got := h.statusRequest(r.ID).State; got != bot.StateExpired {
					t.Fatalf("state %s after the approval time ran out, want %s", got, bot.StateExpired)
				}
				return r.ID
			},
			want: "expired without an answer, so it cannot be retried; run the attach again",
		},
		{
			name: "provisioning",
			prepare: func(t *testing.T, h *harness) string {
				_, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
				return r.ID
			},
			want: "can be retried only once it has failed or is provisioned with errors",
		},
		{
			name: "pending_rpl_review",
			prepare: func(t *testing.T, h *harness) string {
				_, r := h.retryFailed(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", webextest.StatusPendingReview)
				return r.ID
			},
			want: "can be retried only once it has failed or is provisioned with errors",
		},
		{
			name: "provisioned",
			prepare: func(t *testing.T, h *harness) string {
				_, r := h.retryFailed(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", webextest.StatusProvisioned)
				return r.ID
			},
			want: "there is nothing to retry",
		},
		{
			name: "rejected by Webex",
			prepare: func(t *testing.T, h *harness) string {
				h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Times: 1, Status: http.StatusBadRequest, Message: "Simulated refusal."})
				cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, statusAttachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings"))
				rs, err := h.App().Store().Requests(t.Context(), bot.RequestFilter{States: []bot.State{bot.StateRejected}})
				if err != nil || len(rs) != 1 {
					t.Fatalf("rejected requests: %v, %v; want one; the thread:\n%s", rs, err, apptest.Joined(h.RepliesTo(cmd)))
				}
				return rs[0].ID
			},
			want: "refused by Webex before any customer was created",
		},
		{
			name:    "unknown",
			prepare: func(t *testing.T, h *harness) string { return "ZZZZZZ" },
			want:    "I don't know request ZZZZZZ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{ManualClock: true})
			id := tt.prepare(t, h)
			before, _ := h.App().Store().Request(t.Context(), id)
			writes := len(h.Sim.CallsTo(http.MethodPut, "/v1/*")) + len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/*")) + len(h.Sim.CallsTo(http.MethodDelete, "/v1/wholesale/*"))

			retry := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "retry "+id)

			apptest.Says(t, "the answer", apptest.Joined(h.RepliesTo(retry)), []string{tt.want}, nil)
			after := len(h.Sim.CallsTo(http.MethodPut, "/v1/*")) + len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/*")) + len(h.Sim.CallsTo(http.MethodDelete, "/v1/wholesale/*"))
			if after != writes {
				t.Errorf("the refused retry made %d Webex writes, want none", after-writes)
			}
			if got, _ := h.App().Store().Request(t.Context(), id); got.State != before.State || len(got.Audit) != len(before.Audit) {
				t.Errorf("the request changed: state %s -> %s, %d -> %d audit entries", before.State, got.State, len(before.Audit), len(got.Audit))
			}
		})
	}
}
