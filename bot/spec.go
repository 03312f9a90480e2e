package bot

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// attachKeys are the keys of `attach key=value …`, in the order help shows them.
var attachKeys = []string{
	"org", "admin", "template", "packages", "external-id", "name",
	"street", "street2", "city", "state", "zip", "country",
	"location", "timezone", "language",
	"users", "verified-domain", "claimed-domain", "trial", "inactive-licenses",
}

// checkKeys are the keys `check <orgId> key=value …` takes: the declared facts, plus what the
// precheck needs when the partner wants it run.
var checkKeys = []string{
	"users", "verified-domain", "claimed-domain", "trial", "inactive-licenses",
	"admin", "template", "packages", "street", "street2", "city", "state", "zip", "country",
	"location", "timezone", "language",
}

// AttachKeys returns the keys of `attach key=value …`, in the order help shows them.
func AttachKeys() []string { return slices.Clone(attachKeys) }

const maxAddressLine = 50

var languageRE = regexp.MustCompile(`^[a-z]{2}(_[a-z]{2})?$`)

// callingLanguageRE is the form of a calling location's language (the spec's example: en_us).
var callingLanguageRE = regexp.MustCompile(`^[a-z]{2}_[a-z]{2}$`)

// countryDefaults gives a calling location's time zone and language for countries with one
// time zone; where the time zone is "", the partner must name it.
var countryDefaults = map[string]struct{ timezone, language string }{
	"US": {"", "en_us"}, "CA": {"", "en_ca"}, "AU": {"", "en_au"}, "BR": {"", "pt_br"}, "MX": {"", "es_mx"},
	"GB": {"Europe/London", "en_gb"}, "IE": {"Europe/Dublin", "en_gb"}, "DK": {"Europe/Copenhagen", "da_dk"},
	"DE": {"Europe/Berlin", "de_de"}, "FR": {"Europe/Paris", "fr_fr"}, "NL": {"Europe/Amsterdam", "nl_nl"},
	"SE": {"Europe/Stockholm", "sv_se"}, "NO": {"Europe/Oslo", "nb_no"}, "FI": {"Europe/Helsinki", "fi_fi"},
	"ES": {"Europe/Madrid", "es_es"}, "IT": {"Europe/Rome", "it_it"}, "BE": {"Europe/Brussels", "nl_be"},
	"CH": {"Europe/Zurich", "de_ch"}, "AT": {"Europe/Vienna", "de_at"}, "PT": {"Europe/Lisbon", "pt_pt"},
	"PL": {"Europe/Warsaw", "pl_pl"}, "JP": {"Asia/Tokyo", "ja_jp"}, "IN": {"Asia/Kolkata", "en_in"},
	"SG": {"Asia/Singapore", "en_sg"}, "NZ": {"Pacific/Auckland", "en_nz"}, "ZA": {"Africa/Johannesburg", "en_za"},
}

// parseTri parses a declared fact.
func parseTri(key, v string) (Tri, string) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "true":
		return Yes, ""
	case "no", "n", "false":
		return No, ""
	case "", "unknown", "?":
		return Unknown, ""
	}
	return Unknown, fmt.Sprintf("%s=%s: say yes or no", key, v)
}

// declaredFrom reads the declared facts among args.
func declaredFrom(args map[string]string, by string) (Declared, []string) {
	var d Declared
	var problems []string
	for _, f := range []struct {
		key string
		dst *Tri
	}{
		{"users", &d.Users}, {"verified-domain", &d.VerifiedDomain}, {"claimed-domain", &d.ClaimedDomain},
		{"trial", &d.Trial}, {"inactive-licenses", &d.InactiveLicensesOnly},
	} {
		v, ok := args[f.key]
		if !ok {
			continue
		}
		t, problem := parseTri(f.key, v)
		if problem != "" {
			problems = append(problems, problem)
		}
		*f.dst = t
	}
	if d != (Declared{}) {
		d.By = by
	}
	return d, problems
}

// unknownKeys lists the keys of args that are not in allowed.
func unknownKeys(args map[string]string, allowed []string) []string {
	var problems []string
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			problems = append(problems, fmt.Sprintf("unknown key %s; the keys are %s", quoteTyped(k), strings.Join(allowed, ", ")))
		}
	}
	return problems
}

// SpecFromArgs reads an attach request from `attach key=value …` arguments. It returns the
// spec as far as it could read it and every problem found; nothing is checked against
// Webex. by is the email of the partner admin, recorded as the declarer of facts.
func (b *Bot) SpecFromArgs(args map[string]string, by string) (AttachSpec, []string) {
	problems := unknownKeys(args, attachKeys)
	s := AttachSpec{
		OrgID:        args["org"],
		AdminEmail:   strings.TrimSpace(args["admin"]),
		Template:     strings.TrimSpace(args["template"]),
		ExternalID:   strings.TrimSpace(args["external-id"]),
		CustomerName: strings.TrimSpace(args["name"]),
		Address: Address{
			Line1: strings.TrimSpace(args["street"]), Line2: strings.TrimSpace(args["street2"]),
			City: strings.TrimSpace(args["city"]), State: strings.TrimSpace(args["state"]),
			Zip: strings.TrimSpace(args["zip"]), Country: strings.ToUpper(strings.TrimSpace(args["country"])),
		},
		Language: strings.TrimSpace(args["language"]),
		// The wizard has a tick for this; on the command line, typing the request is the
		// confirmation, as its review.
		LocationConfirmed: true,
	}
	for _, p := range strings.Split(args["packages"], ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" && !slices.Contains(s.Packages, p) {
			s.Packages = append(s.Packages, p)
		}
	}
	if args["location"] != "" || args["timezone"] != "" || needsCalling(s.Packages) {
		s.Calling = &CallingLocation{Name: strings.TrimSpace(args["location"]), Timezone: strings.TrimSpace(args["timezone"]), Language: s.Language}
	}
	declared, declaredProblems := declaredFrom(args, by)
	s.Declared = declared
	problems = append(problems, declaredProblems...)
	s, fixProblems := b.completeSpec(s)
	return s, append(problems, fixProblems...)
}

// completeSpec normalizes a spec, fills in the defaults (the template's provisioningId, the
// calling location from the address), and returns every problem left.
func (b *Bot) completeSpec(s AttachSpec) (AttachSpec, []string) {
	var problems []string
	if s.OrgID == "" {
		problems = append(problems, "org is missing: the customer's organization id (Control Hub > Account)")
	} else if id, ok := NormalizeOrgID(s.OrgID); ok {
		s.OrgID = id
	} else {
		problems = append(problems, fmt.Sprintf("org=%s is not a Webex organization id: copy it from Control Hub > Account (a UUID, or the base64 id)", s.OrgID))
	}
	switch {
	case s.AdminEmail == "":
		problems = append(problems, "admin is missing: the customer admin's email address")
	case !validEmail(s.AdminEmail):
		problems = append(problems, fmt.Sprintf("admin=%s is not an email address", s.AdminEmail))
	case b.cfg.PartnerAdmins.Allows(s.AdminEmail):
		problems = append(problems, fmt.Sprintf("admin=%s is a partner admin; give the email of the customer organization's admin, who approves the attach", s.AdminEmail))
	}
	if strings.Contains(s.CustomerName, "%") {
		problems = append(problems, "name may not contain %")
	}
	problems = append(problems, b.resolveTemplate(&s)...)
	problems = append(problems, checkPackages(s.Packages)...)
	problems = append(problems, checkAddress("", s.Address)...)
	if !s.LocationConfirmed {
		problems = append(problems, `tick "I confirm this customer is in a Cisco Webex-supported location": Webex for Wholesale can only be attached where Webex is supported`)
	}
	if s.Language != "" && !languageRE.MatchString(strings.ToLower(s.Language)) {
		problems = append(problems, fmt.Sprintf("language=%s: use a language code such as en or en_us", s.Language))
	}
	s.Language = strings.ToLower(s.Language)
	if needsCalling(s.Packages) {
		if s.Calling == nil {
			s.Calling = &CallingLocation{}
		}
		problems = append(problems, completeCalling(s.Calling, s.Address, s.Language)...)
	} else if s.Calling != nil && *s.Calling == (CallingLocation{Address: s.Calling.Address, Language: s.Calling.Language}) {
		s.Calling = nil // nothing calling-specific was given and no calling package needs it
	}
	return s, problems
}

// resolveTemplate maps the template name to its provisioningId. A value that is no
// template's name is taken as a raw provisioningId when it looks like one.
func (b *Bot) resolveTemplate(s *AttachSpec) []string {
	if s.Template == "" {
		return []string{fmt.Sprintf("template is missing: one of %s, or a provisioningId", b.templateNames())}
	}
	for _, t := range b.cfg.Templates {
		if strings.EqualFold(t.Name, s.Template) {
			s.Template, s.ProvisioningID = t.Name, t.ProvisioningID
			return nil
		}
	}
	if len(s.Template) >= 16 && !strings.ContainsAny(s.Template, " /?&%") {
		s.ProvisioningID = s.Template
		return nil
	}
	return []string{fmt.Sprintf("template=%s is not one of %s, nor a provisioningId (Partner Hub > Onboarding templates)", s.Template, b.templateNames())}
}

func (b *Bot) templateNames() string {
	names := make([]string, len(b.cfg.Templates))
	for i, t := range b.cfg.Templates {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// checkPackages checks package names and their dependencies.
func checkPackages(packages []string) []string {
	if len(packages) == 0 {
		return []string{"packages is missing: a comma-separated list such as webex_calling,webex_meetings"}
	}
	var problems []string
	for _, name := range packages {
		p, ok := packageInfo(name)
		if !ok {
			names := make([]string, len(packageCatalogue))
			for i, p := range packageCatalogue {
				names[i] = p.Name
			}
			problems = append(problems, fmt.Sprintf("unknown package %s; the packages are %s", quoteTyped(name), strings.Join(names, ", ")))
			continue
		}
		if len(p.Requires) > 0 && !slices.ContainsFunc(p.Requires, func(r string) bool { return slices.Contains(packages, r) }) {
			problems = append(problems, missingDependency(p, packages))
		}
	}
	return problems
}

// missingDependency says that package p needs one of its dependencies, which of them to add,
// and which of the chosen packages do not count (webex_voice for attendant_console, say).
func missingDependency(p PackageInfo, packages []string) string {
	names := make([]string, len(p.Requires))
	for i, r := range p.Requires {
		names[i] = r
		if info, ok := packageInfo(r); ok {
			names[i] = fmt.Sprintf("%s (%s)", r, info.Label)
		}
	}
	text := fmt.Sprintf("package %s (%s) needs one of %s as well: add one of them to packages", p.Name, p.Label, joinOr(names))
	var notEnough []string
	for _, name := range packages {
		if info, ok := packageInfo(name); ok && info.Calling {
			notEnough = append(notEnough, name)
		}
	}
	if len(notEnough) > 0 {
		text += fmt.Sprintf(" (%s does not count for %s)", joinOr(notEnough), p.Name)
	}
	return text
}

// joinOr joins words as "a, b or c".
func joinOr(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// checkAddress checks an address; prefix names it in the problems ("" for headquarters).
func checkAddress(prefix string, a Address) []string {
	var problems []string
	for _, f := range []struct {
		key, value string
		required   bool
	}{
		{"street", a.Line1, true}, {"street2", a.Line2, false}, {"city", a.City, true},
		{"state", a.State, false}, {"zip", a.Zip, false},
	} {
		switch {
		case f.required && f.value == "":
			problems = append(problems, fmt.Sprintf("%s%s is missing", prefix, f.key))
		case len([]rune(f.value)) > maxAddressLine:
			problems = append(problems, fmt.Sprintf("%s%s is %d characters long; Webex takes at most %d", prefix, f.key, len([]rune(f.value)), maxAddressLine))
		}
	}
	switch {
	case a.Country == "":
		problems = append(problems, prefix+"country is missing: a two-letter ISO 3166 code such as US or DK")
	case !slices.Contains(countries, a.Country):
		problems = append(problems, fmt.Sprintf("%scountry=%s is not an ISO 3166 two-letter country code (such as US, GB or DK)", prefix, a.Country))
	}
	return problems
}

// completeCalling fills a calling location from the headquarters address and checks it.
func completeCalling(c *CallingLocation, hq Address, language string) []string {
	if c.Address == (Address{}) {
		c.Address = hq
	}
	defaults := countryDefaults[c.Address.Country]
	if c.Name == "" {
		c.Name = "Headquarters"
	}
	if c.Timezone == "" {
		c.Timezone = defaults.timezone
	}
	if c.Language == "" {
		c.Language = language
	}
	if c.Language == "" {
		c.Language = defaults.language
	}
	if c.Language == "" {
		c.Language = "en_us"
	}
	c.Language = strings.ToLower(c.Language)
	// The calling location's language names a country too: Webex's schema shows "en_us". A
	// bare language takes the country's default when that is the same language.
	if !strings.Contains(c.Language, "_") && strings.HasPrefix(defaults.language, c.Language+"_") {
		c.Language = defaults.language
	}
	var problems []string
	if len([]rune(c.Name)) > maxAddressLine {
		problems = append(problems, fmt.Sprintf("location is %d characters long; at most %d", len([]rune(c.Name)), maxAddressLine))
	}
	switch {
	case c.Timezone == "":
		problems = append(problems, fmt.Sprintf("timezone is missing: a calling package needs the calling location's time zone, such as America/New_York (%s has several)", c.Address.Country))
	default:
		if _, err := time.LoadLocation(c.Timezone); err != nil || !strings.Contains(c.Timezone, "/") {
			problems = append(problems, fmt.Sprintf("timezone=%s is not a time zone such as America/Los_Angeles or Europe/Copenhagen", c.Timezone))
		}
	}
	if !callingLanguageRE.MatchString(c.Language) {
		problems = append(problems, fmt.Sprintf("language=%s: a calling location needs a language with its country, such as en_us or fr_ca", c.Language))
	}
	return problems
}
