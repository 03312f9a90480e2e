package bot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSplitMarkdown(t *testing.T) {
	long := strings.Repeat("ø", 5000) // 10,000 bytes on one line
	lines := strings.Repeat(strings.Repeat("x", 99)+"\n", 200)
	tests := []struct {
		name      string
		in        string
		wantParts int
	}{
		{"short", "hello", 1},
		{"exactly the limit", strings.Repeat("a", MaxMessageBytes), 1},
		{"one long line of multi-byte runes", long, 2},
		{"many lines", lines, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := splitMarkdown(tt.in, MaxMessageBytes)
			if len(parts) != tt.wantParts {
				t.Errorf("got %d parts, want %d", len(parts), tt.wantParts)
			}
			var joined strings.Builder
			for _, p := range parts {
				if len(p) > MaxMessageBytes || p == "" || !utf8.ValidString(p) {
					t.Errorf("part of %d bytes (valid UTF-8: %v)", len(p), utf8.ValidString(p))
				}
				joined.WriteString(p)
			}
			if got, want := strings.ReplaceAll(joined.String(), "\n", ""), strings.ReplaceAll(tt.in, "\n", ""); got != want {
				t.Errorf("parts lose text: got %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

func TestTrimMarkdown(t *testing.T) {
	got := trimMarkdown(strings.Repeat("å", 4000), MaxMessageBytes)
	if len(got) > MaxMessageBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("trimMarkdown: %d bytes, valid %v, suffix %q", len(got), utf8.ValidString(got), got[len(got)-3:])
	}
}

func TestStripMention(t *testing.T) {
	me := Person{ID: "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9ib3Q", DisplayName: "attachbot"}
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"group with html", Message{RoomType: "group", Text: "attachbot help",
			HTML: `<p><spark-mention data-object-type="person" data-object-id="Y2lzY29zcGFyazovL3VzL1BFT1BMRS9ib3Q">attachbot</spark-mention> help</p>`}, "help"},
		{"group without html", Message{RoomType: "group", Text: "Attachbot  check abc"}, "check abc"},
		{"direct", Message{RoomType: "direct", Text: "  status  "}, "status"},
		{"direct starting with the name is kept", Message{RoomType: "direct", Text: "attachbot"}, "attachbot"},
	}
	for _, tt := range tests {
		if got := stripMention(tt.msg, me); got != tt.want {
			t.Errorf("%s: stripMention = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSpecFromArgs(t *testing.T) {
	b := &Bot{cfg: Config{Templates: []Template{{Name: "Standard", ProvisioningID: "cHJvdmlzaW9uaW5nLXN0YW5kYXJk"}}}}
	const org = "52cf576d-60a8-407a-b22c-467c51591908"
	valid := map[string]string{
		"org": org, "admin": "it@shop.example", "template": "standard", "packages": "webex_calling,webex_meetings",
		"street": "Nørregade 1", "city": "København", "country": "dk", "verified-domain": "no", "claimed-domain": "no",
	}
	spec, problems := b.SpecFromArgs(valid, "ann@partner.example")
	if len(problems) > 0 {
		t.Fatalf("valid args: problems %q", problems)
	}
	wantCalling := &CallingLocation{Name: "Headquarters", Timezone: "Europe/Copenhagen", Language: "da_dk",
		Address: Address{Line1: "Nørregade 1", City: "København", Country: "DK"}}
	if diff := cmp.Diff(wantCalling, spec.Calling); diff != "" {
		t.Errorf("calling location defaults (-want +got):\n%s", diff)
	}
	if spec.ProvisioningID != "cHJvdmlzaW9uaW5nLXN0YW5kYXJk" || spec.Template != "Standard" {
		t.Errorf("template resolved to %q/%q", spec.Template, spec.ProvisioningID)
	}
	if spec.Declared.By != "ann@partner.example" || spec.Declared.VerifiedDomain != No {
		t.Errorf("declared = %+v", spec.Declared)
	}

	bad := map[string]string{
		"org": "nope", "admin": "it-at-shop", "template": "Gold", "packages": "webex_calling,attendant_consol,cisco_calling_plan",
		"street": strings.Repeat("x", 51), "country": "XX", "users": "maybe", "colour": "blue", "timezone": "Mars/Base",
	}
	_, problems = b.SpecFromArgs(bad, "ann@partner.example")
	wantFragments := []string{
		"unknown key “colour”", "users=maybe", "org=nope", "admin=it-at-shop", "template=Gold",
		"unknown package “attendant_consol”", "street is 51 characters", "city is missing", "country=XX", "timezone=Mars/Base",
	}
	for _, frag := range wantFragments {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, frag)
		}
		if !found {
			t.Errorf("problems %q lack %q", problems, frag)
		}
	}
	// cisco_calling_plan needs a calling package, and webex_calling is one: no problem there.
	for _, p := range problems {
		if strings.HasPrefix(p, "package cisco_calling_plan") {
			t.Errorf("unexpected problem %q", p)
		}
	}
}

func TestSameEmail(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"kim@customer.example", "Kim@Customer.Example", true},
		{" kim@customer.example ", "kim@customer.example", true},
		{"", "", false},
		// Unicode folding would take the Kelvin sign for k, and the long s for s.
		{"\u212aim@customer.example", "kim@customer.example", false},
		{"ross@customer.example", "ro\u017f\u017f@customer.example", false},
		{"J\u00f8rn@customer.example", "j\u00f8rn@customer.example", true},
		{"j\u00d8rn@customer.example", "j\u00f8rn@customer.example", false},
	} {
		if got := sameEmail(tt.a, tt.b); got != tt.want {
			t.Errorf("sameEmail(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
