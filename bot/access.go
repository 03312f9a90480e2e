package bot

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Allowlist says who may command the bot: exact emails and whole domains ("@partner.example"),
// compared ignoring ASCII case only. Addresses are ASCII: Unicode case folding would let a
// look-alike such as the Kelvin sign (U+212A) stand for a k, so a non-ASCII address is
// refused in the list and never matches it.
type Allowlist struct {
	emails  map[string]bool
	domains map[string]bool
}

// ParseAllowlist parses comma-separated emails and @domain entries. It rejects an empty list,
// a non-ASCII entry and any entry that is neither, naming it.
func ParseAllowlist(s string) (Allowlist, error) {
	a := Allowlist{emails: map[string]bool{}, domains: map[string]bool{}}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		entry, ascii := asciiLower(entry)
		switch {
		case !ascii:
			return Allowlist{}, fmt.Errorf("%q is not plain ASCII (it has %U): write the address in ASCII letters, and an internationalized domain in its xn-- form", entry, firstNonASCII(entry))
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
	email, ascii := asciiLower(strings.TrimSpace(email))
	if email == "" || !ascii {
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

// sameEmail compares two email addresses ignoring ASCII case only: other letters must be the
// same, so that no look-alike passes for an ASCII letter.
func sameEmail(a, b string) bool {
	a, _ = asciiLower(strings.TrimSpace(a))
	b, _ = asciiLower(strings.TrimSpace(b))
	return a != "" && a == b
}

// firstNonASCII returns the first rune of s that is not ASCII.
func firstNonASCII(s string) rune {
	for _, r := range s {
		if r >= utf8.RuneSelf {
			return r
		}
	}
	return 0
}

// asciiLower returns s with its ASCII letters in lower case and every other byte as it is,
// and whether s is all ASCII.
func asciiLower(s string) (string, bool) {
	lower, ascii := []byte(s), true
	for i, c := range lower {
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case 'A' <= c && c <= 'Z':
			lower[i] = c + 'a' - 'A'
		}
	}
	return string(lower), ascii
}
