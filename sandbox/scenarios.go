package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"attachbot/webex/webextest"
)

// handleScenarios answers GET /sandbox/api/scenarios.
func (e *sandboxEnv) handleScenarios(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, e.scenarios())
}

// scenarios returns the scenarios panel: each seeded organization with what it demonstrates,
// the line to type and how its next provisioning ends.
func (e *sandboxEnv) scenarios() scenariosView {
	e.mu.Lock()
	applied := e.applied
	e.mu.Unlock()
	v := scenariosView{
		Applied:      applied,
		MaxFileBytes: sandboxMaxFile,
		Sample: sampleView{Name: sampleFileName, URL: "/sandbox/api/sample.csv",
			About: "A row for each organization below (automatic, approval, trial, existing customer, …), a bad row and a duplicate organization. Drop it in the partner space with check or attach."},
		DefaultDelaySeconds: webextest.DefaultProvisioningDelay.Seconds(),
		Outcomes: []outcomeView{
			{outcomeSeeded, "as each organization is seeded (Broken Pipes Plumbing ends in error, the others provisioned)"},
			{webextest.StatusProvisioned, "provisioned: the organization is attached; the partner's role is reported"},
			{webextest.StatusProvisionedWithErrors, "provisioned_with_errors: attached, but the first package failed (code 10022)"},
			{webextest.StatusError, "error: provisioning failed (code 2560); nothing is attached"},
			{webextest.StatusPendingReview, "pending_rpl_review: Cisco's Denied Party List review; it stays there"},
		},
	}
	for _, s := range sandboxScenarios() {
		o, ok := e.sim.Org(s.OrgID)
		if !ok {
			continue
		}
		status := o.Outcome.Status
		if status == "" {
			status = webextest.StatusProvisioned
		}
		v.Scenarios = append(v.Scenarios, scenarioView{
			OrgID: o.ID, OrgName: o.Name, Description: o.Description, Demonstrates: s.Demonstrates,
			Line: s.Line(), Check: "check " + o.ID, AdminID: o.AdminID, AdminName: o.AdminName, AdminEmail: o.AdminEmail,
			Outcome: status, DelaySeconds: o.Outcome.Delay.Seconds(),
		})
	}
	return v
}

// sandboxScenario is what a seeded organization demonstrates and the keys of its attach.
type sandboxScenario struct {
	OrgID        string
	Demonstrates string
	// Keys are the keys of its one-line attach, in the order typed; the same keys make its
	// row of the sample file.
	Keys []attachKey
}

// attachKey is one key=value of an attach line.
type attachKey struct{ Key, Value string }

// Line is the scenario's attach line, as the scenarios panel gives it.
func (s sandboxScenario) Line() string {
	parts := []string{"attach"}
	for _, k := range s.Keys {
		v := k.Value
		if quotedAttachKeys[k.Key] {
			v = strconv.Quote(v)
		}
		parts = append(parts, k.Key+"="+v)
	}
	return strings.Join(parts, " ")
}

// quotedAttachKeys are the keys whose values are typed in quotes: they may hold spaces.
var quotedAttachKeys = map[string]bool{"name": true, "street": true, "city": true}

// sandboxScenarios returns the scenarios, in the order of the seed.
func sandboxScenarios() []sandboxScenario {
	keys := func(org, admin, name, street, city, zip, country, packages string, facts ...attachKey) []attachKey {
		return append([]attachKey{
			{"org", org}, {"admin", admin}, {"template", "Standard"}, {"packages", packages},
			{"name", name}, {"street", street}, {"city", city}, {"zip", zip}, {"country", country},
		}, facts...)
	}
	noDomains := []attachKey{{"verified-domain", "no"}, {"claimed-domain", "no"}}
	notTrial := append(slices.Clone(noDomains), attachKey{"trial", "no"})
	return []sandboxScenario{
		{webextest.SmallOrgID, "An automatic attach: under 100 users, no verified or claimed domain. Provisioned at once; the partner becomes Provisioning Admin.",
			keys(webextest.SmallOrgID, webextest.SmallAdminEmail, "Smallville Bakery", "Nørregade 1", "København", "1165", "DK", "webex_meetings", notTrial...)},
		{webextest.BigOrgID, "The customer admin's approval: 150 users. The approval card goes to the admin's direct space; only their Approve starts provisioning.",
			keys(webextest.BigOrgID, webextest.BigAdminEmail, "Bigcorp Logistics", "1 Main St", "Oslo", "0150", "NO", "common_area_calling", notTrial...)},
		{webextest.NoLicenseOrgID, "An automatic attach of an organization with no licenses: the partner becomes Full Admin.",
			keys(webextest.NoLicenseOrgID, webextest.NoLicenseAdminEmail, "Freelancers Guild", "Drottninggatan 5", "Stockholm", "11151", "SE", "webex_meetings", notTrial...)},
		{webextest.TrialOrgID, "A trial organization: converting trials is not supported, and Webex's precheck refuses it. Nothing is created.",
			keys(webextest.TrialOrgID, webextest.TrialAdminEmail, "Trial & Error Labs", "Kaiserstraße 10", "Berlin", "10115", "DE", "webex_meetings", noDomains...)},
		{webextest.CustomerOrgID, "Already a wholesale customer of the partner: refused, nothing is changed.",
			keys(webextest.CustomerOrgID, webextest.CustomerAdminEmail, "Nordic Customer A/S", "Havnegade 1", "Copenhagen", "1058", "DK", "webex_meetings", notTrial...)},
		{webextest.ErrorOrgID, "Provisioning that fails: status error, with Webex's error code 2560, told in the partner's thread.",
			keys(webextest.ErrorOrgID, webextest.ErrorAdminEmail, "Broken Pipes Plumbing", "2 Canal Rd", "Amsterdam", "1012", "NL", "webex_meetings", notTrial...)},
		{webextest.HiddenOrgID, "An organization the partner cannot read: its user count is unknown, and unknown means asking the customer admin.",
			keys(webextest.HiddenOrgID, webextest.HiddenAdminEmail, "Hidden Holdings", "1 Rue de Rivoli", "Paris", "75001", "FR", "webex_meetings", noDomains...)},
	}
}
