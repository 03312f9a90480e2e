package webextest

import (
	"encoding/base64"
	"strings"
)

// Webex names one organization in several spellings: the base64 of
// "ciscospark://<region>/ORGANIZATION/<uuid>" with or without "=" padding, and with
// "Organization" for "ORGANIZATION" (the official API reference's own examples use both). Webex
// takes any of them wherever an orgId goes, so the simulated Webex looks an organization up
// by its UUID, not by the string it was given. A bare UUID and the URL-safe base64 alphabet
// are not taken: that Webex accepts them in the REST API is not confirmed.

// orgUUID returns the UUID (lower case) an organization id encodes, and whether id is one.
func orgUUID(id string) (string, bool) {
	raw := strings.TrimRight(id, "=")
	decoded, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil {
		return "", false
	}
	parts := strings.Split(string(decoded), "/")
	if len(parts) == 5 && parts[0] == "ciscospark:" && parts[1] == "" && parts[2] != "" &&
		strings.EqualFold(parts[3], KindOrganization) && parts[4] != "" {
		return strings.ToLower(parts[4]), true
	}
	return "", false
}

// orgKeyLocked returns the id under which the organization id names is kept (its spelling
// when the organization was added), whatever the spelling of id; id itself when it names no
// known organization.
func (s *Sim) orgKeyLocked(id string) string {
	if _, ok := s.orgs[id]; ok || id == "" {
		return id
	}
	uuid, ok := orgUUID(id)
	if !ok {
		return id
	}
	for _, key := range s.orgOrder {
		if known, _ := orgUUID(key); known == uuid {
			return key
		}
	}
	return id
}
