package cards_test

import (
	"encoding/json"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/cards"
)

// The sample data of the golden cards: a partner, Example Telecom, attaches Webex Calling and
// Webex Meetings to Small Shop ApS, an existing organization in Denmark.
const (
	sampleOrgID   = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8zZjljMmExZS04YjdkLTRjNmEtOWUyZi0xYTJiM2M0ZDVlNmY"
	sampleOrgName = "Small Shop ApS"
	sampleAdmin   = "admin@smallshop.example"
	samplePartner = "Example Telecom"
	sampleAnn     = "ann@partner.example"
	sampleID      = "K7QX3M"
)

var sampleTemplates = []bot.Template{
	{Name: "Standard", ProvisioningID: "ZjVhYjYxNWItOTFmNy00ZDQ0LWI1OTYtOGZkYjlhNTM0NWQy"},
	{Name: "Calling only", ProvisioningID: "YTljNGRkYzEtNGFmYi00ZWUwLWE1ZjYtMzFlZGQ2YjMwNGQ1"},
}

// sampleSpec is a complete attach request, as the wizard's review step sees it.
func sampleSpec() bot.AttachSpec {
	hq := bot.Address{Line1: "Nørregade 12", Line2: "2. sal", City: "København K", Zip: "1165", Country: "DK"}
	return bot.AttachSpec{
		OrgID:          sampleOrgID,
		AdminEmail:     sampleAdmin,
		CustomerName:   sampleOrgName,
		Template:       "Standard",
		ProvisioningID: sampleTemplates[0].ProvisioningID,
		Packages:       []string{"webex_calling", "webex_meetings"},
		Address:        hq,
		Calling: &bot.CallingLocation{
			Name: "Headquarters", Address: hq, Timezone: "Europe/Copenhagen", Language: "da_dk",
		},
		Declared:          bot.Declared{Users: bot.Yes, VerifiedDomain: bot.No, Trial: bot.No, By: sampleAnn},
		LocationConfirmed: true,
	}
}

// stateOf is the wizard state of a spec, as the bot encodes it.
func stateOf(t *testing.T, s bot.AttachSpec) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("encode the wizard state: %v", err)
	}
	return string(b)
}

// wizardView is the view of a wizard step for spec, with the bot's lists.
func wizardView(t *testing.T, step int, spec bot.AttachSpec) bot.WizardView {
	t.Helper()
	return bot.WizardView{
		Step: step, State: stateOf(t, spec), Spec: spec,
		Templates: sampleTemplates, Packages: bot.Packages(), Countries: bot.Countries(),
	}
}

// approvalFacts are facts of mixed sources that need the customer admin's approval: 100
// users or more is declared, a claimed domain is unknown.
func approvalFacts() bot.Facts {
	declared := "declared by " + sampleAnn
	return bot.Facts{
		Users:                bot.Fact{Value: bot.Yes, Source: declared},
		VerifiedDomain:       bot.Fact{Value: bot.No, Source: declared},
		ClaimedDomain:        bot.Fact{Value: bot.Unknown, Source: "no Webex API can read it; declare claimed-domain=yes|no"},
		Trial:                bot.Fact{Value: bot.No, Source: declared},
		Licenses:             bot.Fact{Value: bot.Yes, Source: "GET /licenses?orgId= lists 3 licenses"},
		InactiveLicensesOnly: bot.Fact{Value: bot.Unknown, Source: "no Webex API can read it; declare inactive-licenses=yes|no"},
		Managed:              bot.Fact{Value: bot.No, Source: "GET /organizations/{orgId} answered 403"},
	}
}

// automaticFacts are facts that allow an automatic attach with Full Admin, for an
// organization the partner already manages.
func automaticFacts() bot.Facts {
	declared := "declared by " + sampleAnn
	return bot.Facts{
		Users:                bot.Fact{Value: bot.No, Source: "GET /people?orgId= counted 12 users"},
		VerifiedDomain:       bot.Fact{Value: bot.No, Source: declared},
		ClaimedDomain:        bot.Fact{Value: bot.No, Source: declared},
		Trial:                bot.Fact{Value: bot.No, Source: declared},
		Licenses:             bot.Fact{Value: bot.No, Source: "GET /licenses?orgId= lists no licenses"},
		InactiveLicensesOnly: bot.Fact{Value: bot.Unknown, Source: "no Webex API can read it; declare inactive-licenses=yes|no"},
		Managed:              bot.Fact{Value: bot.Yes, Source: "GET /organizations/{orgId} answered 200: the partner already manages it"},
	}
}

// precheckPassed is Webex's answer to a precheck that passed.
func precheckPassed() *bot.Precheck {
	return &bot.Precheck{
		Message:    "success",
		Info:       []bot.PrecheckInfo{{Code: 100, Description: "Provisioning preCheck validation successful."}},
		TrackingID: "ROUTER_6655A1B2-0C3D-4E5F-8A9B-0C1D2E3F4A5B",
	}
}

// sampleRequest is the attach request the customer admin is asked to approve.
func sampleRequest() bot.Request {
	created := time.Date(2026, 5, 12, 9, 30, 0, 0, time.UTC)
	spec := sampleSpec()
	spec.ExternalID = "attachbot-k7qx3m"
	f := approvalFacts()
	return bot.Request{
		ID: sampleID, Source: "msg/Y2lzY29zcGFyazovL3VzL01FU1NBR0UvOTk", Created: created, Updated: created,
		State: bot.StateAwaitingApproval, RequestedBy: sampleAnn,
		Spec: spec, Facts: f, Assessment: bot.Assess(f), ApprovalSent: created,
	}
}

// provisionedRequest is the sample request once Webex has provisioned it.
func provisionedRequest() bot.Request {
	r := sampleRequest()
	r.State, r.WebexStatus = bot.StateProvisioned, "provisioned"
	r.CustomerID = "Y2lzY29zcGFyazovL3VzL0NVU1RPTUVSLzdiMmU0ZjZhLTFjM2QtNGU1Zi05YTBiLTFjMmQzZTRmNWE2Yg"
	r.DecidedBy, r.DecidedAt = sampleAdmin, r.Created.Add(2*time.Hour)
	r.Role = "atlas-portal.partner.provision_admin"
	return r
}

// cardCase is one golden card: testdata/<name>.json.
type cardCase struct {
	name  string
	build func(c bot.Cards) (json.RawMessage, error)
}

// cardCases are every card and wizard step, and the variants that matter.
func cardCases(t *testing.T) []cardCase {
	t.Helper()
	wizard := func(v bot.WizardView) func(bot.Cards) (json.RawMessage, error) {
		return func(c bot.Cards) (json.RawMessage, error) { return c.Wizard(v) }
	}

	step1Problems := wizardView(t, bot.StepCustomer, bot.AttachSpec{AdminEmail: "admin@smallshop", OrgID: "3f9c2a1e-8b7d"})
	step1Problems.Problems = []string{
		"the customer admin's email is not an email address",
		"the organization id is not a Webex organization id: copy it from Control Hub > Account",
	}

	company := sampleSpec()
	company.CustomerName, company.Template = "", ""
	company.Address, company.Calling, company.Packages = bot.Address{}, nil, nil
	company.Declared, company.LocationConfirmed = bot.Declared{}, false
	step2 := wizardView(t, bot.StepCompany, company)
	step2.OrgName = sampleOrgName
	step2NoTemplates := wizardView(t, bot.StepCompany, company)
	step2NoTemplates.Templates = nil

	address := company
	address.CustomerName, address.Template, address.ProvisioningID = sampleOrgName, "Standard", sampleTemplates[0].ProvisioningID
	address.Address = bot.Address{Country: "DK"}
	step3 := wizardView(t, bot.StepAddress, address)
	step3.OrgName = sampleOrgName

	packages := sampleSpec()
	packages.Calling = nil
	packages.Declared = bot.Declared{}
	packages.Packages = nil
	step4 := wizardView(t, bot.StepPackages, packages)
	step4.OrgName = sampleOrgName
	step4Problems := wizardView(t, bot.StepPackages, sampleSpec())
	step4Problems.Spec.Packages = []string{"attendant_console", "webex_meetings"}
	step4Problems.Problems = []string{"package attendant_console (Attendant Console) needs one of webex_calling (Webex Calling), webex_suite (Webex Suite) or cx_essentials (Customer Assist) as well: add one of them to packages"}

	review := func(f bot.Facts, modify func(*bot.Report)) bot.WizardView {
		v := wizardView(t, bot.StepReview, sampleSpec())
		r := &bot.Report{OrgID: sampleOrgID, Facts: f, Assessment: bot.Assess(f), Precheck: precheckPassed()}
		if f.Managed.Value == bot.Yes {
			r.OrgName = sampleOrgName
			v.OrgName = sampleOrgName
		}
		if modify != nil {
			modify(r)
		}
		v.Report = r
		return v
	}
	reviewRefused := review(automaticFacts(), func(r *bot.Report) {
		r.Precheck = nil
		r.Existing = []bot.Customer{{ID: "Y2lzY29zcGFyazovL3VzL0NVU1RPTUVSLzFhMmIzYzRk", OrgID: sampleOrgID, ExternalID: "shop-0042", Status: "provisioned"}}
		r.PrecheckStatus, r.PrecheckTracking = 400, "ROUTER_1A2B3C4D-5E6F-4A7B-8C9D-0E1F2A3B4C5D"
		r.PrecheckErrors = []bot.ErrorDetail{{Code: 400100, Description: "The organization is already a wholesale customer."}}
	})
	reviewTrial := review(approvalFacts(), func(r *bot.Report) {
		r.Facts.Trial = bot.Fact{Value: bot.Yes, Source: "declared by " + sampleAnn}
		r.Assessment = bot.Assess(r.Facts)
		r.Precheck = nil
		r.PrecheckSkipped = "a trial organization cannot be converted"
	})
	reviewStale := wizardView(t, bot.StepReview, packages)
	reviewStale.Problems = []string{"packages is missing: a comma-separated list such as webex_calling,webex_meetings"}

	approval := bot.ApprovalView{Request: sampleRequest(), PartnerName: samplePartner, OrgName: sampleOrgName,
		Expires: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	unknownOnly := sampleRequest()
	unknownOnly.Facts.Users = bot.Fact{Value: bot.No, Source: "GET /people?orgId= counted 42 users"}
	unknownOnly.Assessment = bot.Assess(unknownOnly.Facts)
	approvalUnknown := bot.ApprovalView{Request: unknownOnly, PartnerName: samplePartner}

	withErrors := provisionedRequest()
	withErrors.State, withErrors.WebexStatus = bot.StateProvisionedWithErrors, "provisioned_with_errors"
	withErrors.Role = "id_user_admin"
	withErrors.Packages = []bot.PackageStatus{
		{Name: "webex_calling", Status: "error", Errors: []bot.ErrorDetail{{Code: 110021, Description: "The calling location could not be created."}}},
		{Name: "webex_meetings", Status: "provisioned"},
	}

	return []cardCase{
		{"wizard-1-customer", wizard(wizardView(t, bot.StepCustomer, bot.AttachSpec{}))},
		{"wizard-1-customer-problems", wizard(step1Problems)},
		{"wizard-2-company", wizard(step2)},
		{"wizard-2-company-no-templates", wizard(step2NoTemplates)},
		{"wizard-3-address", wizard(step3)},
		{"wizard-4-packages", wizard(step4)},
		{"wizard-4-packages-problems", wizard(step4Problems)},
		{"wizard-5-review-approval", wizard(review(approvalFacts(), nil))},
		{"wizard-5-review-automatic", wizard(review(automaticFacts(), nil))},
		{"wizard-5-review-refused", wizard(reviewRefused)},
		{"wizard-5-review-trial", wizard(reviewTrial)},
		{"wizard-5-review-stale", wizard(reviewStale)},
		{"approval", func(c bot.Cards) (json.RawMessage, error) { return c.Approval(approval) }},
		{"approval-unknown", func(c bot.Cards) (json.RawMessage, error) { return c.Approval(approvalUnknown) }},
		{"fulladmin-request", func(c bot.Cards) (json.RawMessage, error) { return c.FullAdminRequest(approval) }},
		{"provisioned-provisioning-admin", func(c bot.Cards) (json.RawMessage, error) {
			return c.Provisioned(bot.ProvisionedView{Request: provisionedRequest(), Role: "atlas-portal.partner.provision_admin", Mapped: bot.RoleProvisioningAdmin})
		}},
		{"provisioned-full-admin", func(c bot.Cards) (json.RawMessage, error) {
			r := provisionedRequest()
			r.Role = "id_full_admin"
			return c.Provisioned(bot.ProvisionedView{Request: r, Role: r.Role, Mapped: bot.RoleFullAdmin})
		}},
		{"provisioned-with-errors", func(c bot.Cards) (json.RawMessage, error) {
			return c.Provisioned(bot.ProvisionedView{Request: withErrors, Role: withErrors.Role})
		}},
		{"batch", func(c bot.Cards) (json.RawMessage, error) {
			return c.Batch(bot.BatchView{Batch: bot.Batch{ID: "B-K7QM2X", FileName: "customers.csv", FileRows: 6, Automatic: 3, Approval: 1, Refused: 2}})
		}},
		{"retry-error", func(c bot.Cards) (json.RawMessage, error) {
			r := provisionedRequest()
			r.State, r.WebexStatus, r.Role = bot.StateError, "error", ""
			r.Errors = []bot.ErrorDetail{{Code: 2560, Description: "One or more Webex Calling services are unavailable due to maintenance, unable to start provisioning. Consult status.webex.com and retry later."}}
			return c.Retry(bot.RetryView{Request: r})
		}},
		{"retry-provisioned-with-errors", func(c bot.Cards) (json.RawMessage, error) {
			return c.Retry(bot.RetryView{Request: withErrors})
		}},
	}
}

// buildCard builds a case's card with a fresh Builder.
func buildCard(t *testing.T, tc cardCase) json.RawMessage {
	t.Helper()
	card, err := tc.build(cards.New())
	if err != nil {
		t.Fatalf("build %s: %v", tc.name, err)
	}
	return card
}
