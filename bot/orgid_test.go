package bot_test

import (
	"testing"

	"attachbot/bot"
)

// Organization ids from the Webex API reference's examples: one organization spelled with and
// without padding, and another spelled "ORGANIZATION" and "Organization".
const (
	specOrgUnpadded = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8yYzNjOWY5NS03M2Q5LTQ0NjAtYTY2OC0wNDcxNjJmZjFiYWQ"
	specOrgPadded   = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8yYzNjOWY5NS03M2Q5LTQ0NjAtYTY2OC0wNDcxNjJmZjFiYWQ="
	specOrgUUID     = "2c3c9f95-73d9-4460-a668-047162ff1bad"
	// specOrgMixedCase is specOrgUnpadded's organization spelled ciscospark://us/Organization/….
	specOrgMixedCase = "Y2lzY29zcGFyazovL3VzL09yZ2FuaXphdGlvbi8yYzNjOWY5NS03M2Q5LTQ0NjAtYTY2OC0wNDcxNjJmZjFiYWQ"
	// specOrgEU is the same UUID in the eu region.
	specOrgEU = "Y2lzY29zcGFyazovL2V1L09SR0FOSVpBVElPTi8yYzNjOWY5NS03M2Q5LTQ0NjAtYTY2OC0wNDcxNjJmZjFiYWQ"

	// The reference's ciscospark://us/ORGANIZATION/52cf…908 and ciscospark://us/Organization/52cf…909
	// differ in their last digit: two organizations.
	specOrg908      = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi81MmNmNTc2ZC02MGE4LTQwN2EtYjIyYy00NjdjNTE1OTE5MDg"
	specOrg909Mixed = "Y2lzY29zcGFyazovL3VzL09yZ2FuaXphdGlvbi81MmNmNTc2ZC02MGE4LTQwN2EtYjIyYy00NjdjNTE1OTE5MDk"
	specOrg909Upper = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi81MmNmNTc2ZC02MGE4LTQwN2EtYjIyYy00NjdjNTE1OTE5MDk"

	// A person id and a truncated organization id from the reference: not organization ids.
	specPersonID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIzNjE4Ny1jOGRkLTQ3MjctOGIyZi1mOWM0NDdmMjkwNDY"
	specTruncatedID = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi85NmFiYzJhYS0zZGNjLTE"
)

func TestOrgUUID(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{in: specOrgUnpadded, want: specOrgUUID, wantOK: true},
		{in: specOrgPadded, want: specOrgUUID, wantOK: true},
		{in: specOrgMixedCase, want: specOrgUUID, wantOK: true},
		{in: specOrgEU, want: specOrgUUID, wantOK: true},
		{in: specOrgUUID, want: specOrgUUID, wantOK: true},
		{in: " 2C3C9F95-73D9-4460-A668-047162FF1BAD ", want: specOrgUUID, wantOK: true},
		{in: specOrg908, want: "52cf576d-60a8-407a-b22c-467c51591908", wantOK: true},
		{in: specOrg909Mixed, want: "52cf576d-60a8-407a-b22c-467c51591909", wantOK: true},
		{in: specPersonID},
		{in: specTruncatedID},
		{in: "not-an-id"},
		{in: ""},
	}
	for _, tt := range tests {
		got, ok := bot.OrgUUID(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("OrgUUID(%q) = %q, %t; want %q, %t", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestSameOrg(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{specOrgUnpadded, specOrgPadded, true},
		{specOrgUnpadded, specOrgMixedCase, true},
		{specOrgPadded, specOrgMixedCase, true},
		{specOrgUnpadded, specOrgUUID, true},
		{specOrgMixedCase, "2C3C9F95-73D9-4460-A668-047162FF1BAD", true},
		{specOrgUnpadded, specOrgEU, true},
		{specOrg909Mixed, specOrg909Upper, true},
		{specOrgUnpadded, specOrgUnpadded, true},
		{specOrg908, specOrg909Mixed, false},
		{specOrg908, specOrgUnpadded, false},
		{specPersonID, specPersonID, false}, // not organization ids: the same as none
		{specTruncatedID, specTruncatedID, false},
		{"", "", false},
		{specOrgUnpadded, "", false},
	}
	for _, tt := range tests {
		if got := bot.SameOrg(tt.a, tt.b); got != tt.want {
			t.Errorf("SameOrg(%q, %q) = %t, want %t", tt.a, tt.b, got, tt.want)
		}
		if got := bot.SameOrg(tt.b, tt.a); got != tt.want {
			t.Errorf("SameOrg(%q, %q) = %t, want %t (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}
