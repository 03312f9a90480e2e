// Webex ids: base64 ciscospark URIs of a kind and a UUID, new or derived from stable parts.

package webextest

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// The kinds of Webex ids ("ciscospark://us/<kind>/<uuid>").
const (
	KindPeople           = "PEOPLE"
	KindOrganization     = "ORGANIZATION"
	KindRoom             = "ROOM"
	KindMessage          = "MESSAGE"
	KindAttachmentAction = "ATTACHMENT_ACTION"
	KindWebhook          = "WEBHOOK"
	KindEnterprise       = "ENTERPRISE" // a wholesale customer id
	KindLicense          = "LICENSE"
	KindApplication      = "APPLICATION"
)

// EncodeID returns the Webex REST id of a resource: the base64 (standard alphabet, no padding)
// of "ciscospark://us/<kind>/<uuid>".
func EncodeID(kind, uuid string) string {
	return base64.RawStdEncoding.EncodeToString([]byte("ciscospark://us/" + kind + "/" + uuid))
}

// DecodeID returns the kind and the uuid of an id made by EncodeID.
func DecodeID(id string) (kind, uuid string, err error) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil {
		return "", "", fmt.Errorf("decode Webex id %q: %w", id, err)
	}
	rest, ok := strings.CutPrefix(string(raw), "ciscospark://us/")
	if !ok {
		return "", "", fmt.Errorf("id %q decodes to %q, not ciscospark://us/…", id, raw)
	}
	kind, uuid, ok = strings.Cut(rest, "/")
	if !ok {
		return "", "", fmt.Errorf("id %q decodes to %q, which has no uuid", id, raw)
	}
	return kind, uuid, nil
}

// derivedUUID returns a version-5-style uuid derived from parts, so derived ids are stable.
func derivedUUID(parts ...string) string {
	b := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// derivedID returns a stable id of kind derived from parts. It avoids ids whose base64
// contains '+' or '/', which could not stand in a URL path unescaped.
func derivedID(kind string, parts ...string) string {
	for n := 0; ; n++ {
		id := EncodeID(kind, derivedUUID(append(parts, strconv.Itoa(n))...))
		if !strings.ContainsAny(id, "+/") {
			return id
		}
	}
}

// newIDLocked returns a new id of kind. Ids are deterministic: the same sequence of calls
// on a new Sim with the same Options.IDSeed makes the same ids.
func (s *Sim) newIDLocked(kind string) string {
	s.seq++
	if s.opts.IDSeed != "" {
		return derivedID(kind, "new", s.opts.IDSeed, strconv.Itoa(s.seq))
	}
	return derivedID(kind, "new", strconv.Itoa(s.seq))
}
