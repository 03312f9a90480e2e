package bot

import (
	"fmt"
	"strings"
	"time"
)

// The texts people read: reports, notices and request summaries, in Webex markdown.

// timeLayout is how a time is shown to people, always in UTC: "Mon 30 Nov 2026, 09:00 UTC".
const timeLayout = "Mon 2 Jan 2006, 15:04 UTC"

// orgLabel names the organization of a report: by its name when the partner can read it,
// else by its id, which is all there is.
func orgLabel(r Report) string {
	if r.OrgName != "" {
		return Bold(r.OrgName)
	}
	return "the organization " + Code(OrgIDText(r.OrgID))
}

// orgOf names the customer of a request: the company name the partner gave, else the
// organization's name; the organization id only when neither is known (`status` shows it).
func orgOf(r Request) string {
	switch {
	case r.Spec.CustomerName != "":
		return Bold(r.Spec.CustomerName)
	case r.OrgName != "":
		return Bold(r.OrgName)
	}
	return "the organization " + Code(OrgIDText(r.Spec.OrgID))
}

// plural is "1 license", "2 licenses": n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// formatDetails lists Webex error details.
func formatDetails(details []ErrorDetail) string {
	var b strings.Builder
	for _, d := range details {
		if d.Code != 0 {
			fmt.Fprintf(&b, "- %s (code %d)\n", Literal(d.Description), d.Code)
		} else {
			fmt.Fprintf(&b, "- %s\n", Literal(d.Description))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// formatFacts lists the criteria with their values and sources.
func formatFacts(f Facts) string {
	var b strings.Builder
	for _, x := range []struct {
		name string
		fact Fact
	}{
		{"100 users or more", f.Users},
		{"Verified email domain", f.VerifiedDomain},
		{"Claimed domain", f.ClaimedDomain},
		{"Trial organization", f.Trial},
		{"Has licenses", f.Licenses},
		{"Only suspended or canceled licenses", f.InactiveLicensesOnly},
		{"Already managed by this partner", f.Managed},
	} {
		fmt.Fprintf(&b, "- %s: **%s** (%s)\n", x.name, x.fact.Value, Literal(x.fact.Source))
	}
	return b.String()
}

// verdictText says what the rules conclude.
func verdictText(a Assessment) string {
	switch {
	case a.Trial:
		return "**Cannot be attached.** " + TrialRule
	case len(a.Because) > 0:
		return fmt.Sprintf("**The customer admin must approve**, because the organization has %s.", strings.Join(a.Because, " and "))
	case len(a.Unknown) > 0:
		return fmt.Sprintf("**The customer admin must approve** (the safe side), because nobody knows whether the organization has %s. "+
			"If all of these are known to be false, the attach can be automatic.", strings.Join(a.Unknown, ", or "))
	default:
		return "**Automatic attach**: none of the approval criteria holds, so the wholesale subscription is added without notifying the organization's admin or users."
	}
}

// roleText predicts the partner's role.
func roleText(a Assessment) string {
	if a.Role == RoleFullAdmin {
		return "Predicted partner role: **Full Admin** (the organization has no licenses, or only suspended or canceled ones)."
	}
	return "Predicted partner role: **Provisioning Admin**. " + FullAdminAdvice
}

// formatReport is the answer to `check`.
func formatReport(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Eligibility of %s**\n\n", orgLabel(r))
	b.WriteString(formatFacts(r.Facts))
	fmt.Fprintf(&b, "\n%s\n\n%s\n", verdictText(r.Assessment), roleText(r.Assessment))
	if len(r.Existing) > 0 {
		for _, c := range r.Existing {
			fmt.Fprintf(&b, "\nAlready a wholesale customer: status %s, externalId %s, customer id %s. It cannot be attached again.\n", Code(c.Status), Code(c.ExternalID), Code(c.ID))
		}
	} else {
		b.WriteString("\nNot a wholesale customer yet (GET /wholesale/customers?orgId= lists none).\n")
	}
	b.WriteString(precheckText(r))
	if r.Facts.Managed.Value == Yes {
		fmt.Fprintf(&b, "\nNote: %s\n", ManagedNote)
	}
	b.WriteString("\nNothing was changed.")
	return b.String()
}

// precheckText reports Webex's precheck: its message and info, or each error and the
// trackingId, or why it did not run.
func precheckText(r Report) string {
	var b strings.Builder
	switch {
	case r.Precheck != nil:
		fmt.Fprintf(&b, "\nPrecheck: %s", Literal(r.Precheck.Message))
		for _, i := range r.Precheck.Info {
			fmt.Fprintf(&b, "\n- %s (info %d)", Literal(i.Description), i.Code)
		}
		b.WriteString("\n")
	case r.PrecheckFailed():
		fmt.Fprintf(&b, "\nPrecheck refused (HTTP %d):\n%s\nTrackingId for Cisco support: %s\n", r.PrecheckStatus, formatDetails(r.PrecheckErrors), Code(r.PrecheckTracking))
	case r.PrecheckSkipped != "":
		fmt.Fprintf(&b, "\nPrecheck not run: %s.\n", Literal(r.PrecheckSkipped))
	}
	return b.String()
}

// approvalAskedText tells the partner that the customer admin was asked, and until when
// they can answer.
func approvalAskedText(r Request, report Report, expires time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Attach request **%s** for %s: %s\n\n", r.ID, orgOf(r), verdictText(r.Assessment))
	b.WriteString(formatFacts(r.Facts))
	b.WriteString(precheckText(report))
	fmt.Fprintf(&b, "\nI sent an approval card to %s. Only their Approve starts provisioning; I'll tell you here when they answer. "+
		"The request expires on %s if nobody answers. `remind %s` sends the card again, `cancel %s` withdraws it.\n\n", Bold(r.Spec.AdminEmail), formatWhen(expires), r.ID, r.ID)
	b.WriteString(roleText(r.Assessment))
	if r.Facts.Managed.Value == Yes {
		fmt.Fprintf(&b, "\n\nNote: %s", ManagedNote)
	}
	return b.String()
}

// automaticText tells the partner that the attach is automatic: the verdict, the facts, the
// precheck (as the request's audit trail recorded it) and the predicted role. It is built
// from the request alone, so that it can be told with the submission's outcome, in one
// message, however often the submission is carried on.
func automaticText(r Request) string {
	var precheck string
	for _, a := range r.Audit {
		if a.Action == auditPrecheckPassed {
			precheck = "\nPrecheck: " + Literal(a.Detail) + "\n"
		}
	}
	text := fmt.Sprintf("Attach request **%s** for %s: %s\n\n%s%s\n%s", r.ID, orgOf(r), verdictText(r.Assessment),
		formatFacts(r.Facts), precheck, roleText(r.Assessment))
	if r.Facts.Managed.Value == Yes {
		text += "\n\nNote: " + ManagedNote
	}
	return text
}

// auditPrecheckPassed is the audit action that records a passed precheck; its detail is
// Webex's message and info.
const auditPrecheckPassed = "precheck passed"

// precheckDetail is what the audit trail keeps of a passed precheck: its message and info.
func precheckDetail(p Precheck) string {
	parts := []string{p.Message}
	for _, i := range p.Info {
		parts = append(parts, fmt.Sprintf("%s (info %d)", i.Description, i.Code))
	}
	return strings.Join(parts, "; ")
}

// submittedText tells the partner that Webex accepted the provisioning request. The ids are
// in `status`.
func submittedText(r Request) string {
	return fmt.Sprintf("Attach **%s** for %s is submitted: Webex accepted it and provisions it in the background. "+
		"I'll tell you here how it ends; `status %s` shows the details.", r.ID, orgOf(r), r.ID)
}

// approvalFallback is the text of the approval card for clients that cannot show cards.
func approvalFallback(r Request, expires time.Time) string {
	return fmt.Sprintf("%s asks to add Webex for Wholesale to your Webex organization (request %s). "+
		"Open this message in a Webex app to approve or decline by %s.", Literal(r.RequestedBy), r.ID, formatWhen(expires))
}

// stateText describes a request's state for people.
func stateText(s State) string {
	switch s {
	case StateAwaitingApproval:
		return "waiting for the customer admin's approval"
	case StateDeclined:
		return "declined by the customer admin"
	case StateExpired:
		return "expired without an answer"
	case StateWithdrawn:
		return "withdrawn"
	case StateSubmitting:
		return "being submitted to Webex"
	case StateRejected:
		return "refused by Webex"
	case StateDeleting:
		return "being deleted in Webex"
	case StateProvisioning:
		return "being provisioned by Webex"
	case StateUpdating:
		return "being updated by Webex"
	case StatePendingReview:
		return "in Cisco's compliance review"
	case StateProvisioned:
		return "provisioned"
	case StateProvisionedWithErrors:
		return "provisioned, with errors"
	case StateError:
		return "failed"
	default:
		return Code(string(s))
	}
}

// OrgIDText is an organization id as people read it: the UUID that Control Hub shows
// (Account), 36 characters that wrap at their hyphens, instead of the 88-character base64 id
// the API uses. An id that is not a Webex organization id is returned as it is.
func OrgIDText(id string) string {
	if uuid, ok := OrgUUID(id); ok {
		return uuid
	}
	return id
}

// StateText describes a request's state for people, as every message does: "failed",
// "provisioned, with errors", "waiting for the customer admin's approval".
func StateText(s State) string { return stateText(s) }

// formatRequestLine is a request in one line.
func formatRequestLine(r Request) string {
	return fmt.Sprintf("- **%s** %s (%s), %s, updated %s", r.ID, orgOf(r), Literal(r.Spec.AdminEmail), stateText(r.State), formatWhen(r.Updated))
}

// formatRequest is a request in full: state, history and audit trail. approvalTTL is how
// long a customer admin has to answer.
func formatRequest(r Request, approvalTTL time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Attach %s**: %s\n\n", r.ID, stateText(r.State))
	fmt.Fprintf(&b, "- Customer: %s\n- Organization id: %s\n- Customer admin: %s\n- Requested by %s on %s\n",
		orgOf(r), Code(r.Spec.OrgID), Literal(r.Spec.AdminEmail), Literal(r.RequestedBy), formatWhen(r.Created))
	fmt.Fprintf(&b, "- Template: %s\n- Packages: %s\n- externalId: %s\n", Literal(r.Spec.Template), Literal(PackageLabels(r.Spec.Packages)), Code(r.Spec.ExternalID))
	if r.CustomerID != "" {
		fmt.Fprintf(&b, "- Customer id: %s; Webex status: %s\n", Code(r.CustomerID), Code(r.WebexStatus))
	}
	if r.Role != "" {
		fmt.Fprintf(&b, "- Partner role in the organization: %s\n", Code(r.Role))
	}
	if r.State == StateAwaitingApproval && !r.ApprovalSent.IsZero() {
		fmt.Fprintf(&b, "- The customer admin can answer until %s\n", formatWhen(r.ApprovalSent.Add(approvalTTL)))
	}
	if r.DecidedBy != "" {
		fmt.Fprintf(&b, "- Decided by %s on %s", Literal(r.DecidedBy), formatWhen(r.DecidedAt))
		if r.Comment != "" {
			fmt.Fprintf(&b, ": “%s”", Literal(r.Comment))
		}
		b.WriteString("\n")
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "- Errors:\n%s\n", indent(formatDetails(r.Errors)))
	}
	fmt.Fprintf(&b, "\n**Facts**\n%s\n%s\n\n**Audit trail**\n", formatFacts(r.Facts), verdictText(r.Assessment))
	for _, a := range r.Audit {
		fmt.Fprintf(&b, "- %s %s: %s", formatWhen(a.At), Literal(a.Actor), Literal(a.Action))
		if a.Detail != "" {
			fmt.Fprintf(&b, " (%s)", Literal(a.Detail))
		}
		if a.TrackingID != "" {
			fmt.Fprintf(&b, " trackingId %s", Code(a.TrackingID))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// formatWhen formats a time for people.
func formatWhen(t time.Time) string { return t.UTC().Format(timeLayout) }

// FormatTime shows a time to people as every message and card does: "Mon 30 Nov 2026, 09:00
// UTC".
func FormatTime(t time.Time) string { return formatWhen(t) }

// PackageLabels names packages as people know them, from the one label table
// (Packages), joined with commas: "Webex Calling, Customer Assist". A name the table does not
// know is shown as it is.
func PackageLabels(names []string) string {
	labels := make([]string, len(names))
	for i, name := range names {
		labels[i] = name
		if p, ok := packageInfo(name); ok && p.Label != "" {
			labels[i] = p.Label
		}
	}
	return strings.Join(labels, ", ")
}

// wizardCustomer names the customer of a wizard's spec: its company name, else its
// organization id.
func wizardCustomer(s AttachSpec) string {
	if s.CustomerName != "" {
		return Bold(s.CustomerName)
	}
	return "the organization " + Code(OrgIDText(s.OrgID))
}

// wizardStepDone is the line that takes the place of a finished wizard step's card.
func wizardStepDone(step int, s AttachSpec) string {
	var what string
	switch step {
	case StepCustomer:
		what = "customer admin " + Literal(s.AdminEmail)
	case StepCompany:
		what = fmt.Sprintf("company %s, template %s", Bold(s.CustomerName), Literal(s.Template))
	case StepAddress:
		what = fmt.Sprintf("headquarters in %s, %s", Literal(s.Address.City), Literal(s.Address.Country))
	case StepPackages:
		what = "packages " + Literal(PackageLabels(s.Packages))
	}
	return fmt.Sprintf("Step %d of %d done: %s.", step, WizardSteps, what)
}
