package bot_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"attachbot/bot"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestAssessEveryCombination checks the rules over every combination of the six facts that
// matter, against the rules written out independently of Assess.
func TestAssessEveryCombination(t *testing.T) {
	values := []bot.Tri{bot.Unknown, bot.No, bot.Yes}
	n := 0
	for _, users := range values {
		for _, verified := range values {
			for _, claimed := range values {
				for _, licenses := range values {
					for _, inactive := range values {
						for _, trial := range values {
							f := bot.Facts{
								Users: bot.Fact{Value: users}, VerifiedDomain: bot.Fact{Value: verified},
								ClaimedDomain: bot.Fact{Value: claimed}, Licenses: bot.Fact{Value: licenses},
								InactiveLicensesOnly: bot.Fact{Value: inactive}, Trial: bot.Fact{Value: trial},
							}
							n++
							name := fmt.Sprintf("users=%s,verified=%s,claimed=%s,licenses=%s,inactive=%s,trial=%s", users, verified, claimed, licenses, inactive, trial)
							t.Run(name, func(t *testing.T) {
								got := bot.Assess(f)
								want := expectedAssessment(users, verified, claimed, licenses, inactive, trial)
								if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
									t.Errorf("Assess(%s) mismatch (-want +got):\n%s", name, diff)
								}
							})
						}
					}
				}
			}
		}
	}
	if n != 729 {
		t.Fatalf("tested %d combinations, want 729", n)
	}
}

// expectedAssessment is docs/rules-for-attaching.md, sections 1, 2 and 5, spelled out.
func expectedAssessment(users, verified, claimed, licenses, inactive, trial bot.Tri) bot.Assessment {
	var a bot.Assessment
	criteria := []struct {
		name  string
		value bot.Tri
	}{{bot.CriterionUsers, users}, {bot.CriterionVerifiedDomain, verified}, {bot.CriterionClaimedDomain, claimed}}
	anyYes, allNo := false, true
	for _, c := range criteria {
		if c.value == bot.Yes {
			anyYes = true
			a.Because = append(a.Because, c.name)
		}
		if c.value != bot.No {
			allNo = false
		}
		if c.value == bot.Unknown {
			a.Unknown = append(a.Unknown, c.name)
		}
	}
	// Any yes: approval. All no: automatic. Otherwise: approval, the safe side.
	a.ApprovalRequired = anyYes || !allNo
	if licenses == bot.No || inactive == bot.Yes {
		a.Role = bot.RoleFullAdmin
	} else {
		a.Role = bot.RoleProvisioningAdmin
	}
	a.Trial = trial == bot.Yes
	return a
}

func TestNormalizeOrgID(t *testing.T) {
	const uuid = "52cf576d-60a8-407a-b22c-467c51591908"
	const base64ID = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi81MmNmNTc2ZC02MGE4LTQwN2EtYjIyYy00NjdjNTE1OTE5MDg"
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{in: base64ID, want: base64ID, wantOK: true},
		{in: base64ID + "=", want: base64ID, wantOK: true},
		{in: "  " + base64ID + "\n", want: base64ID, wantOK: true},
		{in: uuid, want: base64ID, wantOK: true},
		{in: "52CF576D-60A8-407A-B22C-467C51591908", want: base64ID, wantOK: true},
		// ciscospark://us/Organization/… is the same organization, handed out as …/ORGANIZATION/….
		{in: "Y2lzY29zcGFyazovL3VzL09yZ2FuaXphdGlvbi81MmNmNTc2ZC02MGE4LTQwN2EtYjIyYy00NjdjNTE1OTE5MDg", want: base64ID, wantOK: true},
		// A person id is not an organization id.
		{in: "Y2lzY29zcGFyazovL3VzL1BFT1BMRS81MmNmNTc2ZC02MGE4LTQwN2EtYjIyYy00NjdjNTE1OTE5MDg"},
		{in: "not-an-id"},
		{in: ""},
	}
	for _, tt := range tests {
		got, ok := bot.NormalizeOrgID(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("NormalizeOrgID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestAllowlist(t *testing.T) {
	a, err := bot.ParseAllowlist(" Ann@Partner.example , @ops.partner.example, kim@partner.example, ross@partner.example")
	if err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]bool{
		"ann@partner.example": true, "ANN@PARTNER.EXAMPLE": true, "bob@ops.partner.example": true,
		"bob@partner.example": false, "eve@elsewhere.example": false, "": false, "ops.partner.example": false,
		"KIM@partner.example": true,
		// Unicode folding would take the Kelvin sign for k and the long s for s; ASCII does not.
		"\u212aim@partner.example": false, "ro\u017f\u017f@partner.example": false, "bob@ops.partner.exampl\u212a": false,
		"ann@partner.example\u00a0": true, // pasted white space around the address is ignored
	} {
		if got := a.Allows(email); got != want {
			t.Errorf("Allows(%q) = %v, want %v", email, got, want)
		}
	}
	for _, tt := range []struct{ in, wantInError string }{
		{"", "no email address"}, {" , ", "no email address"}, {"ann", `"ann" is neither`}, {"@", `"@" is neither`},
		{"ann@partner.example, bob", `"bob" is neither`},
		{"ann@partner.example, \u212aim@partner.example", `is not plain ASCII (it has U+212A)`},
		{"@b\u00fccher.example", "\"@b\u00fccher.example\" is not plain ASCII (it has U+00FC)"},
	} {
		_, err := bot.ParseAllowlist(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.wantInError) {
			t.Errorf("ParseAllowlist(%q) = %v, want an error with %q", tt.in, err, tt.wantInError)
		}
	}
}

func TestPackagesCatalogue(t *testing.T) {
	// Every dependency names a known package.
	for _, p := range bot.Packages() {
		for _, r := range p.Requires {
			if !slices.ContainsFunc(bot.Packages(), func(q bot.PackageInfo) bool { return q.Name == r }) {
				t.Errorf("package %s requires unknown package %s", p.Name, r)
			}
		}
	}
}
