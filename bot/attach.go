package bot

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Check answers `check <orgId> …`: the eligibility report. It writes nothing anywhere.
func (b *Bot) Check(ctx context.Context, t *Turn, orgID string, args map[string]string) error {
	var problems []string
	id, ok := NormalizeOrgID(orgID)
	if !ok {
		problems = append(problems, fmt.Sprintf("%s is not a Webex organization id: copy it from Control Hub > Account (a UUID, or the base64 id)", quoteTyped(orgID)))
	}
	problems = append(problems, unknownKeys(args, checkKeys)...)
	declared, declaredProblems := declaredFrom(args, t.Actor.Email())
	problems = append(problems, declaredProblems...)

	// The precheck runs when the partner gave what it needs.
	var pre *CustomerRequest
	if args["admin"] != "" || args["street"] != "" || args["template"] != "" || args["packages"] != "" {
		full := map[string]string{"org": orgID}
		for k, v := range args {
			full[k] = v
		}
		spec, specProblems := b.SpecFromArgs(full, t.Actor.Email())
		for _, p := range specProblems { // the declared facts are checked above already
			if !slices.Contains(problems, p) {
				problems = append(problems, p)
			}
		}
		req := spec.CustomerRequest()
		pre = &req
	}
	if len(problems) > 0 {
		t.Reply(Explain(&InputError{Problems: problems}))
		return nil
	}
	report, err := b.report(ctx, id, declared, pre)
	if err != nil {
		return err
	}
	t.Reply(formatReport(report))
	return nil
}

// report finds out what the rules need to know about an organization. A 403 or 404 for an
// organization the partner cannot read makes a fact unknown, never a failure; any other
// Webex error is returned.
func (b *Bot) report(ctx context.Context, orgID string, d Declared, pre *CustomerRequest) (Report, error) {
	r := Report{OrgID: orgID}
	f := &r.Facts

	org, err := b.partner.Organization(ctx, orgID)
	switch {
	case err == nil:
		r.OrgName = org.DisplayName
		f.Managed = Fact{Yes, "GET /organizations/{orgId} answered 200: the partner already manages it"}
	case unreadable(err):
		f.Managed = Fact{No, fmt.Sprintf("GET /organizations/{orgId} answered %d", apiStatus(err))}
	default:
		return r, fmt.Errorf("read organization %s: %w", orgID, err)
	}

	// The user count is read whenever Webex lets the partner read it; a declaration only
	// stands in for a count the partner cannot read.
	declaredBy := "declared by " + d.By
	n, err := b.partner.CountPeople(ctx, orgID, 100)
	switch {
	case err == nil:
		f.Users = Fact{No, "GET /people?orgId= counted " + plural(n, "user")}
		if n >= 100 {
			f.Users = Fact{Yes, "GET /people?orgId= counted 100 users (stopped there)"}
		}
		if d.Users != Unknown && d.Users != f.Users.Value {
			f.Users.Source += fmt.Sprintf("; the declared users=%s is ignored", d.Users)
		}
	case !unreadable(err):
		return r, fmt.Errorf("count the people of %s: %w", orgID, err)
	case d.Users != Unknown:
		f.Users = Fact{d.Users, fmt.Sprintf("%s (GET /people?orgId= answered %d)", declaredBy, apiStatus(err))}
	default:
		f.Users = Fact{Unknown, fmt.Sprintf("GET /people?orgId= answered %d: the partner cannot read its people; declare users=yes|no", apiStatus(err))}
	}

	licenses, err := b.partner.Licenses(ctx, orgID)
	switch {
	case err == nil && len(licenses) == 0:
		f.Licenses = Fact{No, "GET /licenses?orgId= lists no licenses"}
	case err == nil:
		f.Licenses = Fact{Yes, "GET /licenses?orgId= lists " + plural(len(licenses), "license")}
	case unreadable(err):
		f.Licenses = Fact{Unknown, fmt.Sprintf("GET /licenses?orgId= answered %d", apiStatus(err))}
	default:
		return r, fmt.Errorf("list the licenses of %s: %w", orgID, err)
	}

	for _, x := range []struct {
		dst   *Fact
		value Tri
		key   string
	}{
		{&f.VerifiedDomain, d.VerifiedDomain, "verified-domain"},
		{&f.ClaimedDomain, d.ClaimedDomain, "claimed-domain"},
		{&f.Trial, d.Trial, "trial"},
		{&f.InactiveLicensesOnly, d.InactiveLicensesOnly, "inactive-licenses"},
	} {
		if x.value != Unknown {
			*x.dst = Fact{x.value, declaredBy}
		} else {
			*x.dst = Fact{Unknown, fmt.Sprintf("no Webex API can read it; declare %s=yes|no", x.key)}
		}
	}
	r.Assessment = Assess(r.Facts)
	if refused, err := b.earlierRefusal(ctx, orgID); err != nil {
		return r, err
	} else if refused {
		r.Assessment.ApprovalRequired = true
		r.Assessment.Because = append(r.Assessment.Because, CriterionEarlierRefusal)
	}

	existing, err := b.partner.Customers(ctx, CustomerQuery{OrgID: orgID})
	if err != nil {
		return r, fmt.Errorf("look for wholesale customers of %s: %w", orgID, err)
	}
	r.Existing = existing

	if pre == nil {
		r.PrecheckSkipped = "give admin=, template=, packages= and the address (street=, city=, country=) to run Webex's precheck"
		return r, nil
	}
	p, err := b.partner.Precheck(ctx, *pre)
	var apiErr *APIError
	switch {
	case err == nil:
		r.Precheck = &p
	case errors.As(err, &apiErr) && !apiErr.Temporary():
		r.PrecheckStatus, r.PrecheckTracking = apiErr.Status, apiErr.TrackingID
		r.PrecheckErrors = apiErr.Details
		if len(r.PrecheckErrors) == 0 {
			r.PrecheckErrors = []ErrorDetail{{Description: apiErr.Message}}
		}
	default:
		return r, fmt.Errorf("precheck %s: %w", orgID, err)
	}
	return r, nil
}

// requestID derives a short, typeable request id from the event that created the request,
// so that processing the event again finds the same request. It uses an alphabet without
// look-alike characters.
func requestID(source string, salt int) string {
	const alphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%d", source, salt))
	id := make([]byte, 6)
	for i := range id {
		id[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(id)
}

// NormalizeRequestID returns a typed request id in its stored form.
func NormalizeRequestID(s string) string {
	return strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(s), "#"))
}

// Attach runs a complete, validated attach request: the eligibility report, the refusals
// (trial, already a customer, a failed precheck), then either the approval card to the
// customer admin or the provisioning itself.
func (b *Bot) Attach(ctx context.Context, t *Turn, spec AttachSpec) error {
	spec, problems := b.completeSpec(spec)
	if len(problems) > 0 {
		t.Reply(Explain(&InputError{Problems: problems}))
		return nil
	}
	id, existing, err := b.claimRequestID(ctx, t.Event.Key)
	if err != nil {
		return err
	}
	if existing != nil { // this event was processed before, up to a crash
		return b.submit(ctx, existing.ID)
	}
	// One open request per organization: a second attach (a double click on Create
	// customer, the command said twice) is told about the first.
	ctx, unlock, err := b.lock(ctx, orgLockKey(spec.OrgID))
	if err != nil {
		return err
	}
	defer unlock()
	if open, err := b.openRequest(ctx, spec.OrgID); err != nil {
		return err
	} else if open != nil {
		t.Replyf("Attach **%s** for this organization is still %s, so I did not start another. `status %s` shows it; `cancel %s` withdraws it while it waits for approval.",
			open.ID, stateText(open.State), open.ID, open.ID)
		return nil
	}
	givenExternalID := spec.ExternalID != ""
	if !givenExternalID {
		spec.ExternalID = "attachbot-" + strings.ToLower(id)
	}
	req := spec.CustomerRequest()
	report, err := b.report(ctx, spec.OrgID, spec.Declared, &req)
	if err != nil {
		return err
	}
	var externalIDUsedBy []Customer
	if givenExternalID {
		if externalIDUsedBy, err = b.partner.Customers(ctx, CustomerQuery{ExternalID: spec.ExternalID}); err != nil {
			return fmt.Errorf("look up externalId %s: %w", spec.ExternalID, err)
		}
	}
	// The refusals name the customer as the partner did (name=), else as Webex does.
	label := orgLabel(report)
	if spec.CustomerName != "" {
		label = Bold(spec.CustomerName)
	}
	switch {
	case report.Assessment.Trial:
		t.Replyf("I can't attach %s: it is declared a trial organization (%s). %s Nothing was changed.", label, Literal(report.Facts.Trial.Source), TrialRule)
		return nil
	case len(report.Existing) > 0:
		c := report.Existing[0]
		t.Replyf("I can't attach %s: it already is a wholesale customer (status %s, externalId %s, customer id %s). Nothing was changed.",
			label, Code(c.Status), Code(c.ExternalID), Code(c.ID))
		return nil
	case len(externalIDUsedBy) > 0:
		c := externalIDUsedBy[0]
		t.Replyf("I can't attach %s with external-id=%s: wholesale customer %s (status %s) already has that externalId. Choose another one, or leave it out and I'll make one. Nothing was changed.",
			label, Literal(spec.ExternalID), Code(c.ID), Code(c.Status))
		return nil
	case report.PrecheckFailed():
		t.Replyf("Webex's precheck refused attaching %s (HTTP %d), so nothing was created:\n%s\nTrackingId for Cisco support: %s",
			label, report.PrecheckStatus, formatDetails(report.PrecheckErrors), Code(report.PrecheckTracking))
		return nil
	}
	if problem := customerName(&spec, report.OrgName); problem != "" {
		t.Reply(Explain(&InputError{Problems: []string{problem}}))
		return nil
	}

	now := b.clock.Now()
	r := Request{
		ID: id, Source: t.Event.Key, Created: now, Updated: now,
		RoomID: t.RoomID, ThreadID: t.ThreadID, BatchID: t.BatchID,
		RequestedBy: t.Actor.Email(), RequestedByID: t.Actor.ID,
		Spec: spec, OrgName: report.OrgName, Facts: report.Facts, Assessment: report.Assessment,
	}
	r.audit(now, r.RequestedBy, "requested", fmt.Sprintf("attach %s with %s", spec.OrgID, strings.Join(spec.Packages, ", ")), "")
	if report.Precheck != nil {
		r.audit(now, "attachbot", auditPrecheckPassed, precheckDetail(*report.Precheck), report.Precheck.TrackingID)
	}
	var out []Outgoing
	if report.Assessment.ApprovalRequired {
		r.State, r.ApprovalSent = StateAwaitingApproval, now
		expires := now.Add(b.cfg.ApprovalTTL)
		card, err := b.cards.Approval(b.approvalView(r))
		if err != nil {
			return fmt.Errorf("build the approval card of %s: %w", id, err)
		}
		r.audit(now, "attachbot", "approval requested", "card sent to "+spec.AdminEmail, "")
		out = append(out,
			requestMessage(id, whatApproval, now, OutMessage{
				ToPersonEmail: spec.AdminEmail, Markdown: approvalFallback(r, expires), Card: card}),
			b.notice(r, "created", approvalAskedText(r, report, expires)))
	} else {
		// The partner hears about an automatic attach once, when Webex has answered the
		// submission (submittedText and rejected tell the report with it).
		r.State = StateSubmitting
	}
	if err := b.db.CreateRequest(ctx, r, out); err != nil {
		return fmt.Errorf("save request %s: %w", id, err)
	}
	b.wakeOutbox()
	err = b.submit(ctx, id)
	if err != nil && !report.Assessment.ApprovalRequired && r.BatchID == "" {
		// Webex did not answer yet: the partner hears what is known now, and the outcome when
		// the submission is carried on.
		n := b.notice(r, "created", automaticText(r)+"\n\nWebex has not accepted the submission yet; I keep trying and will tell you here how it goes.")
		if qerr := b.db.Enqueue(ctx, []Outgoing{n}); qerr != nil {
			return errors.Join(err, fmt.Errorf("tell the partner about %s: %w", id, qerr))
		}
		b.wakeOutbox()
	}
	return err
}

// customerName makes sure the spec names the customer: Webex requires customerInfo.name
// whenever customerInfo (the admin's email) is sent. The partner's name= wins; else the
// organization's display name as Webex shows it (GET /organizations/{orgId}), when the partner
// can read it. It returns the problem to tell the partner when neither can be had.
func customerName(spec *AttachSpec, orgName string) string {
	if spec.CustomerName != "" {
		return ""
	}
	name := strings.TrimSpace(orgName)
	switch {
	case name == "":
		return `name is missing: the customer's company name, such as name="Acme Inc" (Webex needs it, and the partner cannot read the organization's name)`
	case strings.Contains(name, "%"):
		return `name is missing: the organization's name in Webex contains %, which Webex refuses in a customer name; give the company name, such as name="Acme Inc"`
	}
	spec.CustomerName = name
	return ""
}

// openRequest returns the request for an organization that has not ended yet, if any.
func (b *Bot) openRequest(ctx context.Context, orgID string) (*Request, error) {
	rs, err := b.db.Requests(ctx, RequestFilter{States: OpenStates()})
	if err != nil {
		return nil, fmt.Errorf("list the open requests: %w", err)
	}
	for _, r := range rs {
		if SameOrg(r.Spec.OrgID, orgID) {
			return &r, nil
		}
	}
	return nil, nil
}

// orgLockKey is the key of an organization's lock: its UUID, so that two spellings of one
// organization's id take the same lock.
func orgLockKey(orgID string) string {
	if uuid, ok := OrgUUID(orgID); ok {
		return "org/" + uuid
	}
	return "org/" + orgID
}

// claimRequestID returns the id for a request created by the event source, or the request
// the event already created.
func (b *Bot) claimRequestID(ctx context.Context, source string) (string, *Request, error) {
	for salt := 0; ; salt++ {
		id := requestID(source, salt)
		r, err := b.db.Request(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			return id, nil, nil
		case err != nil:
			return "", nil, fmt.Errorf("look up request %s: %w", id, err)
		case r.Source == source:
			return id, &r, nil
		}
	}
}

// submit provisions a request in state submitting: it looks the externalId up first, so that
// a retry after a crash or a timeout never provisions twice, then POSTs. Requests in any
// other state are left alone.
func (b *Bot) submit(ctx context.Context, id string) error {
	// The inbox's retry of an event and the sweep's resubmission may meet: one at a time,
	// and the second finds the request submitted.
	ctx, unlock, err := b.lock(ctx, "submit/"+id)
	if err != nil {
		return err
	}
	defer unlock()
	r, err := b.db.Request(ctx, id)
	if err != nil {
		return fmt.Errorf("load request %s: %w", id, err)
	}
	if r.State != StateSubmitting {
		return nil
	}
	found, err := b.partner.Customers(ctx, CustomerQuery{ExternalID: r.Spec.ExternalID})
	if err != nil {
		return fmt.Errorf("look up externalId %s: %w", r.Spec.ExternalID, err)
	}
	var done Provisioned
	var how string
	if len(found) > 0 && found[0].OrgID != "" && !SameOrg(found[0].OrgID, r.Spec.OrgID) {
		// Webex shows a customer's orgId once it is provisioned: this one is not ours.
		return b.rejected(ctx, id, &APIError{Status: http.StatusConflict,
			Message: fmt.Sprintf("externalId %s belongs to wholesale customer %s of another organization", r.Spec.ExternalID, found[0].ID)})
	}
	if len(found) > 0 {
		done = Provisioned{CustomerID: found[0].ID}
		how = "an earlier submission went through: found by externalId " + r.Spec.ExternalID
	} else {
		done, err = b.partner.Provision(ctx, r.Spec.CustomerRequest())
		var apiErr *APIError
		if errors.Is(err, ErrOutcomeUnknown) {
			return b.outcomeUnknown(ctx, id, err)
		}
		if err != nil && (!errors.As(err, &apiErr) || apiErr.Temporary()) {
			return fmt.Errorf("provision request %s: %w", id, err)
		}
		how = "POST /wholesale/customers answered 202"
		if err != nil && apiErr.Status == http.StatusConflict {
			// Perhaps an earlier submission went through: its customer is looked up again.
			c, foundBy, ok, lookErr := b.findOwnCustomer(ctx, r.Spec)
			if lookErr != nil {
				return fmt.Errorf("provision request %s: after a 409: %w", id, lookErr)
			}
			if ok {
				done, err = Provisioned{CustomerID: c.ID, TrackingID: apiErr.TrackingID}, nil
				how = "POST /wholesale/customers answered 409: an earlier submission went through: found by " + foundBy
			}
		}
		if err != nil {
			return b.rejected(ctx, id, apiErr)
		}
	}
	submitted := false
	_, err = b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		submitted = false
		if r.State != StateSubmitting {
			return nil, nil
		}
		submitted = true
		now := b.clock.Now()
		r.State, r.WebexStatus, r.CustomerID, r.Updated = StateProvisioning, string(StateProvisioning), done.CustomerID, now
		r.Submitted, r.NextPoll, r.PollInterval = now, now.Add(b.cfg.FirstPoll), b.cfg.FirstPoll
		r.audit(now, "attachbot", "submitted", how+"; customer id "+done.CustomerID, done.TrackingID)
		return []Outgoing{b.notice(*r, "submitted", withReport(*r, submittedText(*r)))}, nil
	})
	if err != nil {
		return fmt.Errorf("record the submission of %s: %w", id, err)
	}
	if submitted {
		b.metrics.Provisioning(ProvisioningSubmitted)
	}
	b.wakeOutbox()
	wake(b.wakePoll) // its first poll may come before the one the loop waits for
	return nil
}

// rejected records that Webex refused to provision a request.
func (b *Bot) rejected(ctx context.Context, id string, apiErr *APIError) error {
	recorded := false
	_, err := b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		recorded = false
		if r.State != StateSubmitting {
			return nil, nil
		}
		recorded = true
		now := b.clock.Now()
		r.State, r.Updated = StateRejected, now
		r.Errors = apiErr.Details
		r.audit(now, "attachbot", "rejected by Webex", fmt.Sprintf("HTTP %d %s", apiErr.Status, apiErr.Message), apiErr.TrackingID)
		if r.OutcomeUnknown {
			// An earlier submission may have gone through: never say nothing was created.
			return b.longNotice(*r, "rejected", withReport(*r, fmt.Sprintf("Webex refused to provision attach **%s** for %s. The answer to an earlier submission was lost, and I found no customer for it by externalId %s or orgId: check Partner Hub before submitting it again.\n%s",
				r.ID, orgOf(*r), Code(r.Spec.ExternalID), describeAPIError(apiErr)))), nil
		}
		return b.longNotice(*r, "rejected", withReport(*r, fmt.Sprintf("Webex refused to provision attach **%s** for %s, so nothing was created.\n%s",
			r.ID, orgOf(*r), describeAPIError(apiErr)))), nil
	})
	if err != nil {
		return fmt.Errorf("record the rejection of %s: %w", id, err)
	}
	if recorded {
		b.metrics.Provisioning(ProvisioningRejected)
	}
	b.wakeOutbox()
	return nil
}

// withReport puts the report of an automatic attach before text: the partner's one reply
// to the attach tells both. A request that waited for approval was told its report when it
// was created.
func withReport(r Request, text string) string {
	if !r.ApprovalSent.IsZero() {
		return text
	}
	return automaticText(r) + "\n\n" + text
}

// notice returns a message to the request's partner thread, keyed by the request and what
// happened, so that it is enqueued once however often the work that makes it runs.
func (b *Bot) notice(r Request, what, markdown string) Outgoing {
	return requestMessage(r.ID, what, b.clock.Now(),
		OutMessage{RoomID: r.RoomID, ParentID: r.ThreadID, Markdown: trimMarkdown(markdown, MaxMessageBytes)})
}

// longNotice is notice for a text that may pass Webex's limit (every error of a failed
// provisioning, say): it is split into several messages, keyed what, what/2, what/3…,
// instead of being cut.
func (b *Bot) longNotice(r Request, what, markdown string) []Outgoing {
	parts := splitMarkdown(markdown, MaxMessageBytes)
	out := make([]Outgoing, len(parts))
	for i, part := range parts {
		key := what
		if i > 0 {
			key = fmt.Sprintf("%s/%d", what, i+1)
		}
		out[i] = b.notice(r, key, part)
	}
	return out
}

// audit appends a line to the request's audit trail.
func (r *Request) audit(at time.Time, actor, action, detail, trackingID string) {
	r.Audit = append(r.Audit, AuditEntry{At: at, Actor: actor, Action: action, Detail: detail, TrackingID: trackingID})
}

// partnerName is how the customer admin is told who asks: the partner's name as configured,
// or the requester's email domain.
func (b *Bot) partnerName(r Request) string {
	if b.cfg.PartnerName != "" {
		return b.cfg.PartnerName
	}
	if _, domain, ok := strings.Cut(r.RequestedBy, "@"); ok {
		return domain
	}
	return "your Webex partner"
}
