package bot

import (
	"slices"
	"strings"
)

// Assessment is the verdict of the eligibility rules (docs/rules-for-attaching.md, sections 1, 2 and 5)
// for one organization.
type Assessment struct {
	ApprovalRequired bool     `json:"approvalRequired"`
	Because          []string `json:"because,omitempty"` // the approval criteria that hold
	Unknown          []string `json:"unknown,omitempty"` // the approval criteria nobody knows
	Role             Role     `json:"role"`              // the partner's predicted role
	Trial            bool     `json:"trial,omitempty"`   // a trial org cannot be converted
}

// The approval criteria of section 1, as the report names them.
const (
	CriterionUsers          = "100 users or more"
	CriterionVerifiedDomain = "a verified email domain"
	CriterionClaimedDomain  = "a claimed domain"
)

// Assess applies the rules to the facts. Approval is required when any criterion holds, and
// also when none holds but some are unknown (the safe side); only when all are known to be
// false may the attach be automatic. The partner is predicted to become Full Admin when the
// organization has no licenses, or only suspended or canceled ones, and Provisioning Admin
// otherwise (including when the licenses are unknown).
func Assess(f Facts) Assessment {
	var a Assessment
	for _, c := range []struct {
		name string
		fact Fact
	}{
		{CriterionUsers, f.Users},
		{CriterionVerifiedDomain, f.VerifiedDomain},
		{CriterionClaimedDomain, f.ClaimedDomain},
	} {
		switch c.fact.Value {
		case Yes:
			a.Because = append(a.Because, c.name)
		case Unknown:
			a.Unknown = append(a.Unknown, c.name)
		}
	}
	a.ApprovalRequired = len(a.Because) > 0 || len(a.Unknown) > 0
	a.Role = RoleProvisioningAdmin
	if f.Licenses.Value == No || f.InactiveLicensesOnly.Value == Yes {
		a.Role = RoleFullAdmin
	}
	a.Trial = f.Trial.Value == Yes
	return a
}

// Report is what the bot found out about an organization before an attach: the facts and
// the verdict, whether it already is a wholesale customer, and the precheck's answer.
type Report struct {
	OrgID      string     `json:"orgId"`
	OrgName    string     `json:"orgName,omitempty"`
	Facts      Facts      `json:"facts"`
	Assessment Assessment `json:"assessment"`
	Existing   []Customer `json:"existing,omitempty"`

	Precheck         *Precheck     `json:"precheck,omitempty"`
	PrecheckErrors   []ErrorDetail `json:"precheckErrors,omitempty"`
	PrecheckStatus   int           `json:"precheckStatus,omitempty"`
	PrecheckTracking string        `json:"precheckTracking,omitempty"`
	PrecheckSkipped  string        `json:"precheckSkipped,omitempty"` // why it did not run
}

// PrecheckFailed reports whether Webex refused the precheck.
func (r Report) PrecheckFailed() bool { return r.PrecheckStatus != 0 }

// PackageInfo describes a wholesale package: its API name, its label, whether it needs a
// calling location, and the packages one of which it needs alongside.
type PackageInfo struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Calling  bool     `json:"calling,omitempty"`
	Requires []string `json:"requires,omitempty"`
}

// packageCatalogue holds the customer packages of the wholesale API (WholesalePackagesCustomer),
// labelled as the API reference describes them (cx_essentials is "Customer Assist"), with the
// dependencies its "packages Note" states: cisco_calling_plan needs one of six packages,
// attendant_console one of webex_calling, webex_suite or cx_essentials (webex_voice is not
// enough). Which packages count as calling packages is not stated by Cisco; cx_essentials is
// treated as one (unconfirmed), so a calling location is asked for, which is the safe side.
var packageCatalogue = []PackageInfo{
	{Name: "webex_calling", Label: "Webex Calling", Calling: true},
	{Name: "webex_calling_standard", Label: "Webex Calling Standard", Calling: true},
	{Name: "webex_meetings", Label: "Webex Meetings"},
	{Name: "webex_suite", Label: "Webex Suite", Calling: true},
	{Name: "webex_voice", Label: "Webex Voice", Calling: true},
	{Name: "common_area_calling", Label: "Common Area Calling", Calling: true},
	{Name: "cx_essentials", Label: "Customer Assist", Calling: true},
	{Name: "cisco_calling_plan", Label: "Cisco Calling Plan", Requires: []string{"common_area_calling", "webex_calling", "webex_suite", "webex_voice", "cx_essentials", "webex_calling_standard"}},
	{Name: "attendant_console", Label: "Attendant Console", Requires: []string{"webex_calling", "webex_suite", "cx_essentials"}},
	{Name: "cx_premium_agent", Label: "Contact Center Premium Agent"},
	{Name: "cx_standard_agent", Label: "Contact Center Standard Agent"},
	{Name: "cx_voice_ports", Label: "Contact Center Voice Ports"},
	{Name: "cx_ai_assistant", Label: "Contact Center AI Assistant"},
	{Name: "webex_ai_agent", Label: "Webex AI Agent"},
}

// Packages returns the package catalogue (a copy): see packageCatalogue.
func Packages() []PackageInfo { return slices.Clone(packageCatalogue) }

// packageInfo returns the package named name.
func packageInfo(name string) (PackageInfo, bool) {
	i := slices.IndexFunc(packageCatalogue, func(p PackageInfo) bool { return p.Name == name })
	if i < 0 {
		return PackageInfo{}, false
	}
	return packageCatalogue[i], true
}

// needsCalling reports whether any of the packages needs a calling location.
func needsCalling(packages []string) bool {
	return slices.ContainsFunc(packages, func(name string) bool {
		p, _ := packageInfo(name)
		return p.Calling
	})
}

// countries are the ISO 3166-1 alpha-2 codes.
var countries = strings.Fields(`AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT
HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU
LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR
NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM
SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG
VI VN VU WF WS YE YT ZA ZM ZW`)

// Countries returns the ISO 3166-1 alpha-2 codes (a copy).
func Countries() []string { return slices.Clone(countries) }
