// The rules of the wholesale operations that Webex's spec states only in prose.

package webextest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// The rules Webex's OpenAPI specs state only in their descriptions. Each quotes the spec text
// it comes from. They run on a JSON body after its schema check, and tolerate values of the
// wrong type (the schema check has told those already).

// bodyRule returns what is wrong with a JSON object body.
type bodyRule func(body map[string]any) []string

// proseRules returns the prose rules of an operation ("POST /wholesale/customers").
func proseRules(operation string) []bodyRule {
	switch operation {
	case "POST /wholesale/customers":
		return []bodyRule{packageDependencies, addressRules, customerInfoForNewCustomer, customerNameRule,
			customerLanguageRule, callingForCallingPackages}
	case "POST /wholesale/customers/validate", "PUT /wholesale/customers/{customerId}":
		return []bodyRule{packageDependencies, addressRules}
	case "POST /messages":
		return []bodyRule{messageLengthRule, oneFileRule, oneCardRule}
	case "POST /webhooks":
		return []bodyRule{webhookOwnedByRule}
	}
	return nil
}

// get returns the value at a dotted path of nested objects, or nil.
func get(body map[string]any, path string) any {
	var cur any = body
	for _, key := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[key]
	}
	return cur
}

// getString returns the string at a dotted path, or "".
func getString(body map[string]any, path string) string {
	s, _ := get(body, path).(string)
	return s
}

// packages returns the body's packages that are strings.
func packages(body map[string]any) []string {
	list, _ := body["packages"].([]any)
	var out []string
	for _, p := range list {
		if s, ok := p.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// packageDependencies: the wholesale operations' descriptions, "packages Note":
//
//	`cisco_calling_plan` is dependent on: `common_area_calling`, `webex_calling`,
//	`webex_suite`, `webex_voice`, `cx_essentials`, `webex_calling_standard`
//	`attendant_console` is dependent on: `webex_calling`, `webex_suite`, `cx_essentials`
//
// "Dependent on" a list is read as needing one of it (an inference: the spec does not say
// whether one or all; needing all would make most of cisco_calling_plan's list exclusive).
func packageDependencies(body map[string]any) []string {
	pkgs := packages(body)
	var probs []string
	for _, d := range []struct {
		pkg   string
		oneOf []string
	}{
		{"cisco_calling_plan", []string{"common_area_calling", "webex_calling", "webex_suite", "webex_voice", "cx_essentials", "webex_calling_standard"}},
		{"attendant_console", []string{"webex_calling", "webex_suite", "cx_essentials"}},
	} {
		if slices.Contains(pkgs, d.pkg) && !slices.ContainsFunc(d.oneOf, func(p string) bool { return slices.Contains(pkgs, p) }) {
			probs = append(probs, fmt.Sprintf("packages: %s requires one of %s.", d.pkg, strings.Join(d.oneOf, ", ")))
		}
	}
	return probs
}

// maxAddressLine is the wholesale API's limit on each address line, in characters: "There is
// a 50 character limit on each address line" (the description of every wholesale address).
const maxAddressLine = 50

// addressRules checks the wholesale addresses (the customer's and the calling location's):
// "There is a 50 character limit on each address line", and country is an "ISO2 country code
// of the customer size = 2". That only addressLine1 and addressLine2 are "address lines" is an
// inference; the country is checked as two ASCII letters (whether Webex also checks that the
// code is assigned is UNCONFIRMED). The calling location's stateOrProvince is "in ISO 3166
// format", which is not checked: whether Webex wants the subdivision code with or without its
// country prefix ("CA" or "US-CA") is UNCONFIRMED.
func addressRules(body map[string]any) []string {
	var probs []string
	for _, at := range []string{"address", "provisioningParameters.calling.location.address"} {
		a, ok := get(body, at).(map[string]any)
		if !ok {
			continue
		}
		for _, line := range []string{"addressLine1", "addressLine2"} {
			v, _ := a[line].(string)
			if n := utf8.RuneCountInString(v); n > maxAddressLine {
				probs = append(probs, fmt.Sprintf("%s.%s is %d characters long; the limit is %d.", at, line, n, maxAddressLine))
			}
		}
		if c, ok := a["country"].(string); ok && !iso2.MatchString(c) {
			probs = append(probs, fmt.Sprintf("%s.country must be an ISO 3166 alpha-2 code (size = 2), not %q.", at, c))
		}
	}
	return probs
}

var iso2 = regexp.MustCompile(`^[A-Za-z]{2}$`)

// customerInfoForNewCustomer: customerInfo is "Mandatory for new customer. Optional if
// Organization ID is provided."
func customerInfoForNewCustomer(body map[string]any) []string {
	if _, ok := body["customerInfo"]; ok || getString(body, "orgId") != "" {
		return nil
	}
	return []string{"customerInfo is required for a new customer (no orgId)."}
}

// customerNameRule: customerInfo.name, "Name cannot include the "%" character."
func customerNameRule(body map[string]any) []string {
	if strings.Contains(getString(body, "customerInfo.name"), "%") {
		return []string{"customerInfo.name must not contain %."}
	}
	return nil
}

// customerLanguage is customerInfo.language's form: "The {ISO-639-1}_{ISO-3166} or
// {ISO-639-1} locale or language code". The letter case (a lower-case language, an upper-case
// country, as both standards write them) is an inference; whether Webex takes other cases is
// UNCONFIRMED.
var customerLanguage = regexp.MustCompile(`^[a-z]{2}(_[A-Z]{2})?$`)

// customerLanguageRule checks customerInfo.language.
func customerLanguageRule(body map[string]any) []string {
	lang, ok := get(body, "customerInfo.language").(string)
	if !ok || customerLanguage.MatchString(lang) {
		return nil
	}
	return []string{fmt.Sprintf("customerInfo.language must be an {ISO-639-1}_{ISO-3166} or {ISO-639-1} code such as en_US or en, not %q.", lang)}
}

// callingPackage reports whether a package needs provisioningParameters.calling. The spec says
// calling is "Mandatory when provisioning calling packages" without listing them; this list is
// an inference (UNCONFIRMED): the calling packages, cx_essentials (Customer Assist, a calling
// queue product) included. cisco_calling_plan and attendant_console depend on one of them.
func callingPackage(p string) bool {
	switch p {
	case "common_area_calling", "webex_calling", "webex_suite", "webex_voice", "webex_calling_standard", "cx_essentials":
		return true
	}
	return false
}

// callingForCallingPackages: provisioningParameters.calling, "Mandatory when provisioning
// calling packages."
func callingForCallingPackages(body map[string]any) []string {
	if !slices.ContainsFunc(packages(body), callingPackage) || get(body, "provisioningParameters.calling.location") != nil {
		return nil
	}
	return []string{"provisioningParameters.calling.location is required when provisioning calling packages."}
}

// maxMessageBytes is the longest text or markdown of a message: "The maximum message length
// is 7439 bytes."
const maxMessageBytes = 7439

// messageLengthRule checks text and markdown against maxMessageBytes.
func messageLengthRule(body map[string]any) []string {
	var probs []string
	for _, f := range []string{"text", "markdown"} {
		if n := len(getString(body, f)); n > maxMessageBytes {
			probs = append(probs, fmt.Sprintf("%s is %d bytes long; the maximum message length is %d bytes.", f, n, maxMessageBytes))
		}
	}
	return probs
}

// oneFileRule: files, "Only one file is allowed per message."
func oneFileRule(body map[string]any) []string {
	if files, _ := body["files"].([]any); len(files) > 1 {
		return []string{fmt.Sprintf("files has %d entries; only one file is allowed per message.", len(files))}
	}
	return nil
}

// oneCardRule: attachments, "Only one card per message is supported."
func oneCardRule(body map[string]any) []string {
	if cards, _ := body["attachments"].([]any); len(cards) > 1 {
		return []string{fmt.Sprintf("attachments has %d entries; only one card per message is supported.", len(cards))}
	}
	return nil
}

// webhookOwnedByRule: filter, "Please note that if a filter of `hostEmail`, `hostUserId`,
// `ownerEmail` or `ownerId` is specified, `ownedBy` must be set to `org`."
func webhookOwnedByRule(body map[string]any) []string {
	if getString(body, "ownedBy") == "org" {
		return nil
	}
	for clause := range strings.SplitSeq(getString(body, "filter"), "&") {
		key, _, _ := strings.Cut(clause, "=")
		switch strings.TrimSpace(key) {
		case "hostEmail", "hostUserId", "ownerEmail", "ownerId":
			return []string{fmt.Sprintf("ownedBy must be set to org with a filter of %s.", key)}
		}
	}
	return nil
}
