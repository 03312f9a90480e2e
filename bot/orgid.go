package bot

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// Webex organization ids. The REST id of an organization is the base64 of
// "ciscospark://<region>/ORGANIZATION/<uuid>", but one organization reaches the bot in several
// spellings: with or without "=" padding, in the URL-safe alphabet, with "Organization" for
// "ORGANIZATION" (the Webex API reference's own examples use both), and as the bare UUID
// Control Hub shows. Two ids name the same organization when their UUIDs are equal, so ids are
// never compared as strings: SameOrg compares them, and OrgUUID is the key to index them by.

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// orgIDParts decodes an organization id into its region and its UUID (lower case). A bare UUID
// has no region ("").
func orgIDParts(id string) (region, uuid string, ok bool) {
	id = strings.TrimSpace(id)
	if uuidRE.MatchString(id) {
		return "", strings.ToLower(id), true
	}
	raw := strings.TrimRight(id, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		decoded, err := enc.DecodeString(raw)
		if err != nil {
			continue
		}
		parts := strings.Split(string(decoded), "/")
		if len(parts) == 5 && parts[0] == "ciscospark:" && parts[1] == "" && parts[2] != "" &&
			strings.EqualFold(parts[3], "ORGANIZATION") && uuidRE.MatchString(parts[4]) {
			return parts[2], strings.ToLower(parts[4]), true
		}
	}
	return "", "", false
}

// OrgUUID returns the UUID (lower case) of a Webex organization id in any of its spellings,
// and whether id is one at all.
func OrgUUID(id string) (string, bool) {
	_, uuid, ok := orgIDParts(id)
	return uuid, ok
}

// SameOrg reports whether a and b are ids of the same Webex organization, whatever their
// spelling. An id that is not an organization id is the same as none.
func SameOrg(a, b string) bool {
	ua, okA := OrgUUID(a)
	ub, okB := OrgUUID(b)
	return okA && okB && ua == ub
}

// NormalizeOrgID checks that s is a Webex organization id and returns it in the form Webex hands
// out: the unpadded standard base64 of "ciscospark://<region>/ORGANIZATION/<uuid>". It accepts
// every spelling OrgUUID does; a bare UUID is given the "us" region, which is how Webex encodes
// the ids it hands out (other regions unconfirmed).
func NormalizeOrgID(s string) (string, bool) {
	region, uuid, ok := orgIDParts(s)
	if !ok {
		return "", false
	}
	if region == "" {
		region = "us"
	}
	return base64.RawStdEncoding.EncodeToString([]byte("ciscospark://" + region + "/ORGANIZATION/" + uuid)), true
}
