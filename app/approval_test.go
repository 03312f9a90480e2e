package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// Approvals end to end: a customer admin answers the approval card in their direct space
// with the bot; nobody else may, and an answer after the deadline or to a withdrawn request
// changes nothing.

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

// statusAwaitingApproval attaches the 150-user organization, which needs its admin's
// approval, and returns the command, the request and the approval card.
func (h *harness) statusAwaitingApproval() (webextest.Message, bot.Request, webextest.Message) {
	h.T.Helper()
	cmd, r := h.statusAttach(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings")
	if r.State != bot.StateAwaitingApproval {
		h.T.Fatalf("state = %s, want %s", r.State, bot.StateAwaitingApproval)
	}
	cards := h.statusCards(webextest.BigAdminID)
	if len(cards) != 1 {
		h.T.Fatalf("the customer admin got %d cards, want the approval card", len(cards))
	}
	return cmd, r, cards[0]
}

func TestStatusApprovalHalfwayReminder(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r, _ := h.statusAwaitingApproval()
	halfway := h.Cfg.ApprovalTTL / 2
	const marker = "has not answered yet, so I sent the approval card again"

	h.Clock.Advance(halfway - time.Minute)
	h.MustSweep()
	if got := len(h.statusCards(webextest.BigAdminID)); got != 1 {
		t.Fatalf("before half the approval time the admin has %d cards, want 1", got)
	}

	h.Clock.Advance(time.Minute)
	h.MustSweep()
	for range 3 {
		h.Clock.Advance(time.Hour)
		h.MustSweep()
	}

	cards := h.statusCards(webextest.BigAdminID)
	if len(cards) != 2 {
		t.Fatalf("after half the approval time the admin has %d cards, want 2 (the card and one reminder)", len(cards))
	}
	expires := statusFormatUTC(r.ApprovalSent.Add(h.Cfg.ApprovalTTL))
	apptest.Says(t, "the reminder", cards[1].Markdown, []string{"Reminder: ", r.ID, "approve or decline by " + expires}, nil)
	if data := apptest.SubmitData(t, cards[1], "Approve"); data == nil || data[bot.FieldRequestID] != r.ID {
		t.Errorf("the reminder's Approve button has data %v, want request %s", data, r.ID)
	}
	n := h.statusOneNotice(cmd, marker)
	apptest.Says(t, "the partner's notice", n.Markdown, []string{webextest.BigAdminEmail, "It expires on " + expires}, nil)
	if got := h.statusRequest(r.ID); got.State != bot.StateAwaitingApproval || !got.RemindedAt.Equal(r.ApprovalSent.Add(halfway)) {
		t.Errorf("request after the reminder: state %s, reminded at %s; want %s, reminded at %s",
			got.State, got.RemindedAt, bot.StateAwaitingApproval, r.ApprovalSent.Add(halfway))
	}
}

func TestStatusApprovalExpires(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r, card := h.statusAwaitingApproval()
	const marker = " did not answer. Nothing was provisioned."

	h.Clock.Advance(h.Cfg.ApprovalTTL - time.Minute)
	h.MustSweep()
	if got := h.statusRequest(r.ID).State; got != bot.StateAwaitingApproval {
		t.Fatalf("a minute before the approval TTL the state is %s, want %s", got, bot.StateAwaitingApproval)
	}

	h.Clock.Advance(time.Minute)
	h.MustSweep()
	h.Clock.Advance(time.Hour)
	h.MustSweep()

	if got := h.statusRequest(r.ID).State; got != bot.StateExpired {
		t.Errorf("state = %s, want %s", got, bot.StateExpired)
	}
	n := h.statusOneNotice(cmd, marker)
	apptest.Says(t, "the expiry notice", n.Markdown, []string{"Nothing was provisioned"}, nil)
	var told []string
	for _, m := range h.DirectFromBot(webextest.BigAdminID) {
		if strings.Contains(m.Markdown, "has expired") {
			told = append(told, m.Markdown)
		}
	}
	if len(told) != 1 || !strings.Contains(told[0], "Request "+r.ID) {
		t.Errorf("the customer admin was told %q, want one expiry message naming %s", told, r.ID)
	}

	// The expired card is deleted: a click on it cannot reach the bot any more.
	if _, ok := h.Sim.Message(card.ID); ok {
		t.Error("the expired approval card is still there")
	}
	if _, err := h.Sim.Click(t.Context(), webextest.BigAdminID, card.ID, apptest.SubmitData(t, card, "Approve")); err == nil {
		t.Error("a click on the expired, deleted card went through")
	}
	if got := len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")); got != 0 {
		t.Errorf("POST /wholesale/customers was called %d times after the expiry, want 0", got)
	}
	if got := h.statusRequest(r.ID).State; got != bot.StateExpired {
		t.Errorf("state = %s, want %s", got, bot.StateExpired)
	}
}
