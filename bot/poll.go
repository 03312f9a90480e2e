package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Polling: a 202 only means "accepted", so the status job asks Webex how each submitted
// request is doing and tells the partner's thread about every change, once.
// pollConcurrency bounds the status calls under way at once (Bot.pollSlots).
const pollConcurrency = 8

// pollBatchMax bounds how many poll answers one store transaction records.
const pollBatchMax = 256

// pollAnswer is what Webex answered for one request, to be recorded.
type pollAnswer struct {
	id        string
	customer  Customer
	admins    []PartnerAdmin // read once the status is provisioned
	adminsErr error          // why they could not be read, when that is final
	err       error          // the poll failed: it is retried (see retryAfterFailure)
	// at is when Webex answered (the last attempt, after the client's retries): the next poll
	// is scheduled from it, not from when the answer happens to be recorded.
	at time.Time
	// forget forgets the claim on the request once the answer is recorded.
	forget func()
}

// pollClaimMax bounds how many due polls one run claims; a run that claimed that many is
// followed by another at once.
const pollClaimMax = 1000

// pollDue polls every request in a polled state whose next poll is due: the sweep's polls
// (with Config.PollInSweepOnly). See pollRequests. A run that claimed pollClaimMax is
// followed by another as soon as it handed its last poll to a slot, as runs overlap in the
// poll loop, so that the slots do not idle while a run's last polls and records end; a run
// that claimed fewer ends the sweep's polls, and so does one that failed, once the run
// claimed meanwhile is done too (the next sweep goes on).
func (b *Bot) pollDue(ctx context.Context) error {
	var previous func() error // the run before, its last polls under way
	for {
		claimed, finish, err := b.startPolls(ctx)
		var previousErr error
		if previous != nil {
			previousErr = previous()
		}
		if err != nil || previousErr != nil || claimed < pollClaimMax {
			if finish != nil {
				err = finish()
			}
			return errors.Join(previousErr, err)
		}
		previous = finish
	}
}

// pollRequests claims in the store the requests in a polled state whose next poll is due and
// that no one polls (this process's other runs, or another replica), at most pollClaimMax,
// and polls them; a claim is given up when the answer is recorded, and a poll whose claim is
// lost meanwhile is not recorded (the new holder polls it). At most pollConcurrency calls
// are under way at once, across runs; the answers are recorded as they come by one writer,
// each batch of the answers that arrived meanwhile in one store transaction (a group
// commit), so that the pollers never wait for the disk. A status change is recorded with its
// notice in the same transaction, so that it is told once. It returns how many it claimed.
func (b *Bot) pollRequests(ctx context.Context) (int, error) {
	claimed, finish, err := b.startPolls(ctx)
	if err != nil {
		return 0, err
	}
	return claimed, finish()
}

// startPolls is pollRequests up to the last claimed poll handed to a slot: it returns how
// many it claimed and finish, which waits for the polls and their records and returns their
// errors.
func (b *Bot) startPolls(ctx context.Context) (int, func() error, error) {
	now := b.clock.Now()
	claimed, err := b.db.ClaimPolls(ctx, b.owner, now, now.Add(pollLease), pollClaimMax)
	if err != nil {
		return 0, nil, fmt.Errorf("claim the due polls: %w", err)
	}
	// The answers wait for the writer in a buffer of a whole batch, so that the pollers go on
	// while it commits one: with a buffer of a few answers they waited for every commit.
	answers := make(chan pollAnswer, pollBatchMax)
	recorded := make(chan []error, 1)
	go func() { recorded <- b.recordPolls(ctx, answers) }()

	// Every claim is renewed from now on, also while its poll waits for a slot.
	type held struct {
		ctx    context.Context
		forget func()
	}
	holds := make([]held, len(claimed))
	for i, r := range claimed {
		holds[i].ctx, holds[i].forget = b.keeper.hold(ctx, claimPoll, r.ID)
	}
	var wg sync.WaitGroup
	var unpolled []string
	for i, r := range claimed {
		cancelled := false
		select {
		case b.pollSlots <- struct{}{}:
		case <-ctx.Done():
			cancelled = true
		}
		if cancelled {
			for j, r := range claimed[i:] {
				holds[i+j].forget()
				unpolled = append(unpolled, r.ID)
			}
			break
		}
		wg.Go(func() {
			defer func() { <-b.pollSlots }()
			a := b.poll(holds[i].ctx, r)
			a.forget = holds[i].forget
			answers <- a
		})
	}
	finish := func() error {
		wg.Wait()
		close(answers)
		errs := <-recorded
		if len(unpolled) > 0 {
			releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
			defer cancel()
			errs = append(errs, ctx.Err(), b.db.ReleasePolls(releaseCtx, unpolled, b.owner))
		}
		return summarize(slices.DeleteFunc(errs, func(err error) bool { return err == nil }), 3)
	}
	return len(claimed), finish, nil
}

// summarize joins the first n errors and counts the others, so that an outage over
// thousands of requests makes one readable log line, not megabytes.
func summarize(errs []error, n int) error {
	if len(errs) <= n {
		return errors.Join(errs...)
	}
	return errors.Join(append(errs[:n:n], fmt.Errorf("and %d more failed polls", len(errs)-n))...)
}

// poll asks Webex for one request's status and, when it just became provisioned, for the
// partner's role in the organization. A failure to read the status, or a temporary one to read
// the role, is the answer's err, which schedules a retry; a final failure to read the
// role (such as a 403) is recorded with the status and told in the notice.
func (b *Bot) poll(ctx context.Context, r PollClaim) (a pollAnswer) {
	a.id = r.ID
	defer func() { a.at = b.clock.Now() }()
	c, err := b.partner.Customer(ctx, r.CustomerID)
	if err != nil {
		a.err = fmt.Errorf("poll %s: %w", r.ID, err)
		return a
	}
	a.customer = c
	if State(c.Status) == StateProvisioned && c.Status != r.WebexStatus {
		orgID := c.OrgID
		if orgID == "" {
			orgID = r.OrgID
		}
		a.admins, a.adminsErr = b.partner.PartnerAdmins(ctx, orgID)
		if a.adminsErr != nil && !unreadable(a.adminsErr) && isTemporary(a.adminsErr) {
			a.err = fmt.Errorf("poll %s: read the partner's role in %s: %w", r.ID, orgID, a.adminsErr)
		}
	}
	return a
}

// recordPolls records the answers until the channel is closed: it takes what arrived while
// it was writing, up to pollBatchMax, and writes it in one transaction with the giving up of
// the batch's claims (FinishPolls). It returns the failed polls' errors and its own.
func (b *Bot) recordPolls(ctx context.Context, answers <-chan pollAnswer) []error {
	var errs []error
	for first := range answers {
		batch := map[string]pollAnswer{first.id: first}
		ids := []string{first.id}
	drain:
		for len(ids) < pollBatchMax {
			select {
			case a, ok := <-answers:
				if !ok {
					break drain
				}
				if _, dup := batch[a.id]; !dup {
					ids = append(ids, a.id)
				}
				batch[a.id] = a
			default:
				break drain
			}
		}
		for _, id := range ids {
			if err := batch[id].err; err != nil {
				errs = append(errs, err)
			}
		}
		ended := map[string]ProvisioningOutcome{} // the requests this batch brings to a final status
		err := b.db.FinishPolls(ctx, ids, b.owner, func(id string, r *Request) ([]Outgoing, error) {
			delete(ended, id)
			a := batch[id]
			if a.err != nil {
				if !r.State.Polled() { // decided meanwhile by an overlapping run
					return nil, nil
				}
				b.retryAfterFailure(r, a.at, a.err)
				return b.pollFailed(r, a.at, a.err), nil
			}
			was := r.State
			out, err := b.recordStatus(r, a.at, a.customer, a.admins, a.adminsErr)
			if err == nil && was.Polled() && !r.State.Polled() {
				ended[id] = ProvisioningOutcome(r.State)
			}
			return out, err
		})
		if err != nil {
			// Which of the batch were saved is not known: the outcomes go uncounted.
			errs = append(errs, fmt.Errorf("record the status of %d requests: %w", len(ids), err))
		} else {
			for _, outcome := range ended {
				b.metrics.Provisioning(outcome)
			}
		}
		for _, id := range ids {
			batch[id].forget()
		}
		b.wakeOutbox()
	}
	return errs
}

// pollFailed tells the partner's thread, once until a poll succeeds again, that Webex refuses
// to show a request's status (a 403, or a 404 for a customer deleted in Partner Hub): such an
// error does not go away by retrying, and polling goes on with the backoff in case it does.
// Other failures are not told: temporary ones are retried, and the rest are logged. now is
// when the poll failed.
func (b *Bot) pollFailed(r *Request, now time.Time, err error) []Outgoing {
	// Only what concerns this customer: a 401 (the partner token) or a 400 would be told in
	// every request's thread at once, and is the operator's to fix (it is logged).
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !unreadable(err) || r.PollFailureTold {
		return nil
	}
	r.PollFailureTold = true
	r.audit(now, "attachbot", "status unreadable", fmt.Sprintf("HTTP %d %s", apiErr.Status, apiErr.Message), apiErr.TrackingID)
	return []Outgoing{b.notice(*r, fmt.Sprintf("poll-failed/%d", len(r.Audit)), fmt.Sprintf(
		"I can't read how attach **%s** for %s is doing: %s\n\nI keep asking, at most every %s, and will tell you here when it answers. "+
			"If the customer was deleted in Partner Hub, nothing more will come; `status %s` shows the history.",
		r.ID, orgOf(*r), describeAPIError(apiErr), b.cfg.MaxPoll, r.ID))}
}

// recordStatus applies a status answer Webex gave at now to a request, inside the store's
// transaction, and returns the notices to send with it: one per change, keyed by the status
// and how many changes came before it, so that a change is told once whatever runs overlap or
// restart, and a status the request comes back to is told again.
func (b *Bot) recordStatus(r *Request, now time.Time, c Customer, admins []PartnerAdmin, adminsErr error) ([]Outgoing, error) {
	status := State(c.Status)
	if !r.State.Polled() {
		return nil, nil // decided meanwhile (an overlapping run recorded it)
	}
	r.PollFailureTold, r.PollFailures = false, 0 // Webex answered
	var out []Outgoing
	if string(status) == r.WebexStatus {
		b.postpone(r, now)
		if r.State == StateProvisioning && !r.StuckWarned && now.Sub(r.Submitted) >= b.cfg.StuckAfter {
			r.StuckWarned = true
			r.audit(now, "attachbot", "stuck", fmt.Sprintf("still provisioning after %s", now.Sub(r.Submitted).Round(time.Minute)), c.TrackingID)
			out = append(out, b.notice(*r, "stuck", stuckText(*r, now)))
		}
		return out, nil
	}
	r.WebexStatus, r.Updated = string(status), now
	r.Errors, r.Packages = c.Errors, c.Details
	r.audit(now, "webex", auditStatusPrefix+string(status), "", c.TrackingID)
	r.PollInterval, r.NextPoll = b.cfg.FirstPoll, now.Add(b.cfg.FirstPoll) // a change starts a fast window anew
	switch {
	case status.Polled():
		r.State = status
	case status == StateProvisioned || status == StateProvisionedWithErrors || status == StateError || status == StateDeleting:
		r.State = status
		r.NextPoll = time.Time{}
	default:
		// A status this version does not know: told verbatim, and polled on.
		r.State = StateProvisioning
	}
	key := fmt.Sprintf("status/%d/%s", statusChanges(*r), status)
	if status != StateProvisioned {
		out = append(out, b.longNotice(*r, key, statusText(*r, status))...)
		if retryable(status) {
			// The Retry button comes after the notice, in a message of its own: a card is
			// shown instead of its message's text, and the text must show every error.
			card, err := b.cards.Retry(RetryView{Request: *r})
			if err != nil {
				return nil, fmt.Errorf("build the retry card: %w", err)
			}
			n := b.notice(*r, key+"/retry", retryCardFallback(*r))
			n.Message.Card = card
			out = append(out, n)
		}
		return out, nil
	}
	role, mapped := partnerRole(admins)
	r.Role = role
	if adminsErr != nil {
		r.audit(now, "attachbot", "role unknown", adminsErr.Error(), trackingID(adminsErr))
	}
	text := provisionedText(*r, role, mapped, adminsErr)
	card, err := b.cards.Provisioned(ProvisionedView{Request: *r, Role: role, Mapped: mapped})
	if err != nil {
		return nil, fmt.Errorf("build the provisioned card: %w", err)
	}
	n := b.notice(*r, key, text)
	n.Message.Card = card
	return append(out, n), nil
}

// auditStatusPrefix starts the action of every audit entry that records a Webex status.
const auditStatusPrefix = "status "

// statusChanges counts the Webex statuses recorded in a request's audit trail.
func statusChanges(r Request) int {
	n := 0
	for _, a := range r.Audit {
		if a.Actor == "webex" && strings.HasPrefix(a.Action, auditStatusPrefix) {
			n++
		}
	}
	return n
}

// partnerRole returns the partner's role in the organization as Webex names it, and what it
// means in the help article's words. The role ids are an inference (docs/webex-facts.md,
// 3.5): id_full_admin is Full Admin, a provision_admin role is Provisioning Admin.
func partnerRole(admins []PartnerAdmin) (string, Role) {
	var roles []string
	for _, a := range admins {
		if a.RoleInCustomerOrg != "" && !slices.Contains(roles, a.RoleInCustomerOrg) {
			roles = append(roles, a.RoleInCustomerOrg)
		}
	}
	switch {
	case slices.Contains(roles, "id_full_admin"):
		return "id_full_admin", RoleFullAdmin
	case slices.ContainsFunc(roles, func(r string) bool { return strings.Contains(r, "provision") }):
		i := slices.IndexFunc(roles, func(r string) bool { return strings.Contains(r, "provision") })
		return roles[i], RoleProvisioningAdmin
	case len(roles) > 0:
		return roles[0], ""
	}
	return "", ""
}

// statusText tells the partner about a status other than provisioned. The Webex status
// value appears verbatim.
func statusText(r Request, status State) string {
	var b strings.Builder
	switch status {
	case StateProvisionedWithErrors:
		fmt.Fprintf(&b, "Attach **%s** for %s is provisioned, with errors: the organization is attached, but some packages failed. "+
			"Once the cause is fixed, `retry %s` (or the Retry button below) asks Webex to provision its packages again.\n", r.ID, orgOf(r), r.ID)
	case StateError:
		fmt.Fprintf(&b, "Attach **%s** for %s failed. Nothing more happens by itself: once the cause is fixed, "+
			"`retry %s` (or the Retry button below) asks Webex to provision it again.\n", r.ID, orgOf(r), r.ID)
	case StateDeleting:
		fmt.Fprintf(&b, "Attach **%s** for %s ended: Webex is deleting the wholesale customer, so it was deleted in Partner Hub or through the API. "+
			"Nothing more will happen to this request; once the deletion is done, a new `attach` can add Webex for Wholesale again.", r.ID, orgOf(r))
		if id := lastTrackingID(r); id != "" {
			fmt.Fprintf(&b, "\n\nTrackingId for Cisco support: %s", Code(id))
		}
		return b.String()
	case StatePendingReview:
		fmt.Fprintf(&b, "Attach **%s** for %s is now in Cisco's compliance review: Cisco is running its Denied Party List compliance review of the customer. "+
			"Nothing is needed from you; I'll tell you here when it moves on.", r.ID, orgOf(r))
		return b.String()
	case StateProvisioning, StateUpdating:
		fmt.Fprintf(&b, "Attach **%s** for %s is now %s.", r.ID, orgOf(r), stateText(status))
		return b.String()
	default:
		fmt.Fprintf(&b, "Attach **%s** for %s has a status I don't know: Webex says %s.", r.ID, orgOf(r), Code(string(status)))
		return b.String()
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\nErrors:\n%s\n", formatDetails(r.Errors))
	}
	for _, p := range r.Packages {
		if len(p.Errors) == 0 && len(p.Warnings) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s is %s:\n", Literal(PackageLabels([]string{p.Name})), Code(p.Status))
		if len(p.Errors) > 0 {
			fmt.Fprintf(&b, "%s\n", formatDetails(p.Errors))
		}
		if len(p.Warnings) > 0 {
			fmt.Fprintf(&b, "Warnings:\n%s\n", formatDetails(p.Warnings))
		}
	}
	if id := lastTrackingID(r); id != "" {
		fmt.Fprintf(&b, "\nTrackingId for Cisco support: %s", Code(id))
	}
	return strings.TrimRight(b.String(), "\n")
}

// retryCardFallback is the text of the Retry card's message, for clients that cannot show
// cards.
func retryCardFallback(r Request) string {
	return fmt.Sprintf("To ask Webex to provision attach **%s** again, with the same packages, type `retry %s`.", r.ID, r.ID)
}

// lastTrackingID is the most recent trackingId of a request's audit trail.
func lastTrackingID(r Request) string {
	for i := len(r.Audit) - 1; i >= 0; i-- {
		if r.Audit[i].TrackingID != "" {
			return r.Audit[i].TrackingID
		}
	}
	return ""
}

// provisionedText tells the partner an attach is provisioned, with the role it got.
func provisionedText(r Request, role string, mapped Role, adminsErr error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Attach **%s** for %s is provisioned.", r.ID, orgOf(r))
	switch {
	case adminsErr != nil:
		fmt.Fprintf(&b, " I could not read the partner's role in the organization: %s", Explain(adminsErr))
	case role == "":
		b.WriteString(" Webex lists no partner administrator in the organization yet, so I can't tell the partner's role.")
	case mapped != "":
		fmt.Fprintf(&b, " The partner's role in the organization is **%s** (%s).", mapped, Code(role))
	default:
		fmt.Fprintf(&b, " The partner's role in the organization is %s.", Code(role))
	}
	if mapped == RoleProvisioningAdmin {
		fmt.Fprintf(&b, "\n\n%s The card's button asks %s for it.", FullAdminAdvice, Literal(r.Spec.AdminEmail))
	}
	fmt.Fprintf(&b, "\n\nRemember: %s", FirstUserNote)
	return b.String()
}

// stuckText warns that provisioning takes longer than it should. It quotes the trackingId of
// the submission, which is what Cisco support traces an asynchronous provisioning by.
func stuckText(r Request, now time.Time) string {
	return fmt.Sprintf("Attach **%s** for %s is still being provisioned %s after Webex accepted it (customer id %s). "+
		"Check status.webex.com for incidents, and Partner Hub > Customers for the customer's state; "+
		"if it stays like this, open a case with Cisco quoting the trackingId %s. I keep polling and will tell you how it ends.",
		r.ID, orgOf(r), now.Sub(r.Submitted).Round(time.Minute), Code(r.CustomerID), Code(submissionTrackingID(r)))
}

// auditSubmitted is the audit action submit records when Webex accepted a provisioning.
const auditSubmitted = "submitted"

// submissionTrackingID is the trackingId of the request's accepted submission (POST
// /wholesale/customers), or the most recent one of its audit trail when it has none.
func submissionTrackingID(r Request) string {
	for i := len(r.Audit) - 1; i >= 0; i-- {
		if a := r.Audit[i]; a.Action == auditSubmitted && a.TrackingID != "" {
			return a.TrackingID
		}
	}
	return lastTrackingID(r)
}
