package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sweep is the bot's periodic work, run by the status job: it reminds customer admins half
// way through the approval TTL and expires approvals nobody answered, carries on submissions
// a crash or an outage interrupted, polls Webex for the requests being provisioned (only with
// Config.PollInSweepOnly; otherwise the poll loop polls them when they are due), and
// sends the digests that are due, keeps the webhooks active and the partner token fresh, and
// forgets processed event keys past the retention period. Each part runs even when another fails; the errors
// are returned together.
func (b *Bot) Sweep(ctx context.Context) error {
	var errs []error
	for _, j := range b.Jobs() {
		if err := j.Run(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Job is one concern of the bot's periodic work, run on its own schedule entry so that a
// slow one (a poll waiting on Webex) does not hold up the others.
type Job struct {
	// Name names the concern in logs: tokens, expiry, resubmission, polls, batches,
	// digests, webhooks, pruning.
	Name string
	// Run does the work once.
	Run func(context.Context) error
}

// Jobs returns the bot's periodic work, one entry per concern, in the order Sweep runs them.
// The polls are there only with Config.PollInSweepOnly (otherwise the poll loop polls). Every
// replica runs the jobs on its schedule; all but the polls (which are claimed request by
// request), the batches (claimed batch by batch) and the tokens job's use of a token another
// process refreshed do their work on the leader only, the one process holding the leader's
// lease.
func (b *Bot) Jobs() []Job {
	jobs := []Job{
		b.tokensJob(),
		b.asLeader(Job{"expiry", b.expireApprovals}),
		b.asLeader(Job{"resubmission", b.resubmit}),
	}
	if b.cfg.PollInSweepOnly {
		jobs = append(jobs, Job{"polls", b.pollDue})
	}
	return append(jobs,
		Job{"batches", b.batchesJob}, // every process's: each batch is claimed (claimBatch)
		b.asLeader(Job{"digests", b.sendDigests}),
		b.asLeader(Job{"webhooks", b.checkWebhooks}),
		b.asLeader(Job{"pruning", b.pruneProcessed}),
	)
}

// batchesJob has the batch loop report on every batch not finished: its progress message and
// the grouped notice of what the polls found since the last one.
func (b *Bot) batchesJob(context.Context) error {
	b.wakeBatches()
	return nil
}

// pruneProcessed forgets the processed event keys older than the retention period.
func (b *Bot) pruneProcessed(ctx context.Context) error {
	if _, err := b.db.PruneProcessed(ctx, b.clock.Now().Add(-b.cfg.Retention)); err != nil {
		return fmt.Errorf("prune processed events: %w", err)
	}
	return nil
}

// expireApprovals ends the requests whose approval card went unanswered for ApprovalTTL, and
// tells both sides; it reminds the customer admins of the others half way. A request that
// fails does not hold up the others.
func (b *Bot) expireApprovals(ctx context.Context) error {
	waiting, err := b.db.Requests(ctx, RequestFilter{States: []State{StateAwaitingApproval}})
	if err != nil {
		return fmt.Errorf("list requests waiting for approval: %w", err)
	}
	var errs []error
	for _, w := range waiting {
		if b.clock.Now().Before(w.ApprovalSent.Add(b.cfg.ApprovalTTL)) {
			if err := b.remindHalfway(ctx, w); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		_, err := b.db.UpdateRequest(ctx, w.ID, func(r *Request) ([]Outgoing, error) {
			now := b.clock.Now()
			if r.State != StateAwaitingApproval || now.Before(r.ApprovalSent.Add(b.cfg.ApprovalTTL)) {
				return nil, nil
			}
			r.State, r.Updated = StateExpired, now
			r.audit(now, "attachbot", "expired", fmt.Sprintf("no answer within %s", b.cfg.ApprovalTTL), "")
			return append([]Outgoing{
				b.notice(*r, "expired", fmt.Sprintf("Attach **%s** for %s expired on %s: %s did not answer. Nothing was provisioned. Run the attach again to ask anew.",
					r.ID, orgOf(*r), formatWhen(r.ApprovalSent.Add(b.cfg.ApprovalTTL)), Literal(r.Spec.AdminEmail))),
				requestMessage(r.ID, whatExpiredAdmin, now, OutMessage{ToPersonEmail: r.Spec.AdminEmail,
					Markdown: fmt.Sprintf("Request %s from %s to add Webex for Wholesale to your organization has expired, so I removed its card. You don't need to do anything.", r.ID, Literal(b.partnerName(*r)))}),
			}, approvalCardDeletions(*r, now)...), nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("expire %s: %w", w.ID, err))
			continue
		}
		b.wakeOutbox()
	}
	return errors.Join(errs...)
}

// resubmitAfter is how long a request may sit in state submitting before the sweep carries
// its submission on (the event that was submitting it has normally finished long before).
const resubmitAfter = 5 * time.Minute

// resubmit carries on submissions that were interrupted. submit looks the externalId up
// before it POSTs, so this never provisions twice.
func (b *Bot) resubmit(ctx context.Context) error {
	stalled, err := b.db.Requests(ctx, RequestFilter{States: []State{StateSubmitting}})
	if err != nil {
		return fmt.Errorf("list submitting requests: %w", err)
	}
	var errs []error
	for _, r := range stalled {
		if b.clock.Now().Sub(r.Updated) < resubmitAfter {
			continue
		}
		if err := b.submit(ctx, r.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// remindHalfway sends the approval card again, once, when half the approval TTL has passed
// without an answer or a reminder.
func (b *Bot) remindHalfway(ctx context.Context, w Request) error {
	if !w.RemindedAt.IsZero() || b.clock.Now().Before(w.ApprovalSent.Add(b.cfg.ApprovalTTL/2)) {
		return nil
	}
	_, err := b.db.UpdateRequest(ctx, w.ID, func(r *Request) ([]Outgoing, error) {
		now := b.clock.Now()
		if r.State != StateAwaitingApproval || !r.RemindedAt.IsZero() {
			return nil, nil
		}
		r.RemindedAt, r.Updated = now, now
		r.audit(now, "attachbot", "reminded", "half the approval time has passed; card sent again to "+r.Spec.AdminEmail, "")
		card, err := b.cards.Approval(b.approvalView(*r))
		if err != nil {
			return nil, fmt.Errorf("build the approval card: %w", err)
		}
		expires := r.ApprovalSent.Add(b.cfg.ApprovalTTL)
		return []Outgoing{
			// The card's key differs from the notice's: the outbox keeps one message per key.
			requestMessage(r.ID, whatHalfwayAdmin, now, OutMessage{ToPersonEmail: r.Spec.AdminEmail, Card: card,
				Markdown: "Reminder: " + approvalFallback(*r, expires)}),
			b.notice(*r, whatHalfway, fmt.Sprintf("Attach **%s**: %s has not answered yet, so I sent the approval card again. It expires on %s.",
				r.ID, Literal(r.Spec.AdminEmail), formatWhen(expires))),
		}, nil
	})
	if err != nil {
		return fmt.Errorf("remind the admin of %s: %w", w.ID, err)
	}
	b.wakeOutbox()
	return nil
}
