package cards

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"attachbot/bot"
)

// The client-side checks of the wizard's inputs. The bot checks every value again; these
// only catch typing mistakes before a round trip. Each is valid in JavaScript and in Go.
const (
	emailRegex    = `^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$`
	orgIDRegex    = `^\s*[A-Za-z0-9+/=_-]{36,}\s*$` // a UUID or a base64 id
	noPercent     = `^[^%]*$`
	countryRegex  = `^\s*[A-Za-z]{2}\s*$`
	timezoneRegex = `^\s*[A-Za-z_]+(/[A-Za-z0-9_+-]+)+\s*$`
	languageRegex = `^\s*[A-Za-z]{2}([_-][A-Za-z]{2})?\s*$`

	maxLine = 50 // the wholesale API's limit for an address line and a location name

	// locationTitle is Partner Hub's wording of the supported-location tick.
	locationTitle = "I confirm this customer is in a Cisco Webex-supported location"
	// unknownChoice is the value of a declared fact's "Don't know": the official parser
	// rejects an empty choice value, and the bot reads "unknown" as not declared.
	unknownChoice = "unknown"
)

// stepNames name the wizard's steps, by bot.Step*, after Partner Hub's screens.
var stepNames = [...]string{
	bot.StepCustomer: "Customer email and organization",
	bot.StepCompany:  "Customer information",
	bot.StepAddress:  "Headquarters location",
	bot.StepPackages: "Packages, calling location and declared facts",
	bot.StepReview:   "Review the customer summary",
}

// Wizard returns the card of step v.Step of the attach wizard: the problems of the last
// submission first, then the step's inputs prefilled from v.Spec, then Next and Cancel.
// The review step shows the summary and the eligibility report, and Create customer instead
// of Next when the attach can go ahead.
func (*Builder) Wizard(v bot.WizardView) (json.RawMessage, error) {
	if v.Step < bot.StepCustomer || v.Step > bot.StepReview {
		return nil, fmt.Errorf("wizard step %d: the steps are %d to %d", v.Step, bot.StepCustomer, bot.StepReview)
	}
	body := []element{
		title(fmt.Sprintf("Create wholesale customer — step %d of %d", v.Step, bot.WizardSteps)),
		textBlock{Text: stepNames[v.Step], IsSubtle: true, Wrap: true, Spacing: "none"},
	}
	body = append(body, problems(v.Problems)...)
	var actions []action
	switch v.Step {
	case bot.StepCustomer:
		body = append(body, customerStep(v)...)
	case bot.StepCompany:
		body = append(body, companyStep(v)...)
	case bot.StepAddress:
		body = append(body, addressStep(v)...)
	case bot.StepPackages:
		body = append(body, packagesStep(v)...)
	case bot.StepReview:
		review, canCreate := reviewStep(v)
		body = append(body, review...)
		if canCreate {
			actions = append(actions, submit("Create customer", "positive", v.Create()))
		}
	}
	if v.Step < bot.StepReview {
		actions = append(actions, submit("Next", "positive", v.Next()))
	}
	// Cancel submits no inputs, so empty required inputs do not hold it back.
	cancel := submit("Cancel", "", v.Cancel())
	cancel.AssociatedInputs = "none"
	actions = append(actions, cancel)
	return render(adaptiveCard{Body: body, Actions: actions})
}

// adminEmailInput is the customer admin's email, on steps 1 and 2.
func adminEmailInput(value string) inputText {
	return inputText{
		ID: bot.InputAdminEmail, Label: "Customer admin email", Style: "email",
		Placeholder: "admin@customer.example", Value: value,
		IsRequired: true, Regex: emailRegex,
		ErrorMessage: "Enter the customer admin's email address, such as admin@customer.example.",
	}
}

// customerStep is step 1: who the customer admin is and which organization gets wholesale.
func customerStep(v bot.WizardView) []element {
	return []element{
		para("Attach Webex for Wholesale to an existing Webex organization. Start with the customer admin's email address and the organization id."),
		adminEmailInput(v.Spec.AdminEmail),
		inputText{
			ID: bot.InputOrgID, Label: "Organization id", Placeholder: "UUID or base64 id",
			Value: v.Spec.OrgID, IsRequired: true, Regex: orgIDRegex,
			ErrorMessage: "Enter the organization id from Control Hub > Account: the UUID or the base64 id.",
		},
		note("Control Hub > Account; the base64 id or the UUID"),
	}
}

// companyStep is step 2: the customer admin's email again, the company name and the
// onboarding template.
func companyStep(v bot.WizardView) []element {
	body := facts(
		fact{"Organization", v.OrgName},
		fact{"Organization id", bot.OrgIDText(v.Spec.OrgID)},
	)
	name := v.Spec.CustomerName
	if name == "" {
		name = v.OrgName // the organization keeps its name; the company name usually matches it
	}
	body = append(body,
		adminEmailInput(v.Spec.AdminEmail),
		inputText{
			ID: bot.InputCustomerName, Label: "Company name", Placeholder: "The customer's company name",
			Value: name, IsRequired: true, Regex: noPercent,
			ErrorMessage: "Enter the company name. It cannot contain %.",
		},
	)
	if len(v.Templates) > 0 {
		choices := make([]choice, len(v.Templates))
		for i, t := range v.Templates {
			choices[i] = choice{Title: t.Name, Value: t.Name}
		}
		body = append(body, inputChoiceSet{
			ID: bot.InputTemplate, Label: "Onboarding template", Choices: choices, Style: "compact",
			Placeholder: "Choose a template", Value: v.Spec.Template, Wrap: true,
			IsRequired: true, ErrorMessage: "Choose the onboarding template to apply.",
		})
	} else { // no template configured: the provisioningId itself
		body = append(body, inputText{
			ID: bot.InputTemplate, Label: "Onboarding template (provisioningId)",
			Placeholder: "Partner Hub > Onboarding templates", Value: v.Spec.Template,
			IsRequired: true, ErrorMessage: "Enter the provisioningId of a wholesale onboarding template (Partner Hub > Onboarding templates).",
		})
	}
	return append(body, note(bot.TemplatePrerequisite))
}

// addressStep is step 3: the headquarters address and the supported-location tick.
func addressStep(v bot.WizardView) []element {
	a := v.Spec.Address
	line := func(id, label, value string, required bool) inputText {
		in := inputText{ID: id, Label: label, Value: value, MaxLength: maxLine}
		if required {
			in.IsRequired = true
			in.ErrorMessage = fmt.Sprintf("Enter the %s (at most %d characters).", strings.ToLower(label), maxLine)
		}
		return in
	}
	confirmed := "false"
	if v.Spec.LocationConfirmed {
		confirmed = "true"
	}
	return []element{
		para(fmt.Sprintf("The customer's headquarters. Each line takes at most %d characters.", maxLine)),
		line(bot.InputStreet, "Street address", a.Line1, true),
		line(bot.InputStreet2, "Street address, line 2", a.Line2, false),
		line(bot.InputCity, "City", a.City, true),
		line(bot.InputState, "State or province", a.State, false),
		line(bot.InputZip, "ZIP or postal code", a.Zip, false),
		countryInput(v.Countries, a.Country),
		inputToggle{
			ID: bot.InputLocationConfirmed, Label: "Supported location", Title: locationTitle,
			Value: confirmed, ValueOn: "true", ValueOff: "false", Wrap: true, Spacing: "medium",
			IsRequired:   true,
			ErrorMessage: "Webex for Wholesale can only be attached where Webex is supported: tick the box to confirm the customer is in a supported location.",
		},
	}
}

// countryInput is a drop-down of the accepted countries by name, or, when the view names
// none, a two-letter code to type.
func countryInput(codes []string, value string) element {
	if len(codes) == 0 {
		return inputText{
			ID: bot.InputCountry, Label: "Country (ISO code)", Placeholder: "US, GB, DK, ...",
			Value: value, IsRequired: true, Regex: countryRegex,
			ErrorMessage: "Enter the country's two-letter ISO 3166 code, such as US, GB or DK.",
		}
	}
	choices := make([]choice, 0, len(codes))
	for _, c := range countryNames {
		if slices.Contains(codes, c.code) {
			choices = append(choices, choice{Title: fmt.Sprintf("%s (%s)", c.name, c.code), Value: c.code})
		}
	}
	for _, code := range codes { // accepted codes without a name: last, as they are
		if !slices.ContainsFunc(countryNames, func(c country) bool { return c.code == code }) {
			choices = append(choices, choice{Title: code, Value: code})
		}
	}
	return inputChoiceSet{
		ID: bot.InputCountry, Label: "Country", Choices: choices, Style: "compact",
		Placeholder: "Choose a country", Value: value,
		IsRequired: true, ErrorMessage: "Choose the country.",
	}
}

// packagesStep is step 4: the packages, the calling location and the declared facts.
func packagesStep(v bot.WizardView) []element {
	choices := make([]choice, len(v.Packages))
	var calling, needs []string
	for i, p := range v.Packages {
		choices[i] = choice{Title: p.Label, Value: p.Name}
		if p.Calling {
			calling = append(calling, p.Label)
		}
		if len(p.Requires) > 0 {
			needs = append(needs, fmt.Sprintf("%s needs one of %s as well.", p.Label, joinAnd(packageLabels(p.Requires, v.Packages), "or")))
		}
	}
	body := []element{
		inputChoiceSet{
			ID: bot.InputPackages, Label: "Packages", Choices: choices, Style: "expanded",
			IsMultiSelect: true, Value: strings.Join(v.Spec.Packages, ","), Wrap: true,
			IsRequired: true, ErrorMessage: "Choose at least one package.",
		},
	}
	for _, n := range needs {
		body = append(body, note(n))
	}

	var loc bot.CallingLocation
	if v.Spec.Calling != nil {
		loc = *v.Spec.Calling
	}
	callingNote := "Calling packages need a calling location, at the headquarters address."
	if len(calling) > 0 {
		callingNote = fmt.Sprintf("Calling packages (%s) need a calling location, at the headquarters address.", strings.Join(calling, ", "))
	}
	body = append(body,
		section("Calling location"),
		para(callingNote+" Leave a field empty for its default: the name Headquarters, the country's language, and its time zone if the country has only one."),
		inputText{ID: bot.InputLocationName, Label: "Location name", Placeholder: "Headquarters", Value: loc.Name, MaxLength: maxLine},
		inputText{
			ID: bot.InputTimezone, Label: "Time zone", Placeholder: "America/Los_Angeles", Value: loc.Timezone,
			Regex: timezoneRegex, ErrorMessage: "Enter a time zone such as America/Los_Angeles or Europe/Copenhagen.",
		},
		inputText{
			ID: bot.InputLanguage, Label: "Language", Placeholder: "en_us", Value: loc.Language,
			Regex: languageRegex, ErrorMessage: "Enter a language code such as en_us or da_dk.",
		},
	)

	d := v.Spec.Declared
	body = append(body,
		section("Declared facts"),
		para("No Webex API can read these, so you declare them; your answers are recorded with your email. Choose Don't know when unsure: an unknown approval criterion means the customer admin is asked to approve."),
		declaredInput(bot.InputUsers, "100 users or more?", d.Users),
		note("Counted through the API when the partner can read the organization's people; an answer here replaces the count."),
		declaredInput(bot.InputVerifiedDomain, "Verified email domain?", d.VerifiedDomain),
		declaredInput(bot.InputClaimedDomain, "Claimed domain?", d.ClaimedDomain),
		declaredInput(bot.InputTrial, "Is it a trial organization?", d.Trial),
		note(bot.TrialRule),
		declaredInput(bot.InputInactiveLicenses, "Only suspended or canceled licenses?", d.InactiveLicensesOnly),
		note("With no licenses, or only suspended or canceled ones, the partner becomes Full Admin of the organization; otherwise Provisioning Admin."),
	)
	return body
}

// declaredInput asks for one declared fact: Yes, No or Don't know.
func declaredInput(id, label string, value bot.Tri) inputChoiceSet {
	v := string(value)
	if value == bot.Unknown {
		v = unknownChoice
	}
	return inputChoiceSet{
		ID: id, Label: label, Style: "compact", Value: v, Spacing: "medium",
		Choices: []choice{
			{Title: "Yes", Value: string(bot.Yes)},
			{Title: "No", Value: string(bot.No)},
			{Title: "Don't know", Value: unknownChoice},
		},
	}
}

// reviewStep is step 5: the summary, the eligibility report, what to do before creating and
// the conditions. It reports whether the attach can go ahead: not when the submitted state
// has problems, nor when the organization is a trial or already a wholesale customer, which
// the bot would refuse anyway.
func reviewStep(v bot.WizardView) ([]element, bool) {
	s := v.Spec
	name := v.OrgName
	if name == "" && v.Report != nil {
		name = v.Report.OrgName
	}
	var hq string
	if s.Address != (bot.Address{}) {
		hq = formatAddress(s.Address)
	}
	confirmed := "Not confirmed"
	if s.LocationConfirmed {
		confirmed = "Confirmed"
	}
	body := []element{section("Customer summary")}
	body = append(body, facts(
		fact{"Organization", name},
		fact{"Organization id", bot.OrgIDText(s.OrgID)},
		fact{"Customer admin", s.AdminEmail},
		fact{"Company name", s.CustomerName},
		fact{"Template", s.Template},
		fact{"Packages", strings.Join(packageLabels(s.Packages, v.Packages), ", ")},
		fact{"Headquarters", hq},
		fact{"Supported location", confirmed},
		fact{"External id", s.ExternalID},
	)...)
	if c := s.Calling; c != nil {
		var where string
		if c.Address != (bot.Address{}) && c.Address != s.Address {
			where = formatAddress(c.Address)
		}
		body = append(body, textBlock{Text: "Calling location", Weight: "bolder", Wrap: true, Spacing: "medium"})
		body = append(body, facts(
			fact{"Name", c.Name},
			fact{"Address", where},
			fact{"Time zone", c.Timezone},
			fact{"Language", c.Language},
		)...)
	}

	if len(v.Problems) > 0 { // a stale or tampered state: the problems are at the top
		return append(body, cannotCreate()), false
	}
	blocked := false
	if r := v.Report; r != nil {
		var report []element
		report, blocked = reportElements(*r, s.AdminEmail)
		body = append(body, report...)
	} else {
		body = append(body, section("Eligibility"), note("Checked when you create the customer."))
	}
	if blocked {
		return append(body, cannotCreate()), false
	}

	body = append(body, section("Before you create"))
	body = append(body, bullets([]string{bot.TemplatePrerequisite, bot.ExternalAdminStep})...)
	conditions := append([]element{para("Conditions of attaching an organization:")}, bullets(bot.AttachConditions())...)
	body = append(body, actionSet{
		Actions: []action{actionShowCard{Title: "Conditions of attaching", Card: adaptiveCard{Body: conditions}}},
	})
	return body, true
}

// cannotCreate ends a review that cannot go ahead.
func cannotCreate() textBlock {
	t := colored("attention", "Nothing can be created from this review. Cancel it, and start a new attach from the space.")
	t.Spacing = "medium"
	return t
}

// reportElements shows an eligibility report: each criterion with its value and source, then
// why the organization cannot be attached (a trial, already a wholesale customer), or else the
// verdict and the predicted role, then the precheck. It reports whether the attach is blocked.
func reportElements(r bot.Report, admin string) ([]element, bool) {
	f := r.Facts
	criterion := func(name string, x bot.Fact) fact { return fact{name, factValue(x)} }
	body := []element{section("Eligibility")}
	body = append(body, facts(
		criterion("100 users or more", f.Users),
		criterion("Verified email domain", f.VerifiedDomain),
		criterion("Claimed domain", f.ClaimedDomain),
		criterion("Trial organization", f.Trial),
		criterion("Has licenses", f.Licenses),
		criterion("Only suspended or canceled licenses", f.InactiveLicensesOnly),
		criterion("Already managed by this partner", f.Managed),
	)...)

	a := r.Assessment
	blocked := a.Trial || len(r.Existing) > 0
	switch {
	case a.Trial:
		body = append(body, colored("attention", "Cannot be attached: it is declared a trial organization."), para(bot.TrialRule))
	case len(r.Existing) > 0:
		for _, c := range r.Existing {
			body = append(body, colored("attention", fmt.Sprintf("Cannot be attached: it already is a wholesale customer (status %s, external id %s, customer id %s).", c.Status, c.ExternalID, c.ID)))
		}
	default:
		body = append(body, verdict(a, admin)...)
		body = append(body, para("Not a wholesale customer yet."))
	}

	switch {
	case r.Precheck != nil:
		body = append(body, para("Webex precheck: "+cmp.Or(r.Precheck.Message, "passed")))
		for _, i := range r.Precheck.Info {
			body = append(body, note(fmt.Sprintf("• %s (info %d)", i.Description, i.Code)))
		}
	case r.PrecheckFailed():
		body = append(body, colored("attention", fmt.Sprintf("Webex precheck refused (HTTP %d):", r.PrecheckStatus)))
		body = append(body, bullets(errorLines(r.PrecheckErrors))...)
		if r.PrecheckTracking != "" {
			body = append(body, note("TrackingId for Cisco support: "+r.PrecheckTracking))
		}
		if !blocked {
			body = append(body, note("Create customer runs the precheck again, so fix the cause first."))
		}
	case r.PrecheckSkipped != "":
		body = append(body, para(fmt.Sprintf("Webex precheck not run: %s.", r.PrecheckSkipped)))
	}
	if f.Managed.Value == bot.Yes && !blocked {
		body = append(body, note(bot.ManagedNote))
	}
	return body, blocked
}

// factValue is a criterion's value in words, with where it came from: read from Webex,
// declared by someone, or unknown (and how it becomes known, in the wizard's terms).
func factValue(x bot.Fact) string {
	switch {
	case x.Value == bot.Unknown && strings.Contains(x.Source, "declare"):
		return "Unknown: Webex does not tell; declare it in step 4"
	case x.Value == bot.Unknown:
		return "Unknown: Webex does not tell"
	case strings.HasPrefix(x.Source, "declared by "):
		by, _, _ := strings.Cut(strings.TrimPrefix(x.Source, "declared by "), " ")
		return fmt.Sprintf("%s, declared by %s", triText(x.Value), by)
	}
	return triText(x.Value) + ", read from Webex"
}

// verdict says whether the customer admin must approve, and the partner's predicted role.
func verdict(a bot.Assessment, admin string) []element {
	var body []element
	if a.ApprovalRequired {
		body = append(body, colored("warning", fmt.Sprintf("The customer admin must approve: an approval card goes to %s.", admin)))
		if len(a.Because) > 0 {
			body = append(body, para(fmt.Sprintf("Because the organization has %s.", joinAnd(a.Because, "and"))))
		}
		if len(a.Unknown) > 0 {
			body = append(body, para(fmt.Sprintf("Nobody knows whether it has %s, so approval is the safe side.", joinAnd(a.Unknown, "or"))))
		}
		if len(a.Because) == 0 {
			body = append(body, note("If it is known to have none of them, the attach can be automatic: declare them in step 4 of a new attach."))
		}
		body = append(body, note("Only the customer admin's Approve starts provisioning."))
	} else {
		body = append(body, colored("good", "Automatic attach"),
			para("None of the approval criteria holds: the wholesale subscription is added without notifying the organization's admin or users."))
	}
	if a.Role == bot.RoleFullAdmin {
		return append(body, para("Predicted partner role: Full Admin (the organization has no licenses, or only suspended or canceled ones)."))
	}
	return append(body,
		para(fmt.Sprintf("Predicted partner role: %s.", cmp.Or(string(a.Role), string(bot.RoleProvisioningAdmin)))),
		note(bot.FullAdminAdvice))
}

// errorLines lists Webex error details for people.
func errorLines(details []bot.ErrorDetail) []string {
	lines := make([]string, len(details))
	for i, d := range details {
		lines[i] = errorLine(d)
	}
	return lines
}

// errorLine is one Webex error detail for people.
func errorLine(d bot.ErrorDetail) string {
	if d.Code != 0 {
		return fmt.Sprintf("%s (code %d)", d.Description, d.Code)
	}
	return d.Description
}
