package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The attacks of the adversarial review, played end to end through the simulated Webex.

func TestRequestIDsOutsideTheAlphabetAreRefusedWithoutEcho(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	id := requestIDIn(t, replies[0])
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
			cmd := h.say(webextest.AnnID, webextest.PartnerSpaceID, command+" "+raw)
			got := joined(h.repliesTo(cmd))
			mustContain(t, command+" "+raw, got, "That is not a request id")
			lower := strings.ToLower(got)
			if strings.Contains(lower, strings.ToLower(raw)) || strings.Contains(lower, "evil.example") || strings.Contains(lower, "eve@") {
				t.Errorf("%s %s: the reply echoes the id:\n%s", command, raw, got)
			}
		}
	}
	if r := h.mustRequest(id); r.State != bot.StateAwaitingApproval {
		t.Errorf("state %s after commands with bad ids, want %s", r.State, bot.StateAwaitingApproval)
	}
	if got := h.directFromBot(webextest.BigAdminID); len(got) != 1 {
		t.Errorf("the customer admin got %d messages, want only the approval card:\n%s", len(got), joined(got))
	}

	// A lower-case id, as people type it, is still one.
	mustContain(t, "status in lower case", joined(h.repliesTo(h.say(webextest.AnnID, webextest.PartnerSpaceID, "status "+strings.ToLower(id)))),
		id, webextest.BigAdminEmail)

	// A card whose request id was tampered with is refused without echo.
	card := h.approvalCard(webextest.BigAdminID)
	inputs := h.submission(card, "Approve", nil)
	inputs[bot.FieldRequestID] = "[click](https://evil.example)"
	h.click(webextest.BigAdminID, card.ID, inputs)
	admin := h.directFromBot(webextest.BigAdminID)
	last := admin[len(admin)-1].Markdown
	mustContain(t, "the answer to a tampered card", last, "This card is damaged or out of date")
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
			h := newHarness(t, harnessOptions{})
			_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
			id := requestIDIn(t, replies[0])
			other := h.statusAddRoom("Another partner space")
			before := h.mustRequest(id)

			got := joined(h.repliesTo(h.say(webextest.AnnID, other, command+" "+id)))
			mustContain(t, command+" in another space", got, "was made in another space", "the space where it was requested")
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
			if got := h.directFromBot(webextest.BigAdminID); len(got) != 1 {
				t.Errorf("the customer admin got %d messages, want only the approval card:\n%s", len(got), joined(got))
			}
		})
	}
}

func TestRequestCommandsInAnAdminSpace(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// The space's id is known once the simulated Webex made it: attachbot is restarted
	// with it in ADMIN_SPACES.
	ops := h.statusAddRoom("Partner operations")
	h.closeApp(h.app)
	h.cfg.AdminSpaces = []string{ops}
	h.startApp()

	_, replies := h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
	id := requestIDIn(t, replies[0])

	mustContain(t, "status in the admin space", joined(h.repliesTo(h.say(webextest.AnnID, ops, "status "+id))), id, webextest.BigAdminEmail)
	mustContain(t, "cancel in the admin space", joined(h.repliesTo(h.say(webextest.AnnID, ops, "cancel "+id))), "is withdrawn")
	if got := h.mustRequest(id).State; got != bot.StateWithdrawn {
		t.Errorf("state %s after cancel in the admin space, want %s", got, bot.StateWithdrawn)
	}
}

// mustRequest returns a request as the store has it now.
func (h *harness) mustRequest(id string) bot.Request {
	h.t.Helper()
	r, err := h.app.db.Request(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("load request %s: %v", id, err)
	}
	return r
}

// capturedClick returns the latest delivery of a card submission, as an eavesdropper on the
// bot's webhook would have captured it: signed bytes.
func (h *harness) capturedClick() webextest.Delivery {
	h.t.Helper()
	ds := h.sim.Deliveries()
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Resource == "attachmentActions" {
			return ds[i]
		}
	}
	h.t.Fatal("no card submission was delivered")
	return webextest.Delivery{}
}

func TestStaleReplayOfAnApprovalClickProvisionsNothing(t *testing.T) {
	tests := []struct {
		name string
		// replay sends the captured delivery again; it returns the bot's HTTP status.
		replay func(h *harness, d webextest.Delivery) int
	}{
		{
			name: "the signed bytes, as captured",
			replay: func(h *harness, d webextest.Delivery) int {
				got, err := h.sim.Redeliver(h.t.Context(), d)
				if err != nil {
					h.t.Fatal(err)
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
					h.t.Fatal(err)
				}
				delete(env["data"].(map[string]any), "created")
				body, err := json.Marshal(env)
				if err != nil {
					h.t.Fatal(err)
				}
				got, err := h.sim.SendSigned(h.t.Context(), d.TargetURL, h.cfg.WebhookSecret, body)
				if err != nil {
					h.t.Fatal(err)
				}
				return got.Status
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An operator gave customer admins two weeks to approve.
			h := newStatusHarness(t, harnessOptions{manualClock: true, configure: func(c *Config) { c.ApprovalTTL = 14 * 24 * time.Hour }})
			_, r, card := h.statusAwaitingApproval()

			// The customer admin's click reaches the bot, which cannot read it from Webex
			// and gives it up; its key is remembered as processed. Someone captured the
			// signed delivery.
			h.sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/attachment/actions/*", Status: http.StatusNotFound, Times: 1})
			h.press(webextest.BigAdminID, card, "Approve", nil)
			captured := h.capturedClick()
			if got := h.mustRequest(r.ID).State; got != bot.StateAwaitingApproval {
				t.Fatalf("state %s after the unreadable click, want %s", got, bot.StateAwaitingApproval)
			}

			// Eight days later the processed key has been pruned (Retention: 7 days).
			h.clock.Advance(8 * 24 * time.Hour)
			h.statusMustSweep()

			if got := tt.replay(h, captured); got != http.StatusOK {
				t.Errorf("the replay was answered %d, want 200 (acknowledged)", got)
			}
			h.settle()
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
	h := newStatusHarness(t, harnessOptions{manualClock: true})
	_, r, card := h.statusAwaitingApproval()
	h.clock.Advance(23 * time.Hour) // the card is old; the click is not
	h.press(webextest.BigAdminID, card, "Approve", nil)
	if got := h.mustRequest(r.ID).State; got == bot.StateAwaitingApproval {
		t.Errorf("a click on a day-old card was not acted on")
	}
	if got := h.provisionCalls(); len(got) != 1 {
		t.Errorf("POST /wholesale/customers %d times, want once", len(got))
	}
}

func TestLostProvisioningAnswerThenConflictLinksTheCustomer(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// Webex creates the customer but its answer is lost; its customer list does not show the
	// new customer to the next lookup, so the re-submission is answered 409.
	h.sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Times: 1, AfterApply: true, Status: http.StatusGatewayTimeout})
	h.sim.LagCustomerList(1)
	cmd, _ := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))

	if got := len(h.provisionCalls()); got != 2 {
		t.Fatalf("POST /wholesale/customers %d times, want 2 (the lost one and the re-submission)", got)
	}
	if got := h.newCustomers(); got != 1 {
		t.Errorf("Webex has %d new wholesale customers, want 1", got)
	}
	thread := h.repliesTo(cmd)
	id := requestIDIn(t, thread[0])
	r := h.mustRequest(id)
	customers := h.sim.Customers()
	if r.State != bot.StateProvisioning || r.CustomerID != customers[len(customers)-1].ID {
		t.Errorf("request %s: state %s, customer %q; want %s, linked to %s", id, r.State, r.CustomerID, bot.StateProvisioning, customers[len(customers)-1].ID)
	}
	text := joined(thread)
	if strings.Contains(text, "nothing was created") || strings.Contains(text, "refused") {
		t.Errorf("the thread says the provisioning was refused:\n%s", text)
	}
	mustContain(t, "the audit trail", joined(h.repliesTo(h.say(webextest.AnnID, webextest.PartnerSpaceID, "status "+id))),
		"answer lost", "answered 409: an earlier submission went through: found by externalId")

	// The request is polled until it ends.
	h.clock.Advance(time.Hour)
	if err := h.app.bot.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if got := h.mustRequest(id).State; got != bot.StateProvisioned {
		t.Errorf("state %s after polling, want %s", got, bot.StateProvisioned)
	}
}

func TestLostProvisioningAnswerThenConflictNeverSaysNothingWasCreated(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// The customer list does not show the new customer to any lookup of this submission.
	h.sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Times: 1, AfterApply: true, Status: http.StatusGatewayTimeout})
	h.sim.LagCustomerList(3)
	cmd, _ := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))

	text := joined(h.repliesTo(cmd))
	if strings.Contains(text, "nothing was created") {
		t.Errorf("the thread says nothing was created, though Webex created the customer:\n%s", text)
	}
	mustContain(t, "the thread", text, "The answer to an earlier submission was lost", "check Partner Hub")
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
			h := newHarness(t, harnessOptions{})
			approver, ok := h.sim.PersonByEmail(tt.approverEmail)
			if !ok {
				t.Fatalf("no person %s", tt.approverEmail)
			}
			if tt.roles != nil {
				h.sim.SetRoles(approver.ID, tt.roles...)
			}
			cmd, replies := h.attach(attachLine(tt.orgID, tt.approverEmail, "webex_meetings", tt.facts))
			id := requestIDIn(t, replies[0])
			h.press(approver.ID, h.approvalCard(approver.ID), "Approve", nil)

			if got, want := len(h.provisionCalls()), map[bool]int{true: 1}[tt.wantProvision]; got != want {
				t.Errorf("POST /wholesale/customers %d times, want %d", got, want)
			}
			thread := joined(h.repliesTo(cmd))
			mustContain(t, "the partner thread", thread, tt.wantThread...)
			for _, not := range tt.wantNot {
				if strings.Contains(thread, not) {
					t.Errorf("the partner thread says %q:\n%s", not, thread)
				}
			}
			if tt.wantApprover != "" {
				told := h.directFromBot(approver.ID)
				mustContain(t, "what the approver was told", told[len(told)-1].Markdown, tt.wantApprover, "Nothing was changed")
				if got := h.mustRequest(id).State; got != bot.StateAwaitingApproval {
					t.Errorf("state %s after a refused approval, want %s", got, bot.StateAwaitingApproval)
				}
				// Declining is not gated.
				h.press(approver.ID, h.approvalCard(approver.ID), "Decline", nil)
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
				h.press(webextest.SmallAdminID, card, "Decline", nil)
			},
			want: bot.StateDeclined,
		},
		{
			name: "expired",
			end: func(h *harness, _ webextest.Message) {
				h.clock.Advance(8 * 24 * time.Hour)
				h.statusMustSweep()
			},
			want: bot.StateExpired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHarness(t, harnessOptions{manualClock: true})
			// The first attach needs approval (a declared verified domain), which ends
			// without it.
			_, replies := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=yes claimed-domain=no"))
			first := requestIDIn(t, replies[0])
			tt.end(h, h.approvalCard(webextest.SmallAdminID))
			if got := h.mustRequest(first).State; got != tt.want {
				t.Fatalf("the first request is %s, want %s", got, tt.want)
			}

			// The partner now declares what would make it automatic.
			cmd, replies := h.attach(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"))
			if len(replies) == 0 {
				t.Fatal("no reply to the second attach")
			}
			second := h.mustRequest(requestIDIn(t, replies[0]))
			if second.State != bot.StateAwaitingApproval {
				t.Errorf("the second request is %s, want %s", second.State, bot.StateAwaitingApproval)
			}
			mustContain(t, "the reply to the second attach", joined(h.repliesTo(cmd)), bot.CriterionEarlierRefusal)
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
