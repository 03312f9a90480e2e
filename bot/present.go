package bot

import (
	"fmt"
	"strings"
	"time"
)

// The texts people read: reports, notices and request summaries, in Webex markdown.

const timeLayout = "2006-01-02 15:04 MST"

// orgLabel names the organization of a report.
func orgLabel(r Report) string {
	if r.OrgName != "" {
		return fmt.Sprintf("**%s** (`%s`)", r.OrgName, r.OrgID)
	}
	return fmt.Sprintf("`%s`", r.OrgID)
}

// orgOf names the organization of a request.
func orgOf(r Request) string {
	if r.Spec.CustomerName != "" {
		return fmt.Sprintf("%s, `%s`", r.Spec.CustomerName, r.Spec.OrgID)
	}
	return fmt.Sprintf("`%s`", r.Spec.OrgID)
}

// formatDetails lists Webex error details.
func formatDetails(details []ErrorDetail) string {
	var b strings.Builder
	for _, d := range details {
		if d.Code != 0 {
			fmt.Fprintf(&b, "- %s (code %d)\n", d.Description, d.Code)
		} else {
			fmt.Fprintf(&b, "- %s\n", d.Description)
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
		fmt.Fprintf(&b, "- %s: **%s** (%s)\n", x.name, x.fact.Value, x.fact.Source)
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
			fmt.Fprintf(&b, "\nAlready a wholesale customer: status `%s`, externalId `%s`, customer id `%s`. It cannot be attached again.\n", c.Status, c.ExternalID, c.ID)
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
		fmt.Fprintf(&b, "\nPrecheck: %s", r.Precheck.Message)
		for _, i := range r.Precheck.Info {
			fmt.Fprintf(&b, "\n- %s (info %d)", i.Description, i.Code)
		}
		b.WriteString("\n")
	case r.PrecheckFailed():
		fmt.Fprintf(&b, "\nPrecheck refused (HTTP %d):\n%s\nTrackingId for Cisco support: `%s`\n", r.PrecheckStatus, formatDetails(r.PrecheckErrors), r.PrecheckTracking)
	case r.PrecheckSkipped != "":
		fmt.Fprintf(&b, "\nPrecheck not run: %s.\n", r.PrecheckSkipped)
	}
	return b.String()
}

// approvalAskedText tells the partner that the customer admin was asked.
func approvalAskedText(r Request, report Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Attach request **%s** for %s: %s\n\n", r.ID, orgLabel(report), verdictText(r.Assessment))
	b.WriteString(formatFacts(r.Facts))
	b.WriteString(precheckText(report))
	fmt.Fprintf(&b, "\nI sent an approval card to **%s**. Only their Approve starts provisioning; I'll tell you here when they answer. "+
		"The request expires if nobody answers. `remind %s` sends the card again, `cancel %s` withdraws it.\n\n", r.Spec.AdminEmail, r.ID, r.ID)
	b.WriteString(roleText(r.Assessment))
	if r.Facts.Managed.Value == Yes {
		fmt.Fprintf(&b, "\n\nNote: %s", ManagedNote)
	}
	return b.String()
}

// automaticText tells the partner that the attach is automatic.
func automaticText(r Request, report Report) string {
	text := fmt.Sprintf("Attach request **%s** for %s: %s\n\n%s%s\n%s", r.ID, orgLabel(report), verdictText(r.Assessment),
		formatFacts(r.Facts), precheckText(report), roleText(r.Assessment))
	if r.Facts.Managed.Value == Yes {
		text += "\n\nNote: " + ManagedNote
	}
	return text
}

// submittedText tells the partner that Webex accepted the provisioning request.
func submittedText(r Request) string {
	return fmt.Sprintf("Attach **%s** submitted: Webex accepted the provisioning of %s (customer id `%s`, externalId `%s`). "+
		"Provisioning runs in the background; I'll tell you here how it ends.", r.ID, orgOf(r), r.CustomerID, r.Spec.ExternalID)
}

// approvalFallback is the text of the approval card for clients that cannot show cards.
func approvalFallback(r Request) string {
	return fmt.Sprintf("%s asks to add Webex for Wholesale to your Webex organization (request %s). "+
		"Open this message in a Webex app to approve or decline.", r.RequestedBy, r.ID)
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
		return "being deleted in Webex (`deleting`)"
	default:
		return "`" + string(s) + "`"
	}
}

// formatRequestLine is a request in one line.
func formatRequestLine(r Request) string {
	return fmt.Sprintf("- **%s** %s (%s), %s, updated %s", r.ID, orgOf(r), r.Spec.AdminEmail, stateText(r.State), r.Updated.UTC().Format(timeLayout))
}

// formatRequest is a request in full: state, history and audit trail.
func formatRequest(r Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Attach %s**: %s\n\n", r.ID, stateText(r.State))
	fmt.Fprintf(&b, "- Organization: %s\n- Customer admin: %s\n- Requested by %s on %s\n", orgOf(r), r.Spec.AdminEmail, r.RequestedBy, r.Created.UTC().Format(timeLayout))
	fmt.Fprintf(&b, "- Template: %s\n- Packages: %s\n- externalId: `%s`\n", r.Spec.Template, strings.Join(r.Spec.Packages, ", "), r.Spec.ExternalID)
	if r.CustomerID != "" {
		fmt.Fprintf(&b, "- Customer id: `%s`; Webex status: `%s`\n", r.CustomerID, r.WebexStatus)
	}
	if r.Role != "" {
		fmt.Fprintf(&b, "- Partner role in the organization: `%s`\n", r.Role)
	}
	if r.DecidedBy != "" {
		fmt.Fprintf(&b, "- Decided by %s on %s", r.DecidedBy, r.DecidedAt.UTC().Format(timeLayout))
		if r.Comment != "" {
			fmt.Fprintf(&b, ": “%s”", r.Comment)
		}
		b.WriteString("\n")
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "- Errors:\n%s\n", indent(formatDetails(r.Errors)))
	}
	fmt.Fprintf(&b, "\n**Facts**\n%s\n%s\n\n**Audit trail**\n", formatFacts(r.Facts), verdictText(r.Assessment))
	for _, a := range r.Audit {
		fmt.Fprintf(&b, "- %s %s: %s", a.At.UTC().Format(timeLayout), a.Actor, a.Action)
		if a.Detail != "" {
			fmt.Fprintf(&b, " (%s)", a.Detail)
		}
		if a.TrackingID != "" {
			fmt.Fprintf(&b, " trackingId `%s`", a.TrackingID)
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
