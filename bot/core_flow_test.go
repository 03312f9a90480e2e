package bot_test

import (
	"context"
	"testing"
	"time"

	"attachbot/bot"
)

// customerAdmin is the customer admin the attach names, in the customer's organization.
func (c *core) customerAdmin() bot.Person {
	return bot.Person{ID: "person-it", Emails: []string{adminEmail}, OrgID: c.orgID}
}

func TestAttach(t *testing.T) {
	tests := []struct {
		name       string
		approval   bool
		wantState  bot.State
		wantNotice string // the golden of the partner's notice
		wantWhat   string // its key after the request id
	}{
		{"automatic", false, bot.StateProvisioning, "submitted", "submitted"},
		{"approval: a verified domain", true, bot.StateAwaitingApproval, "approval-asked", "created"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCore(t)
			r := c.attach(t, tt.approval)
			if got, want := r.State, tt.wantState; got != want {
				t.Errorf("state after Attach = %s, want %s", got, want)
			}
			out := c.outbox(t)
			golden(t, tt.wantNotice, notice(t, out, r.ID, tt.wantWhat))
			_, carded := out["req/"+r.ID+"/approval"]
			if got, want := carded, tt.wantState == bot.StateAwaitingApproval; got != want {
				t.Errorf("approval card sent = %v, want %v", got, want)
			}
			if got, want := len(c.partner.Provisioned()), map[bool]int{true: 1, false: 0}[tt.wantState == bot.StateProvisioning]; got != want {
				t.Errorf("customers provisioned = %d, want %d", got, want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name      string
		approve   bool
		roles     []string
		actor     func(c *core) bot.Person
		wantState bot.State
		wantGold  string // the golden of the partner's notice, "" when none is sent
	}{
		{"the admin approves", true, []string{"id_full_admin"}, (*core).customerAdmin, bot.StateProvisioning, "approved"},
		{"the admin declines", false, nil, (*core).customerAdmin, bot.StateDeclined, "declined"},
		{"someone else approves", true, []string{"id_full_admin"}, func(c *core) bot.Person {
			return bot.Person{ID: "person-eve", Emails: []string{"eve@elsewhere.example"}, OrgID: c.orgID}
		}, bot.StateAwaitingApproval, ""},
		{"the admin is not a full admin", true, []string{"id_user_admin"}, (*core).customerAdmin, bot.StateAwaitingApproval, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCore(t)
			r := c.attach(t, true)
			c.outbox(t)
			actor := tt.actor(c)
			c.partner.SetRoles(actor.ID, tt.roles...)
			tn := c.turn(actor)
			if err := c.bot.Decide(context.Background(), tn, r.ID, tt.approve, ""); err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if got := c.request(t, r.ID).State; got != tt.wantState {
				t.Errorf("state = %s, want %s", got, tt.wantState)
			}
			out := c.outbox(t)
			if tt.wantGold == "" {
				if len(tn.Messages()) == 0 {
					t.Errorf("a refused click got no answer")
				}
				for k := range out {
					if k == "req/"+r.ID+"/decided" {
						t.Errorf("a refused click was told as decided: %s", k)
					}
				}
				return
			}
			golden(t, tt.wantGold, notice(t, out, r.ID, "decided"))
		})
	}
}

func TestStatusTransitions(t *testing.T) {
	tests := []struct {
		name      string
		status    string
		errs      []bot.ErrorDetail
		admins    []bot.PartnerAdmin
		wantState bot.State
		wantGold  string
	}{
		{"provisioned as Full Admin", "provisioned", nil,
			[]bot.PartnerAdmin{{ID: "pa-1", Emails: []string{partnerMail}, RoleInCustomerOrg: "id_full_admin"}},
			bot.StateProvisioned, "provisioned-full-admin"},
		{"provisioned as Provisioning Admin", "provisioned", nil,
			[]bot.PartnerAdmin{{ID: "pa-1", Emails: []string{partnerMail}, RoleInCustomerOrg: "id_provision_admin"}},
			bot.StateProvisioned, "provisioned-provisioning-admin"},
		{"provisioned with errors", "provisioned_with_errors", []bot.ErrorDetail{{Description: "webex_meetings: the site could not be created"}}, nil,
			bot.StateProvisionedWithErrors, "provisioned-with-errors"},
		{"error", "error", []bot.ErrorDetail{{Description: "The organization could not be attached."}}, nil,
			bot.StateError, "error"},
		{"compliance review", "pending_rpl_review", nil, nil, bot.StatePendingReview, "pending-rpl-review"},
		{"deleting", "deleting", nil, nil, bot.StateDeleting, "deleting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCore(t)
			c.partner.SetAdmins(c.orgID, tt.admins)
			r := c.attach(t, false)
			c.outbox(t)
			if err := c.partner.SetStatus(c.orgID, tt.status, tt.errs...); err != nil {
				t.Fatal(err)
			}
			c.poll(t)
			if got := c.request(t, r.ID).State; got != tt.wantState {
				t.Errorf("state after the poll = %s, want %s", got, tt.wantState)
			}
			golden(t, tt.wantGold, partnerNotices(c.outbox(t), r.ID))
		})
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name      string
		approval  bool
		wait      time.Duration
		wantState bot.State
		wantGold  string
	}{
		{"half the approval time", true, bot.DefaultApprovalTTL/2 + time.Minute, bot.StateAwaitingApproval, "halfway"},
		{"the approval expires", true, bot.DefaultApprovalTTL + time.Minute, bot.StateExpired, "expired"},
		{"provisioning is stuck", false, bot.DefaultStuckAfter + time.Minute, bot.StateProvisioning, "stuck"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCore(t)
			r := c.attach(t, tt.approval)
			c.outbox(t)
			c.clock.Advance(tt.wait)
			c.poll(t)
			if got := c.request(t, r.ID).State; got != tt.wantState {
				t.Errorf("state = %s, want %s", got, tt.wantState)
			}
			golden(t, tt.wantGold, partnerNotices(c.outbox(t), r.ID))
		})
	}
}
