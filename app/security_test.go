package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The attacks of the adversarial review, played end to end through the simulated Webex.

func TestRequestIDsOutsideTheAlphabetAreRefusedWithoutEcho(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	id := apptest.RequestIDIn(t, replies[0])
	bad := []string{
		"[K7QM2X](https://evil.example)", // a live link
		"**K7QM2X**",                     // emphasis
		"K7QM2X1",                        // too long
		"ZZQQ",                           // too short
		"K7QMOX",                         // O is not of the alphabet
		"<@personEmail:eve@elsewhere.example>",
	}
	for _, command := range []string{"status", "cancel", "remind"} {
		for _, raw := range bad {
			cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, command+" "+raw)
			got := apptest.Joined(h.RepliesTo(cmd))
			apptest.MustContain(t, command+" "+raw, got, "That is not a request id")
			lower := strings.ToLower(got)
			if strings.Contains(lower, strings.ToLower(raw)) || strings.Contains(lower, "evil.example") || strings.Contains(lower, "eve@") {
				t.Errorf("%s %s: the reply echoes the id:\n%s", command, raw, got)
			}
		}
	}
	if r := h.mustRequest(id); r.State != bot.StateAwaitingApproval {
		t.Errorf("state %s after commands with bad ids, want %s", r.State, bot.StateAwaitingApproval)
	}
	if got := h.DirectFromBot(webextest.BigAdminID); len(got) != 1 {
		t.Errorf("the customer admin got %d messages, want only the approval card:\n%s", len(got), apptest.Joined(got))
	}

	// A lower-case id, as people type it, is still one.
	apptest.MustContain(t, "status in lower case", apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "status "+strings.ToLower(id)))),
		id, webextest.BigAdminEmail)

	// A card whose request id was tampered with is refused without echo.
	card := h.approvalCard(webextest.BigAdminID)
	inputs := h.Submission(card, "Approve", nil)
	inputs[bot.FieldRequestID] = "[click](https://evil.example)"
	h.Click(webextest.BigAdminID, card.ID, inputs)
	admin := h.DirectFromBot(webextest.BigAdminID)
	last := admin[len(admin)-1].Markdown
	apptest.MustContain(t, "the answer to a tampered card", last, "This card is damaged or out of date")
	if strings.Contains(last, "evil.example") {
		t.Errorf("the answer to a tampered card echoes its id:\n%s", last)
	}
	if got := h.provisionCalls(); len(got) != 0 {
		t.Errorf("POST /wholesale/customers %d times after a tampered card", len(got))
	}
}

func TestRequestCommandsActOnlyInTheRequestsSpace(t *testing.T) {
	for _, command := range []string{"status", "cancel", "remind", "retry"} {
		t.Run(command, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
			id := apptest.RequestIDIn(t, replies[0])
			other := h.statusAddRoom("Another partner space")
			before := h.mustRequest(id)

			got := apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, other, command+" "+id)))
			apptest.MustContain(t, command+" in another space", got, "was made in another space", "the space where it was requested")
			for _, secret := range []string{webextest.BigAdminEmail, webextest.BigOrgID, "Bigcorp", "approval"} {
				if strings.Contains(got, secret) {
					t.Errorf("%s in another space shows %q:\n%s", command, secret, got)
				}
			}
			after := h.mustRequest(id)
			if after.State != before.State || len(after.Audit) != len(before.Audit) || !after.RemindedAt.Equal(before.RemindedAt) {
				t.Errorf("%s in another space changed the request: state %s → %s, %d → %d audit lines",
					command, before.State, after.State, len(before.Audit), len(after.Audit))
			}
			if got := h.DirectFromBot(webextest.BigAdminID); len(got) != 1 {
				t.Errorf("the customer admin got %d messages, want only the approval card:\n%s", len(got), apptest.Joined(got))
			}
		})
	}
}

func TestRequestCommandsInAnAdminSpace(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	// The space's id is known once the simulated Webex made it: attachbot is restarted
	// with it in ADMIN_SPACES.
	ops := h.statusAddRoom("Partner operations")
	h.CloseApp(h.App())
	h.Cfg.AdminSpaces = []string{ops}
	h.StartApp()

	_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	id := apptest.RequestIDIn(t, replies[0])

	apptest.MustContain(t, "status in the admin space", apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, ops, "status "+id))), id, webextest.BigAdminEmail)
	apptest.MustContain(t, "cancel in the admin space", apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, ops, "cancel "+id))), "is withdrawn")
	if got := h.mustRequest(id).State; got != bot.StateWithdrawn {
		t.Errorf("state %s after cancel in the admin space, want %s", got, bot.StateWithdrawn)
	}
}

// mustRequest returns a request as the store has it now.
func (h *harness) mustRequest(id string) bot.Request {
	h.T.Helper()
	r, err := h.App().Store().Request(h.T.Context(), id)
	if err != nil {
		h.T.Fatalf("load request %s: %v", id, err)
	}
	return r
}

// capturedClick returns the latest delivery of a card submission, as an eavesdropper on the
// bot's webhook would have captured it: signed bytes.
func (h *harness) capturedClick() webextest.Delivery {
	h.T.Helper()
	ds := h.Sim.Deliveries()
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Resource == "attachmentActions" {
			return ds[i]
		}
	}
	h.T.Fatal("no card submission was delivered")
	return webextest.Delivery{}
}

func TestStaleReplayOfAnApprovalClickProvisionsNothing(t *testing.T) {
	webhookOnly(t, "it replays a captured, signed webhook delivery")
	tests := []struct {
		name string
		// replay sends the captured delivery again; it returns the bot's HTTP status.
		replay func(h *harness, d webextest.Delivery) int
	}{
		{
			name: "the signed bytes, as captured",
			replay: func(h *harness, d webextest.Delivery) int {
				got, err := h.Sim.Redeliver(h.T.Context(), d)
				if err != nil {
					h.T.Fatal(err)
				}
				return got.Status
			},
		},
		{
			// A delivery that does not say when the click happened (as if Webex had left
			// data.created out) is judged by the card submission Webex returns.
			name: "an envelope without data.created",
			replay: func(h *harness, d webextest.Delivery) int {
				var env map[string]any
				if err := json.Unmarshal(d.Body, &env); err != nil {
					h.T.Fatal(err)
				}
				delete(env["data"].(map[string]any), "created")
				body, err := json.Marshal(env)
				if err != nil {
					h.T.Fatal(err)
				}
				got, err := h.Sim.SendSigned(h.T.Context(), d.TargetURL, h.Cfg.WebhookSecret, body)
				if err != nil {
					h.T.Fatal(err)
				}
				return got.Status
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An operator gave customer admins two weeks to approve.
			h := newStatusHarness(t, apptest.Options{ManualClock: true, Configure: func(c *app.Config) { c.ApprovalTTL = 14 * 24 * time.Hour }})
			_, r, card := h.statusAwaitingApproval()

			// The customer admin's click reaches the bot, which cannot read it from Webex
			// and gives it up; its key is remembered as processed. Someone captured the
			// signed delivery.
			h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/attachment/actions/*", Status: http.StatusNotFound, Times: 1})
			h.Press(webextest.BigAdminID, card, "Approve", nil)
			captured := h.capturedClick()
			if got := h.mustRequest(r.ID).State; got != bot.StateAwaitingApproval {
				t.Fatalf("state %s after the unreadable click, want %s", got, bot.StateAwaitingApproval)
			}

			// Eight days later the processed key has been pruned (Retention: 7 days).
			h.Clock.Advance(8 * 24 * time.Hour)
			h.MustSweep()

			if got := tt.replay(h, captured); got != http.StatusOK {
				t.Errorf("the replay was answered %d, want 200 (acknowledged)", got)
			}
			h.Settle()
			if got := h.provisionCalls(); len(got) != 0 {
				t.Errorf("POST /wholesale/customers %d times after a replay of an eight-day-old click", len(got))
			}
			if got := h.mustRequest(r.ID); got.State != bot.StateAwaitingApproval || got.DecidedBy != "" {
				t.Errorf("after the replay: state %s, decided by %q; want %s, undecided", got.State, got.DecidedBy, bot.StateAwaitingApproval)
			}
		})
	}
}

func TestAClickOnADayOldCardStillCounts(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	_, r, card := h.statusAwaitingApproval()
	h.Clock.Advance(23 * time.Hour) // the card is old; the click is not
	h.Press(webextest.BigAdminID, card, "Approve", nil)
	if got := h.mustRequest(r.ID).State; got == bot.StateAwaitingApproval {
		t.Errorf("a click on a day-old card was not acted on")
	}
	if got := h.provisionCalls(); len(got) != 1 {
		t.Errorf("POST /wholesale/customers %d times, want once", len(got))
	}
}

func TestLostProvisioningAnswerThenConflictLinksTheCustomer(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	// Webex creates the customer but its answer is lost; its customer list does not show the
	// new customer to the next lookup, so the re-submission is answered 409.
	h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Times: 1, AfterApply: true, Status: http.StatusGatewayTimeout})
	h.Sim.LagCustomerList(1)
	cmd, _ := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))

	if got := len(h.provisionCalls()); got != 2 {
		t.Fatalf("POST /wholesale/customers %d times, want 2 (the lost one and the re-submission)", got)
	}
	if got := h.newCustomers(); got != 1 {
		t.Errorf("Webex has %d new wholesale customers, want 1", got)
	}
	thread := h.RepliesTo(cmd)
	id := apptest.RequestIDIn(t, thread[0])
	r := h.mustRequest(id)
	customers := h.Sim.Customers()
	if r.State != bot.StateProvisioning || r.CustomerID != customers[len(customers)-1].ID {
		t.Errorf("request %s: state %s, customer %q; want %s, linked to %s", id, r.State, r.CustomerID, bot.StateProvisioning, customers[len(customers)-1].ID)
	}
	text := apptest.Joined(thread)
	if strings.Contains(text, "nothing was created") || strings.Contains(text, "refused") {
		t.Errorf("the thread says the provisioning was refused:\n%s", text)
	}
	apptest.MustContain(t, "the audit trail", apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "status "+id))),
		"answer lost", "answered 409: an earlier submission went through: found by externalId")

	// The request is polled until it ends.
	h.Clock.Advance(time.Hour)
	if err := h.App().Bot().Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.Settle()
	if got := h.mustRequest(id).State; got != bot.StateProvisioned {
		t.Errorf("state %s after polling, want %s", got, bot.StateProvisioned)
	}
}

func TestLostProvisioningAnswerThenConflictNeverSaysNothingWasCreated(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	// The customer list does not show the new customer to any lookup of this submission.
	h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Times: 1, AfterApply: true, Status: http.StatusGatewayTimeout})
	h.Sim.LagCustomerList(3)
	cmd, _ := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))

	text := apptest.Joined(h.RepliesTo(cmd))
	if strings.Contains(text, "nothing was created") {
		t.Errorf("the thread says nothing was created, though Webex created the customer:\n%s", text)
	}
	apptest.MustContain(t, "the thread", text, "The answer to an earlier submission was lost", "check Partner Hub")
}

func TestApprovalGate(t *testing.T) {
	const bigUser = "user2@bigcorp.example" // a person of Bigcorp, not its admin
	tests := []struct {
		name          string
		orgID         string
		approverEmail string
		roles         []string // set on the approver when not nil
		facts         string
		wantProvision bool
		wantThread    []string
		wantNot       []string
		wantApprover  string // in what the bot told the approver
	}{
		{
			name: "a full admin", orgID: webextest.BigOrgID, approverEmail: webextest.BigAdminEmail,
			facts: "verified-domain=no claimed-domain=no", wantProvision: true,
			wantThread: []string{"**approved**"}, wantNot: []string{"could not check"},
		},
		{
			name: "a user of the organization", orgID: webextest.BigOrgID, approverEmail: bigUser,
			facts:         "verified-domain=no claimed-domain=no",
			wantThread:    []string{bigUser + " tried to approve attach", "not a full admin of the organization"},
			wantNot:       []string{"**approved**"},
			wantApprover:  "not a full admin of your organization",
			wantProvision: false,
		},
		{
			name: "a user admin, not a full admin", orgID: webextest.BigOrgID, approverEmail: bigUser,
			roles: []string{webextest.UserAdminRoleID}, facts: "verified-domain=no claimed-domain=no",
			wantThread:   []string{"not a full admin of the organization"},
			wantNot:      []string{"**approved**"},
			wantApprover: "not a full admin of your organization",
		},
		{
			name: "roles the partner cannot read", orgID: webextest.HiddenOrgID, approverEmail: webextest.HiddenAdminEmail,
			wantProvision: true,
			wantThread:    []string{"**approved**", "I could not check that " + webextest.HiddenAdminEmail + " is a full admin of the organization"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			approver, ok := h.Sim.PersonByEmail(tt.approverEmail)
			if !ok {
				t.Fatalf("no person %s", tt.approverEmail)
			}
			if tt.roles != nil {
				h.Sim.SetRoles(approver.ID, tt.roles...)
			}
			cmd, replies := h.attach(attachLine(tt.orgID, tt.approverEmail, "webex_meetings", tt.facts))
			id := apptest.RequestIDIn(t, replies[0])
			h.Press(approver.ID, h.approvalCard(approver.ID), "Approve", nil)

			if got, want := len(h.provisionCalls()), map[bool]int{true: 1}[tt.wantProvision]; got != want {
				t.Errorf("POST /wholesale/customers %d times, want %d", got, want)
			}
			thread := apptest.Joined(h.RepliesTo(cmd))
			apptest.MustContain(t, "the partner thread", thread, tt.wantThread...)
			for _, not := range tt.wantNot {
				if strings.Contains(thread, not) {
					t.Errorf("the partner thread says %q:\n%s", not, thread)
				}
			}
			if tt.wantApprover != "" {
				told := h.DirectFromBot(approver.ID)
				apptest.MustContain(t, "what the approver was told", told[len(told)-1].Markdown, tt.wantApprover, "Nothing was changed")
				if got := h.mustRequest(id).State; got != bot.StateAwaitingApproval {
					t.Errorf("state %s after a refused approval, want %s", got, bot.StateAwaitingApproval)
				}
				// Declining is not gated.
				h.Press(approver.ID, h.approvalCard(approver.ID), "Decline", nil)
				if got := h.mustRequest(id).State; got != bot.StateDeclined {
					t.Errorf("state %s after the decline, want %s", got, bot.StateDeclined)
				}
			}
		})
	}
}

func TestAttachAfterADeclinedOrExpiredRequestNeedsApprovalAgain(t *testing.T) {
	tests := []struct {
		name string
		end  func(h *harness, card webextest.Message)
		want bot.State
	}{
		{
			name: "declined",
			end: func(h *harness, card webextest.Message) {
				h.Press(webextest.SmallAdminID, card, "Decline", nil)
			},
			want: bot.StateDeclined,
		},
		{
			name: "expired",
			end: func(h *harness, _ webextest.Message) {
				h.Clock.Advance(8 * 24 * time.Hour)
				h.MustSweep()
			},
			want: bot.StateExpired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{ManualClock: true})
			// The first attach needs approval (a declared verified domain), which ends
			// without it.
			_, replies := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=yes claimed-domain=no"))
			first := apptest.RequestIDIn(t, replies[0])
			tt.end(h, h.approvalCard(webextest.SmallAdminID))
			if got := h.mustRequest(first).State; got != tt.want {
				t.Fatalf("the first request is %s, want %s", got, tt.want)
			}

			// The partner now declares what would make it automatic.
			cmd, replies := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
			if len(replies) == 0 {
				t.Fatal("no reply to the second attach")
			}
			second := h.mustRequest(apptest.RequestIDIn(t, replies[0]))
			if second.State != bot.StateAwaitingApproval {
				t.Errorf("the second request is %s, want %s", second.State, bot.StateAwaitingApproval)
			}
			apptest.MustContain(t, "the reply to the second attach", apptest.Joined(h.RepliesTo(cmd)), bot.CriterionEarlierRefusal)
			if got := h.provisionCalls(); len(got) != 0 {
				t.Errorf("POST /wholesale/customers %d times without the customer admin's approval", len(got))
			}
			// The first request's card was deleted when it ended; the one left asks about the
			// second request.
			if got := h.statusCards(webextest.SmallAdminID); len(got) != 1 || !strings.Contains(string(got[0].Attachments[0].Content), second.ID) {
				t.Errorf("the customer admin has %d approval cards, want the second request's (%s) only", len(got), second.ID)
			}
		})
	}
}
