package bot

import (
	"fmt"
	"net/mail"
	"strings"
)

// Allowlist says who may command the bot: exact emails and whole domains ("@partner.example"),
// compared case-insensitively.
type Allowlist struct {
	emails  map[string]bool
	domains map[string]bool
}

// ParseAllowlist parses comma-separated emails and @domain entries. It rejects an empty list
// and any entry that is neither, naming it.
func ParseAllowlist(s string) (Allowlist, error) {
	a := Allowlist{emails: map[string]bool{}, domains: map[string]bool{}}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.ToLower(strings.TrimSpace(entry))
		switch {
		case entry == "":
			continue
		case strings.HasPrefix(entry, "@") && len(entry) > 1 && !strings.ContainsAny(entry[1:], "@ "):
			a.domains[entry[1:]] = true
		case validEmail(entry):
			a.emails[entry] = true
		default:
			return Allowlist{}, fmt.Errorf("%q is neither an email address nor an @domain", entry)
		}
	}
	if len(a.emails) == 0 && len(a.domains) == 0 {
		return Allowlist{}, fmt.Errorf("no email address or @domain given")
	}
	return a, nil
}

// Allows reports whether email is on the list.
func (a Allowlist) Allows(email string) bool {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return false
	}
	if a.emails[email] {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	return at >= 0 && a.domains[email[at+1:]]
}

// validEmail reports whether s is a bare email address (no display name, one @, a dot in
// the domain).
func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
}

// sameEmail compares two email addresses case-insensitively.
func sameEmail(a, b string) bool {
	return a != "" && strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
