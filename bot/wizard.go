package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// The attach wizard mirrors Partner Hub's "Create wholesale customer" steps. Webex cannot
// edit a message that carries a card, so each step is a new card in the thread. What the
// earlier steps collected travels in the cards' Submit data as an opaque state; it is
// client-controlled, so the last step validates everything again before anything happens.

// StartWizard answers `attach` with no arguments: the wizard's first card.
func (b *Bot) StartWizard(ctx context.Context, t *Turn) error {
	return b.wizardCard(ctx, t, StepCustomer, AttachSpec{}, nil)
}

// WizardSubmit handles the Next of a wizard step: it validates the step's inputs and sends the
// next card, or the same card again with the problems.
func (b *Bot) WizardSubmit(ctx context.Context, t *Turn, step int, state string, a AttachmentAction) error {
	spec, err := decodeWizardState(state)
	if err != nil || step < StepCustomer || step >= StepReview {
		t.Reply(damagedWizard)
		return nil
	}
	var problems []string
	switch step {
	case StepCustomer:
		spec.AdminEmail = a.Input(InputAdminEmail)
		if !validEmail(spec.AdminEmail) {
			problems = append(problems, "the customer admin's email is not an email address")
		}
		if id, ok := NormalizeOrgID(a.Input(InputOrgID)); ok {
			spec.OrgID = id
		} else {
			spec.OrgID = a.Input(InputOrgID)
			problems = append(problems, "the organization id is not a Webex organization id: copy it from Control Hub > Account")
		}
	case StepCompany:
		if email := a.Input(InputAdminEmail); email != "" {
			spec.AdminEmail = email
		}
		spec.CustomerName, spec.Template = a.Input(InputCustomerName), a.Input(InputTemplate)
		if !validEmail(spec.AdminEmail) {
			problems = append(problems, "the customer admin's email is not an email address")
		}
		if spec.CustomerName == "" || strings.Contains(spec.CustomerName, "%") {
			problems = append(problems, "the company name is required and may not contain %")
		}
		problems = append(problems, b.resolveTemplate(&spec)...)
	case StepAddress:
		spec.Address = Address{
			Line1: a.Input(InputStreet), Line2: a.Input(InputStreet2), City: a.Input(InputCity),
			State: a.Input(InputState), Zip: a.Input(InputZip), Country: strings.ToUpper(a.Input(InputCountry)),
		}
		spec.LocationConfirmed = a.Input(InputLocationConfirmed) == "true"
		problems = append(problems, checkAddress("", spec.Address)...)
		if !spec.LocationConfirmed {
			problems = append(problems, `tick "I confirm this customer is in a Cisco Webex-supported location": Webex for Wholesale can only be attached where Webex is supported`)
		}
	case StepPackages:
		spec.Packages = nil
		for _, p := range strings.Split(a.Input(InputPackages), ",") {
			if p = strings.TrimSpace(p); p != "" {
				spec.Packages = append(spec.Packages, p)
			}
		}
		problems = append(problems, checkPackages(spec.Packages)...)
		spec.Calling = nil
		if needsCalling(spec.Packages) {
			spec.Calling = &CallingLocation{Name: a.Input(InputLocationName), Timezone: a.Input(InputTimezone), Language: a.Input(InputLanguage)}
			problems = append(problems, completeCalling(spec.Calling, spec.Address, spec.Language)...)
		}
		args := map[string]string{}
		for key, input := range map[string]string{
			"users": InputUsers, "verified-domain": InputVerifiedDomain, "claimed-domain": InputClaimedDomain,
			"trial": InputTrial, "inactive-licenses": InputInactiveLicenses,
		} {
			if v := a.Input(input); v != "" {
				args[key] = v
			}
		}
		declared, declaredProblems := declaredFrom(args, t.Actor.Email())
		spec.Declared = declared
		problems = append(problems, declaredProblems...)
	}
	// The submitted card can no longer act: the next card, or this step again with the
	// problems, takes its place.
	if len(problems) > 0 {
		t.ReplaceCard("")
		return b.wizardCard(ctx, t, step, spec, problems)
	}
	t.ReplaceCard(wizardStepDone(step, spec))
	return b.wizardCard(ctx, t, step+1, spec, nil)
}

// WizardCreate handles the review's Create customer: everything is validated again and the
// attach runs as `attach key=value …` would.
func (b *Bot) WizardCreate(ctx context.Context, t *Turn, state string) error {
	spec, err := decodeWizardState(state)
	if err != nil {
		t.Reply(damagedWizard)
		return nil
	}
	if spec.Declared != (Declared{}) {
		spec.Declared.By = t.Actor.Email()
	}
	t.ReplaceCard(fmt.Sprintf("You confirmed the summary for %s: creating the customer.", wizardCustomer(spec)))
	return b.Attach(ctx, t, spec)
}

// WizardCancel handles a wizard's Cancel.
func (b *Bot) WizardCancel(t *Turn) {
	t.ReplaceCard("Cancelled. Nothing was created. Type `attach` to start again.")
}

// wizardCard sends the card of a step. The review step first finds out the facts.
func (b *Bot) wizardCard(ctx context.Context, t *Turn, step int, spec AttachSpec, problems []string) error {
	state, err := encodeWizardState(spec)
	if err != nil {
		return err
	}
	v := WizardView{Step: step, State: state, Spec: spec, Templates: b.cfg.Templates, Packages: Packages(), Problems: problems, Countries: Countries()}
	if step >= StepCompany && spec.OrgID != "" {
		if org, err := b.partner.Organization(ctx, spec.OrgID); err == nil {
			v.OrgName = org.DisplayName
		} else if !unreadable(err) {
			return fmt.Errorf("read organization %s: %w", spec.OrgID, err)
		}
	}
	if step == StepReview {
		full, fullProblems := b.completeSpec(spec)
		if len(fullProblems) > 0 { // a tampered or stale state: show what is missing
			v.Problems = fullProblems
		}
		if full.ExternalID == "" {
			v.Spec.ExternalID = "" // generated on Create
		}
		req := full.CustomerRequest()
		if req.ExternalID == "" {
			req.ExternalID = "attachbot-precheck"
		}
		report, err := b.report(ctx, full.OrgID, full.Declared, &req)
		if err != nil {
			return err
		}
		v.Report = &report
	}
	card, err := b.cards.Wizard(v)
	if err != nil {
		return fmt.Errorf("build wizard step %d: %w", step, err)
	}
	t.ReplyCard(fmt.Sprintf("Create wholesale customer, step %d of %d. Open this message in a Webex app to fill in the card.", step, WizardSteps), card)
	return nil
}

func encodeWizardState(s AttachSpec) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encode wizard state: %w", err)
	}
	return string(b), nil
}

func decodeWizardState(state string) (AttachSpec, error) {
	var s AttachSpec
	if state == "" {
		return s, nil
	}
	if err := json.Unmarshal([]byte(state), &s); err != nil {
		return s, fmt.Errorf("decode wizard state: %w", err)
	}
	return s, nil
}
