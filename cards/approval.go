package cards

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"

	"attachbot/bot"
)

// Approval returns the card that asks the customer admin to approve an attach: who asks,
// for which organization and packages, why Webex needs the approval, what attaching means,
// an optional comment, and the Approve and Decline buttons.
func (*Builder) Approval(v bot.ApprovalView) (json.RawMessage, error) {
	r := v.Request
	if r.ID == "" {
		return nil, errors.New("approval card: the request has no id")
	}
	partner := cmp.Or(v.PartnerName, "Your Webex partner")
	body := []element{
		title("Approve adding Webex for Wholesale to your organization"),
		para(fmt.Sprintf("%s asks to add Webex for Wholesale services to your Webex organization. Nothing is added unless you approve.", partner)),
	}
	body = append(body, requestFacts(v, "Requested by")...)

	body = append(body, section("Why your approval is needed"))
	a := r.Assessment
	if len(a.Because) > 0 {
		body = append(body, para(fmt.Sprintf("Webex requires an admin's approval because your organization has %s.", joinAnd(a.Because, "and"))))
	}
	if len(a.Unknown) > 0 {
		body = append(body, para(fmt.Sprintf("%s cannot tell whether your organization has %s. Webex requires an admin's approval if it does, so yours is asked for.", partner, joinAnd(a.Unknown, "or"))))
	}
	if len(a.Because) == 0 && len(a.Unknown) == 0 {
		body = append(body, para("Webex requires an admin's approval before a partner adds Webex for Wholesale to an existing organization with 100 users or more, a verified email domain or a claimed domain."))
	}

	body = append(body, section("What attaching means for your organization"))
	body = append(body, bullets(bot.AttachConditions())...)
	body = append(body,
		section("Partner administrator access"),
		para(bot.ExternalAdminStep),
		inputText{
			ID: bot.InputComment, Label: "Comment (optional)", IsMultiline: true, MaxLength: bot.MaxCommentRunes,
			Placeholder: "A note for " + partner, Spacing: "medium",
		},
		note(expiryNote(v)),
	)
	return render(adaptiveCard{
		Body: body,
		Actions: []action{
			submit("Approve", "positive", v.Approve()),
			submit("Decline", "destructive", v.Decline()),
		},
	})
}

// expiryNote says until when the customer admin can answer.
func expiryNote(v bot.ApprovalView) string {
	if v.Expires.IsZero() {
		return "If you neither approve nor decline, the request expires and nothing is added."
	}
	return fmt.Sprintf("If you neither approve nor decline by %s, the request expires and nothing is added.", bot.FormatTime(v.Expires))
}

// FullAdminRequest returns the card that asks the customer admin to give the partner's
// administrators the Full Admin role: why, how, and a link to Control Hub. It needs no
// answer.
func (*Builder) FullAdminRequest(v bot.ApprovalView) (json.RawMessage, error) {
	r := v.Request
	if r.ID == "" {
		return nil, errors.New("full admin request card: the request has no id")
	}
	partner := cmp.Or(v.PartnerName, "Your Webex partner")
	body := []element{
		title("Please give your Webex partner Full Admin access"),
		para(fmt.Sprintf("%s added Webex for Wholesale to your Webex organization and asks for the Full Admin role in it.", partner)),
	}
	body = append(body, requestFacts(v, "Partner contact")...)
	body = append(body,
		section("Why"),
		para(bot.FullAdminAdvice),
		section("How"),
		para("In Control Hub, give the partner's administrators the Full Admin role for your organization."),
		note("Nothing changes until you do; you don't need to answer this message."),
	)
	return render(adaptiveCard{
		Body:    body,
		Actions: []action{actionOpenURL{Title: "Open Control Hub", URL: controlHubURL}},
	})
}

// requestFacts tells a customer admin what a request is about; requester names the partner
// admin who asked for the attach.
func requestFacts(v bot.ApprovalView, requester string) []element {
	r := v.Request
	var expires string
	if requester == "Requested by" && !v.Expires.IsZero() {
		expires = bot.FormatTime(v.Expires)
	}
	return facts(
		fact{"Partner", v.PartnerName},
		fact{requester, r.RequestedBy},
		fact{"Organization", orgName(v.OrgName, r.Spec)},
		fact{"Organization id", bot.OrgIDText(r.Spec.OrgID)},
		fact{"Packages", bot.PackageLabels(r.Spec.Packages)},
		fact{"Request", r.ID},
		fact{"Answer by", expires},
	)
}
