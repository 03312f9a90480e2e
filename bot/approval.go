package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
)

// MaxCommentRunes is the most characters of an approver's comment the bot keeps: the card
// asks for no more, and the server does not rely on the card.
const MaxCommentRunes = 500

// capComment trims a comment to MaxCommentRunes characters, ending with "…" when it cut.
func capComment(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > MaxCommentRunes {
		return string(r[:MaxCommentRunes-1]) + "…"
	}
	return s
}

// Decide handles a click on Approve or Decline. Only the customer admin the card was sent to
// counts (the clicker's email from Webex, compared case-insensitively); anyone else is
// refused and the partner's thread is told. The first click wins: a later one is told what
// already happened. Approval starts provisioning at once. A decided request's approval cards
// are deleted, and the admin gets a line that says what they decided in their place.
func (b *Bot) Decide(ctx context.Context, t *Turn, requestID string, approve bool, comment string) error {
	t.LeaveCardThread() // the card is deleted once decided; replies go to the room
	id, valid := ParseRequestID(requestID)
	if !valid {
		b.log.Warn("card submission with a malformed request id ignored", "person_email", t.Actor.Email())
		t.Reply(damagedCard)
		return nil
	}
	r, err := b.db.Request(ctx, id)
	if errors.Is(err, ErrNotFound) {
		t.Replyf("I don't know request %s; it may have been removed.", id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("load request %s: %w", id, err)
	}
	verb := map[bool]string{true: "approve", false: "decline"}[approve]
	actor := t.Actor.Email()
	if why := b.notTheApprover(t.Actor, r); why != "" {
		b.log.Warn("approval click refused", "request", id, "person_email", actor, "why", why)
		// Told directly: the clicker may not be in the room of the card they pressed.
		t.Tell(fmt.Sprintf("Sorry, you can't approve or decline request %s: %s. Only %s, an admin of the customer's organization, can. Nothing was changed.",
			id, why, Literal(r.Spec.AdminEmail)))
		t.out = append(t.out, Outgoing{Key: partnerNoteKey(t.Event.Key), RequestID: r.ID, Created: t.Now, Message: OutMessage{
			RoomID: r.RoomID, ParentID: r.ThreadID,
			Markdown: fmt.Sprintf("%s tried to %s attach **%s** and was refused (%s): only %s can.", Literal(cmp.Or(actor, "someone")), verb, id, why, Literal(r.Spec.AdminEmail)),
		}})
		return nil
	}
	// Only a full admin of the organization may let the partner in; declining is always
	// allowed. Where the partner's token cannot read the approver's roles, the approval
	// goes on and the partner is told the role was not checked.
	unchecked := false
	if approve && r.State == StateAwaitingApproval {
		check, err := b.checkApprover(ctx, t.Actor.ID)
		if err != nil {
			return fmt.Errorf("check the approver of %s: %w", id, err)
		}
		switch check {
		case approverNotAdmin:
			b.log.Warn("approval click refused: not a full admin", "request", id, "person_email", actor)
			t.Tell(fmt.Sprintf("Sorry, you can't approve request %s: Webex shows that your account is not a full admin of your organization, and only a full admin can let a partner in. Nothing was changed.", id))
			t.out = append(t.out, Outgoing{Key: partnerNoteKey(t.Event.Key), RequestID: r.ID, Created: t.Now, Message: OutMessage{
				RoomID: r.RoomID, ParentID: r.ThreadID,
				Markdown: fmt.Sprintf("%s tried to approve attach **%s** and was refused: Webex shows they are not a full admin of the organization. `cancel %s` withdraws it; attach again with admin= set to a full admin's email.", Literal(actor), id, id),
			}})
			return nil
		case approverUnchecked:
			unchecked = true
		}
	}
	comment = capComment(comment)
	var already State
	_, err = b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		if r.State != StateAwaitingApproval {
			if r.DecisionEvent != t.Event.Key {
				already = r.State
			}
			return nil, nil
		}
		now := b.clock.Now()
		if !now.Before(r.ApprovalSent.Add(b.cfg.ApprovalTTL)) {
			already = StateExpired // the status job records the expiry and tells both sides
			return nil, nil
		}
		r.DecidedBy, r.DecidedAt, r.Comment, r.DecisionEvent, r.Updated = actor, now, comment, t.Event.Key, now
		var notice string
		if approve {
			r.State = StateSubmitting
			r.audit(now, actor, "approved", comment, "")
			notice = fmt.Sprintf("%s **approved** attach **%s** for %s on %s. Provisioning starts now.", Literal(actor), r.ID, orgOf(*r), formatWhen(now))
		} else {
			r.State = StateDeclined
			r.audit(now, actor, "declined", comment, "")
			notice = fmt.Sprintf("%s **declined** attach **%s** for %s on %s. Nothing was provisioned.", Literal(actor), r.ID, orgOf(*r), formatWhen(now))
		}
		if approve && unchecked {
			r.audit(now, "attachbot", "approver's role not checked", "GET /people/{id} shows no roles to the partner's token", "")
			notice += fmt.Sprintf("\n\nI could not check that %s is a full admin of the organization: Webex does not show their roles to the partner's token.", Literal(actor))
		}
		if comment != "" {
			notice += fmt.Sprintf("\n\nTheir comment: “%s”", Literal(comment))
		}
		thanks := map[bool]string{
			true: fmt.Sprintf("Thank you. You approved request %s on %s; %s is adding Webex for Wholesale to your organization now.",
				r.ID, formatWhen(now), Literal(b.partnerName(*r))),
			false: fmt.Sprintf("Thank you. You declined request %s on %s; nothing will be added to your organization.", r.ID, formatWhen(now)),
		}[approve]
		out := []Outgoing{
			b.notice(*r, "decided", notice),
			requestMessage(r.ID, whatDecidedAck, now, OutMessage{RoomID: t.RoomID, ParentID: t.ThreadID, Markdown: thanks}),
		}
		out = append(out, approvalCardDeletions(*r, now)...)
		if t.CardID != "" {
			out = append(out, deleteCard(t.CardID, now))
		}
		return out, nil
	})
	if err != nil {
		return fmt.Errorf("record the decision on %s: %w", id, err)
	}
	b.wakeOutbox()
	if already != "" {
		if t.CardID != "" {
			t.out = append(t.out, deleteCard(t.CardID, t.Now))
		}
		t.Replyf("Request %s is already %s; your click changed nothing. This card no longer does anything.", id, pastTense(already))
		return nil
	}
	if approve {
		return b.submit(ctx, id)
	}
	return nil
}

// notTheApprover says why the person who clicked may not decide request r, or "" when they
// may: they must be the addressed customer admin (by email, as Webex reports it), and their
// account must belong to the customer's organization, so that an address typed by mistake
// (or the partner's own) cannot approve.
func (b *Bot) notTheApprover(p Person, r Request) string {
	if !sameEmail(p.Email(), r.Spec.AdminEmail) {
		return "the card was sent to someone else"
	}
	if !SameOrg(p.OrgID, r.Spec.OrgID) {
		return "your Webex account belongs to another organization"
	}
	return ""
}

// approvalView is what the approval card of r shows, with when it expires.
func (b *Bot) approvalView(r Request) ApprovalView {
	return ApprovalView{Request: r, PartnerName: b.partnerName(r), OrgName: r.OrgName, Expires: r.ApprovalSent.Add(b.cfg.ApprovalTTL)}
}

// pastTense says what happened to a request that is no longer waiting for approval.
func pastTense(s State) string {
	switch s {
	case StateDeclined:
		return "declined"
	case StateWithdrawn:
		return "withdrawn"
	case StateExpired:
		return "expired"
	case StateAwaitingApproval:
		return "waiting for approval"
	default:
		return "approved"
	}
}

// Remind sends the approval card of a waiting request again.
func (b *Bot) Remind(ctx context.Context, t *Turn, requestID string) error {
	found, ok, err := b.RequestForCommand(ctx, t, requestID)
	if !ok || err != nil {
		return err
	}
	id := found.ID
	var problem string
	r, err := b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		if r.State != StateAwaitingApproval {
			problem = fmt.Sprintf("Request %s is %s, so there is nothing to remind anyone of.", id, stateText(r.State))
			return nil, nil
		}
		now := b.clock.Now()
		r.RemindedAt, r.Updated = now, now
		r.audit(now, t.Actor.Email(), "reminded", "approval card sent again to "+r.Spec.AdminEmail, "")
		expires := r.ApprovalSent.Add(b.cfg.ApprovalTTL)
		card, err := b.cards.Approval(b.approvalView(*r))
		if err != nil {
			return nil, fmt.Errorf("build the approval card: %w", err)
		}
		// Keyed by the request, so that an undeliverable card is told in its thread.
		return []Outgoing{requestMessage(r.ID, whatReminder+t.Event.Key, now,
			OutMessage{ToPersonEmail: r.Spec.AdminEmail, Markdown: approvalFallback(*r, expires), Card: card})}, nil
	})
	if ok, err := commandOutcome(t, "remind", id, err, problem); !ok {
		return err
	}
	b.wakeOutbox()
	t.Replyf("I sent the approval card for **%s** to %s again. It expires on %s.", r.ID, Literal(r.Spec.AdminEmail), formatWhen(r.ApprovalSent.Add(b.cfg.ApprovalTTL)))
	return nil
}

// Cancel withdraws a request that is waiting for approval; a later click on its card is told
// it was withdrawn.
func (b *Bot) Cancel(ctx context.Context, t *Turn, requestID string) error {
	found, ok, err := b.RequestForCommand(ctx, t, requestID)
	if !ok || err != nil {
		return err
	}
	id := found.ID
	var problem string
	r, err := b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		if r.State == StateWithdrawn && r.DecisionEvent == t.Event.Key {
			return nil, nil // this command withdrew it, before a crash: answer as then
		}
		if r.State != StateAwaitingApproval {
			problem = fmt.Sprintf("Request %s is %s; only a request waiting for approval can be cancelled.", id, stateText(r.State))
			return nil, nil
		}
		now := b.clock.Now()
		r.State, r.Updated, r.DecisionEvent = StateWithdrawn, now, t.Event.Key
		r.audit(now, t.Actor.Email(), "withdrawn", "", "")
		return append([]Outgoing{
			requestMessage(r.ID, whatWithdrawnAdmin, now, OutMessage{ToPersonEmail: r.Spec.AdminEmail,
				Markdown: fmt.Sprintf("%s withdrew request %s to add Webex for Wholesale to your organization. You don't need to do anything.", Literal(b.partnerName(*r)), r.ID)}),
		}, approvalCardDeletions(*r, now)...), nil
	})
	if ok, err := commandOutcome(t, "cancel", id, err, problem); !ok {
		return err
	}
	b.wakeOutbox()
	t.Replyf("Request **%s** is withdrawn; I told %s.", r.ID, Literal(r.Spec.AdminEmail))
	return nil
}

// Status answers `status [<id>]`: one request in full, or this space's requests in short.
func (b *Bot) Status(ctx context.Context, t *Turn, requestID string) error {
	if requestID == "" {
		rs, err := b.db.Requests(ctx, RequestFilter{RoomID: t.RoomID, Limit: 20})
		if err != nil {
			return fmt.Errorf("list this space's requests: %w", err)
		}
		if len(rs) == 0 {
			t.Reply("No attach requests in this space yet. `attach` starts one.")
			return nil
		}
		lines := []string{"**Attach requests in this space**, newest first:"}
		for _, r := range rs {
			lines = append(lines, formatRequestLine(r))
		}
		lines = append(lines, "", "`status <id>` shows one in full.")
		t.Reply(strings.Join(lines, "\n"))
		return nil
	}
	r, ok, err := b.RequestForCommand(ctx, t, requestID)
	if !ok || err != nil {
		return err
	}
	t.Reply(formatRequest(r, b.cfg.ApprovalTTL))
	return nil
}
