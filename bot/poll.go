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
// pollConcurrency bounds the status calls under way at once.
const pollConcurrency = 8

// pollDue polls every request in a polled state whose next poll is due.
func (b *Bot) pollDue(ctx context.Context) error {
	inFlight, err := b.db.Requests(ctx, RequestFilter{States: []State{StateProvisioning, StateUpdating, StatePendingReview}})
	if err != nil {
		return fmt.Errorf("list requests in flight: %w", err)
	}
	now := b.clock.Now()
	sem := make(chan struct{}, pollConcurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, r := range inFlight {
		if r.NextPoll.After(now) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := b.poll(ctx, r); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// poll asks Webex for one request's status and records what it says. An error from Webex
// postpones the next poll with the request's backoff; it is returned for the log.
func (b *Bot) poll(ctx context.Context, r Request) error {
	c, err := b.partner.Customer(ctx, r.CustomerID)
	if err != nil {
		if _, uerr := b.db.UpdateRequest(ctx, r.ID, func(r *Request) ([]Outgoing, error) {
			b.postpone(r, b.clock.Now())
			return nil, nil
		}); uerr != nil {
			return errors.Join(fmt.Errorf("poll %s: %w", r.ID, err), uerr)
		}
		return fmt.Errorf("poll %s: %w", r.ID, err)
	}
	status := State(c.Status)
	var admins []PartnerAdmin
	var adminsErr error
	if status == StateProvisioned && string(status) != r.WebexStatus {
		orgID := c.OrgID
		if orgID == "" {
			orgID = r.Spec.OrgID
		}
		admins, adminsErr = b.partner.PartnerAdmins(ctx, orgID)
		if adminsErr != nil && !unreadable(adminsErr) && isTemporary(adminsErr) {
			return fmt.Errorf("read the partner's role in %s: %w", orgID, adminsErr)
		}
	}
	_, err = b.db.UpdateRequest(ctx, r.ID, func(r *Request) ([]Outgoing, error) {
		return b.recordStatus(r, c, admins, adminsErr)
	})
	if err != nil {
		return fmt.Errorf("record the status of %s: %w", r.ID, err)
	}
	wake(b.wakeOut)
	return nil
}

// postpone schedules a request's next poll with its backoff, doubled each time, capped.
func (b *Bot) postpone(r *Request, now time.Time) {
	r.PollInterval = min(max(r.PollInterval*2, b.cfg.FirstPoll), b.cfg.MaxPoll)
	r.NextPoll = now.Add(r.PollInterval)
}

// recordStatus applies a status answer to a request, inside the store's transaction, and
// returns the notices to send with it: one per change, keyed by the status, so a change is
// told once whatever runs overlap or restart.
func (b *Bot) recordStatus(r *Request, c Customer, admins []PartnerAdmin, adminsErr error) ([]Outgoing, error) {
	now := b.clock.Now()
	status := State(c.Status)
	if !r.State.Polled() {
		return nil, nil // decided meanwhile (an overlapping run recorded it)
	}
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
	r.audit(now, "webex", "status "+string(status), "", c.TrackingID)
	r.PollInterval, r.NextPoll = b.cfg.FirstPoll, now.Add(b.cfg.FirstPoll)
	switch status {
	case StateProvisioning, StateUpdating, StatePendingReview:
		r.State = status
	case StateProvisioned, StateProvisionedWithErrors, StateError:
		r.State = status
		r.NextPoll = time.Time{}
	default:
		// A status this version does not know: told verbatim, and polled on.
		r.State = StateProvisioning
	}
	key := "status/" + string(status)
	if status != StateProvisioned {
		return append(out, b.notice(*r, key, statusText(*r, status))), nil
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

// partnerRole returns the partner's role in the organization as Webex names it, and what it
// means in the help article's words. The role ids are an inference (webex-wholesale-api.md
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
		fmt.Fprintf(&b, "Attach **%s** (%s) ended with status `%s`: the organization is attached, but some packages failed.\n", r.ID, orgOf(r), status)
	case StateError:
		fmt.Fprintf(&b, "Attach **%s** (%s) failed with status `%s`. Nothing more will happen unless it is submitted again.\n", r.ID, orgOf(r), status)
	case StatePendingReview:
		fmt.Fprintf(&b, "Attach **%s** (%s) is now `%s`: Cisco is running its Denied Party List compliance review of the customer. "+
			"Nothing is needed from you; I'll tell you here when it moves on.", r.ID, orgOf(r), status)
		return b.String()
	default:
		fmt.Fprintf(&b, "Attach **%s** (%s) is now `%s`.", r.ID, orgOf(r), status)
		return b.String()
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\nErrors:\n%s\n", formatDetails(r.Errors))
	}
	for _, p := range r.Packages {
		if len(p.Errors) == 0 && len(p.Warnings) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\nPackage `%s` is `%s`:\n", p.Name, p.Status)
		if len(p.Errors) > 0 {
			fmt.Fprintf(&b, "%s\n", formatDetails(p.Errors))
		}
		if len(p.Warnings) > 0 {
			fmt.Fprintf(&b, "Warnings:\n%s\n", formatDetails(p.Warnings))
		}
	}
	if id := lastTrackingID(r); id != "" {
		fmt.Fprintf(&b, "\nTrackingId for Cisco support: `%s`", id)
	}
	return strings.TrimRight(b.String(), "\n")
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
	fmt.Fprintf(&b, "Attach **%s** (%s) is `provisioned`.", r.ID, orgOf(r))
	switch {
	case adminsErr != nil:
		fmt.Fprintf(&b, " I could not read the partner's role in the organization: %s", Explain(adminsErr))
	case role == "":
		b.WriteString(" Webex lists no partner administrator in the organization yet, so I can't tell the partner's role.")
	case mapped != "":
		fmt.Fprintf(&b, " The partner's role in the organization is **%s** (`%s`).", mapped, role)
	default:
		fmt.Fprintf(&b, " The partner's role in the organization is `%s`.", role)
	}
	if mapped == RoleProvisioningAdmin {
		fmt.Fprintf(&b, "\n\n%s The card's button asks %s for it.", FullAdminAdvice, r.Spec.AdminEmail)
	}
	fmt.Fprintf(&b, "\n\nRemember: %s", FirstUserNote)
	return b.String()
}

// stuckText warns that provisioning takes longer than it should.
func stuckText(r Request, now time.Time) string {
	return fmt.Sprintf("Attach **%s** (%s) is still `provisioning` %s after Webex accepted it (customer id `%s`). "+
		"Check status.webex.com for incidents, and Partner Hub > Customers for the customer's state; "+
		"if it stays like this, open a case with Cisco quoting the trackingId `%s`. I keep polling and will tell you how it ends.",
		r.ID, orgOf(r), now.Sub(r.Submitted).Round(time.Minute), r.CustomerID, lastTrackingID(r))
}
