package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ListFilters are the filters of `list`, in the order help shows them.
var listFilters = []string{"all", "pending", "approvals", "failed", "done"}

// ListFilters returns the filters of `list`, in the order help shows them.
func ListFilters() []string { return slices.Clone(listFilters) }

// listStates maps a list filter to the states it selects (nil: all).
func listStates(filter string) ([]State, bool) {
	switch filter {
	case "", "all":
		return nil, true
	case "pending":
		return slices.DeleteFunc(OpenStates(), func(s State) bool { return s == StateAwaitingApproval }), true
	case "approvals":
		return []State{StateAwaitingApproval}, true
	case "failed":
		return []State{StateError, StateProvisionedWithErrors, StateRejected}, true
	case "done":
		return []State{StateProvisioned, StateDeclined, StateWithdrawn, StateExpired, StateDeleting}, true
	}
	return nil, false
}

// listLimit bounds how many requests `list` shows.
const listLimit = 200

// List answers `list [filter]`: the partner's requests, newest first, one line each, in as
// many messages as Webex's size limit needs.
func (b *Bot) List(ctx context.Context, t *Turn, filter string) error {
	filter = strings.ToLower(strings.TrimSpace(filter))
	states, ok := listStates(filter)
	if !ok {
		t.Replyf("list %s? Use one of: %s.", Literal(filter), strings.Join(listFilters, ", "))
		return nil
	}
	rs, err := b.db.Requests(ctx, RequestFilter{States: states, Limit: listLimit + 1})
	if err != nil {
		return fmt.Errorf("list requests: %w", err)
	}
	if filter == "" {
		filter = "all"
	}
	if len(rs) == 0 {
		t.Replyf("No attach requests (%s).", filter)
		return nil
	}
	lines := []string{fmt.Sprintf("**Attach requests (%s)**, newest first:", filter)}
	for i, r := range rs {
		if i == listLimit {
			lines = append(lines, fmt.Sprintf("… and more; only the newest %d are shown. Narrow it down: `list pending`, `list failed`.", listLimit))
			break
		}
		lines = append(lines, formatRequestLine(r))
	}
	t.Reply(strings.Join(lines, "\n"))
	return nil
}

// AskFullAdmin handles the provisioned card's button: the customer admin gets a card asking
// to make the partner a Full Admin of the organization.
func (b *Bot) AskFullAdmin(ctx context.Context, t *Turn, requestID string) error {
	id, valid := ParseRequestID(requestID)
	if !valid {
		b.log.Warn("card submission with a malformed request id ignored", "person_email", t.Actor.Email())
		t.Reply(damagedCard)
		return nil
	}
	var problem string
	r, err := b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		if r.State != StateProvisioned && r.State != StateProvisionedWithErrors {
			problem = fmt.Sprintf("Request %s is %s; ask for Full Admin once it is provisioned.", id, stateText(r.State))
			return nil, nil
		}
		now := b.clock.Now()
		r.audit(now, t.Actor.Email(), "asked for Full Admin", "card sent to "+r.Spec.AdminEmail, "")
		card, err := b.cards.FullAdminRequest(ApprovalView{Request: *r, PartnerName: b.partnerName(*r), OrgName: r.OrgName})
		if err != nil {
			return nil, fmt.Errorf("build the Full Admin card: %w", err)
		}
		// Keyed by the request, so that an undeliverable card is told in its thread.
		return []Outgoing{requestMessage(r.ID, whatFullAdmin+t.Event.Key, now, OutMessage{ToPersonEmail: r.Spec.AdminEmail, Card: card,
			Markdown: fmt.Sprintf("%s asks you to make them a Full Admin of your organization (request %s). Open this message in a Webex app for the details.", Literal(b.partnerName(*r)), r.ID)})}, nil
	})
	switch {
	case errors.Is(err, ErrNotFound):
		t.Replyf("I don't know request %s.", id)
		return nil
	case err != nil:
		return fmt.Errorf("ask for Full Admin on %s: %w", id, err)
	case problem != "":
		t.Reply(problem)
		return nil
	}
	b.wakeOutbox()
	t.Replyf("I asked %s to make the partner a Full Admin of %s.", Literal(r.Spec.AdminEmail), orgOf(r))
	return nil
}
