package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Retrying: a provisioning that ended error or provisioned_with_errors is submitted again with
// PUT /wholesale/customers/{customerId}, the complete list of the request's packages, and is
// then polled like a new submission. docs/retry.md says why PUT. Like the POST, the PUT is
// never sent twice for one command or click: the request remembers the event that retried it
// (RetryEvent), and that it is sending (RetrySending), before the PUT leaves; a PUT whose
// answer was lost is not sent again, the status job finds out from the customer's status.

// retryable reports whether a request in state s may be retried.
func retryable(s State) bool {
	return s == StateError || s == StateProvisionedWithErrors
}

// Retry answers `retry <id>` and the Retry button of a failed attach's notice. The command table
// lets only partner admins retry; a request in any state but error and provisioned_with_errors is refused
// with no Webex call.
func (b *Bot) Retry(ctx context.Context, t *Turn, requestID string) error {
	actor := t.Actor.Email()
	found, ok, err := b.RequestForCommand(ctx, t, requestID)
	if !ok || err != nil {
		return err
	}
	id := found.ID
	if t.Event.Resource == "attachmentActions" && t.ThreadID == "" && t.RoomID == found.RoomID {
		// A click on a Retry card deleted meanwhile (a double click): answered in the
		// request's thread, where the card was.
		t.ThreadID = found.ThreadID
	}
	// The submission's lock: a double click, the inbox's retry of the event and a submission
	// never overlap, and the second finds the request retried.
	ctx, unlock, err := b.lock(ctx, "submit/"+id)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := b.db.Request(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		t.Reply(unknownRequest(id))
		return nil
	case err != nil:
		return fmt.Errorf("load request %s: %w", id, err)
	}
	if r.RetryEvent == t.Event.Key { // this event retried it already, up to a crash
		if r.RetrySending {
			return b.retryUnknown(ctx, t, id, errors.New("attachbot stopped while the PUT was under way"))
		}
		retryCardUsed(t)
		retryReply(t, r)
		return nil
	}
	if !retryable(r.State) || r.CustomerID == "" {
		retryCardUsed(t)
		t.Reply(notRetryableText(r))
		return nil
	}

	// Recorded before the PUT leaves, so that a crash while it is under way is not followed by
	// a second PUT.
	var problem string
	r, err = b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		if !retryable(r.State) {
			problem = notRetryableText(*r)
			return nil, nil
		}
		r.RetryEvent, r.RetrySending = t.Event.Key, true
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("record the retry of %s: %w", id, err)
	}
	if problem != "" {
		retryCardUsed(t)
		t.Reply(problem)
		return nil
	}

	done, err := b.partner.UpdateCustomer(ctx, r.CustomerID, r.Spec.CustomerUpdate())
	var apiErr *APIError
	switch {
	case errors.Is(err, ErrOutcomeUnknown):
		return b.retryUnknown(ctx, t, id, err)
	case err != nil && errors.As(err, &apiErr) && !apiErr.Temporary():
		return b.retryRefused(ctx, t, id, apiErr)
	case err != nil:
		// Webex did not take it (a rate limit, a lock, no connection): the inbox tries the
		// event again later, and this retry starts over.
		if _, uerr := b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
			if r.RetryEvent == t.Event.Key {
				r.RetryEvent, r.RetrySending = "", false
			}
			return nil, nil
		}); uerr != nil {
			return fmt.Errorf("retry request %s: %w (and forget the attempt: %w)", id, err, uerr)
		}
		return fmt.Errorf("retry request %s: %w", id, err)
	}

	r, err = b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		if !r.RetrySending || r.RetryEvent != t.Event.Key {
			return nil, nil
		}
		now := b.clock.Now()
		b.resubmitted(r, now, string(StateUpdating))
		r.audit(now, actor, auditRetried, fmt.Sprintf("PUT /wholesale/customers/{customerId} answered 202 for %s; customer id %s",
			strings.Join(r.Spec.Packages, ", "), r.CustomerID), done.TrackingID)
		return append([]Outgoing{b.notice(*r, "retried/"+t.Event.Key, fmt.Sprintf(
			"%s asked Webex to provision attach **%s** for %s again, with the same packages (%s). Webex accepted it; I'll tell you here how it goes.",
			Literal(cmp.Or(actor, "A partner admin")), r.ID, orgOf(*r), PackageLabels(r.Spec.Packages)))}, retryCardDeletion(t, now)...), nil
	})
	if err != nil {
		return fmt.Errorf("record the retry of %s: %w", id, err)
	}
	b.wakeOutbox()
	wake(b.wakePoll) // polled again from now on
	retryReply(t, r)
	return nil
}

// auditRetried is the audit action of a retry Webex accepted.
const auditRetried = "retried"

// resubmitted puts a request back to being polled from now on, as after a submission: Webex
// shows webexStatus ("" when unknown: whatever Webex answers next is told).
func (b *Bot) resubmitted(r *Request, now time.Time, webexStatus string) {
	r.RetrySending = false
	r.State, r.WebexStatus, r.Updated = StateUpdating, webexStatus, now
	r.Errors, r.Packages = nil, nil
	r.Submitted, r.NextPoll, r.PollInterval = now, now.Add(b.cfg.FirstPoll), b.cfg.FirstPoll
	r.StuckWarned, r.PollFailureTold = false, false
}

// retryUnknown records a retry whose PUT may or may not have reached Webex. It is not sent
// again: the request is polled, and the customer's status, told in the thread, shows whether
// Webex took it (updating, then how it ends) or not (the failed status again, with the Retry
// button, for the partner to decide).
func (b *Bot) retryUnknown(ctx context.Context, t *Turn, id string, cause error) error {
	r, err := b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		if !r.RetrySending || r.RetryEvent != t.Event.Key {
			return nil, nil
		}
		now := b.clock.Now()
		b.resubmitted(r, now, "")
		r.audit(now, cmp.Or(t.Actor.Email(), "attachbot"), "retry outcome unknown", cause.Error(), trackingID(cause))
		return append([]Outgoing{b.notice(*r, "retry-unknown/"+t.Event.Key, fmt.Sprintf(
			"I asked Webex to provision attach **%s** for %s again, but Webex did not say whether it took the request. "+
				"I won't send it again blindly: I'm asking Webex for the customer's status and will tell you here how it stands. "+
				"If it shows the failure again, `retry %s` sends it anew.", r.ID, orgOf(*r), r.ID))}, retryCardDeletion(t, now)...), nil
	})
	if err != nil {
		return fmt.Errorf("record the unknown outcome of the retry of %s: %w", id, err)
	}
	b.wakeOutbox()
	wake(b.wakePoll) // polled again from now on
	retryReply(t, r)
	return nil
}

// retryRefused records that Webex refused a retry: the request stays as it was, and the thread
// is told why.
func (b *Bot) retryRefused(ctx context.Context, t *Turn, id string, apiErr *APIError) error {
	r, err := b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		if r.RetryEvent != t.Event.Key {
			return nil, nil
		}
		now := b.clock.Now()
		// Forgotten: Webex did nothing, so the same event may send it again.
		r.RetryEvent, r.RetrySending, r.Updated = "", false, now
		r.audit(now, cmp.Or(t.Actor.Email(), "attachbot"), "retry refused by Webex",
			fmt.Sprintf("HTTP %d %s", apiErr.Status, apiErr.Message), apiErr.TrackingID)
		return b.longNotice(*r, "retry-refused/"+t.Event.Key, fmt.Sprintf(
			"Webex refused to provision attach **%s** for %s again, so it is still %s.\n%s",
			r.ID, orgOf(*r), stateText(r.State), describeAPIError(apiErr))), nil
	})
	if err != nil {
		return fmt.Errorf("record the refused retry of %s: %w", id, err)
	}
	b.wakeOutbox()
	if t.RoomID != r.RoomID || t.ThreadID != r.ThreadID {
		t.Replyf("Webex refused to retry attach **%s**; its thread says why.", r.ID)
	}
	return nil
}

// retryCardDeletion deletes the clicked Retry card, if the turn is a click, in the same
// transaction that records the retry: the card can no longer act (a failure after the retry
// brings a new one), and Webex cannot edit a card. The thread's notice says what happened.
func retryCardDeletion(t *Turn, now time.Time) []Outgoing {
	if t.CardID == "" {
		return nil
	}
	return []Outgoing{deleteCard(t.CardID, now)}
}

// retryCardUsed deletes the clicked Retry card, if the turn is a click, when the request can
// no longer be retried from it (retried already, or no longer failed); the turn's reply says why.
func retryCardUsed(t *Turn) {
	t.LeaveCardThread()
	t.out = append(t.out, retryCardDeletion(t, t.Now)...)
}

// retryReply answers a retry that was sent, where the command or click was not in the
// request's own thread (there, the notice answers it).
func retryReply(t *Turn, r Request) {
	if t.RoomID != r.RoomID || t.ThreadID != r.ThreadID {
		t.Replyf("I asked Webex to provision attach **%s** for %s again; its thread will tell how it goes. `status %s` shows it.", r.ID, orgOf(r), r.ID)
	}
}

// notRetryableText says why a request cannot be retried, and what can be done instead.
func notRetryableText(r Request) string {
	const nothingSent = " Nothing was sent to Webex."
	switch {
	case r.State.Polled() && r.RetryEvent != "":
		return fmt.Sprintf("Attach **%s** was retried already and is now %s; I'll tell in its thread how it goes.%s", r.ID, stateText(r.State), nothingSent)
	case r.State.Polled() || r.State == StateSubmitting:
		return fmt.Sprintf("Attach **%s** is %s; it can be retried only once it has failed or is provisioned with errors.%s", r.ID, stateText(r.State), nothingSent)
	case r.State == StateProvisioned:
		return fmt.Sprintf("Attach **%s** is provisioned: there is nothing to retry.%s", r.ID, nothingSent)
	case r.State == StateRejected:
		return fmt.Sprintf("Attach **%s** was refused by Webex before any customer was created, so there is nothing to retry: fix what Webex said (`status %s` shows it) and run the attach again.%s", r.ID, r.ID, nothingSent)
	case r.State == StateAwaitingApproval:
		return fmt.Sprintf("Attach **%s** is still waiting for the customer admin's approval; nothing has failed yet.%s", r.ID, nothingSent)
	case retryable(r.State):
		return fmt.Sprintf("Attach **%s** has no Webex customer id to retry; run the attach again.%s", r.ID, nothingSent)
	default:
		return fmt.Sprintf("Attach **%s** is %s, so it cannot be retried; run the attach again to ask anew.%s", r.ID, stateText(r.State), nothingSent)
	}
}
