package bot

import "testing"

func TestOrgIDText(t *testing.T) {
	const uuid = "73f80e52-a369-48b5-a441-4c46f147ecf9"
	tests := []struct{ in, want string }{
		{"Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi83M2Y4MGU1Mi1hMzY5LTQ4YjUtYTQ0MS00YzQ2ZjE0N2VjZjk", uuid},
		{uuid, uuid},
		{"not an id", "not an id"},
	}
	for _, tt := range tests {
		if got := OrgIDText(tt.in); got != tt.want {
			t.Errorf("OrgIDText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPluralAndStateText(t *testing.T) {
	tests := []struct{ got, want string }{
		{plural(0, "license"), "0 licenses"},
		{plural(1, "license"), "1 license"},
		{plural(2, "user"), "2 users"},
		{StateText(StateError), "failed"},
		{StateText(StateProvisionedWithErrors), "provisioned, with errors"},
		{StateText(StatePendingReview), "in Cisco's compliance review"},
		{StateText(StateProvisioning), "being provisioned by Webex"},
		{StateText(State("brand_new")), "`brand_new`"},
		{PackageLabels([]string{"webex_calling", "cx_essentials", "unknown_pkg"}), "Webex Calling, Customer Assist, unknown_pkg"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
