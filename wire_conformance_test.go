package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/webex/webextest"
)

// precheckCalls returns the bodies of POST /wholesale/customers/validate Webex received.
func (h *harness) precheckCalls() []map[string]any {
	h.t.Helper()
	var bodies []map[string]any
	for _, c := range h.sim.CallsTo(http.MethodPost, "/v1/wholesale/customers/validate") {
		var body map[string]any
		if err := json.Unmarshal(c.Body, &body); err != nil {
			h.t.Fatalf("POST /wholesale/customers/validate body: %v\n%s", err, c.Body)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

// TestAttachCustomerName: Webex requires customerInfo.name with customerInfo.primaryEmail. The
// name comes from name=, else from the organization's display name, else the partner is asked
// for it and nothing is written to Webex.
func TestAttachCustomerName(t *testing.T) {
	const facts = "verified-domain=no claimed-domain=no trial=no"
	tests := []struct {
		name     string
		managed  bool   // the partner can read the organization's display name
		line     string // the attach line after org= and admin=
		wantName string // customerInfo.name, or "" when the partner is asked
	}{
		{"name= wins", true, `template=Standard packages=webex_meetings name="Given Name" street="Storgata 1" city=Oslo country=NO ` + facts, "Given Name"},
		{"the display name of a managed org", true, `template=Standard packages=webex_meetings street="Storgata 1" city=Oslo country=NO ` + facts, "Fjord Fisk AS"},
		{"an org the partner cannot read", false, `template=Standard packages=webex_meetings street="Storgata 1" city=Oslo country=NO ` + facts, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			org, err := h.sim.AddOrg(webextest.Org{Name: "Fjord Fisk AS", AdminEmail: "admin@fjordfisk.example", Users: 12,
				Readable: true, Managed: tt.managed, Licenses: []webextest.License{{Name: "Messaging", TotalUnits: 12, ConsumedUnits: 12}}})
			if err != nil {
				t.Fatal(err)
			}
			_, replies := h.attach("attach org=" + org.ID + " admin=admin@fjordfisk.example " + tt.line)
			bodies := h.provisionCalls()
			if tt.wantName == "" {
				mustContain(t, "the reply", joined(replies), "name is missing", `name="Acme Inc"`)
				if len(bodies) != 0 || len(h.webexWrites()) != 0 {
					t.Errorf("Webex writes %q without a customer name, want none", h.webexWrites())
				}
				return
			}
			if len(bodies) != 1 {
				t.Fatalf("POST /wholesale/customers %d times, want once; replies:\n%s", len(bodies), joined(replies))
			}
			want := map[string]any{"name": tt.wantName, "primaryEmail": "admin@fjordfisk.example"}
			if diff := cmp.Diff(want, bodies[0]["customerInfo"]); diff != "" {
				t.Errorf("customerInfo (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAttachLanguages: customerInfo.language is sent as {ISO-639-1}_{ISO-3166} (en_US), the
// calling location's language as its schema shows (en_us), and the precheck's customerInfo
// has no language at all.
func TestAttachLanguages(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	line := strings.Replace(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_calling", "verified-domain=no claimed-domain=no"),
		"country=NO", "country=NO language=en_GB", 1)
	_, replies := h.attach(line)
	bodies := h.provisionCalls()
	if len(bodies) != 1 {
		t.Fatalf("POST /wholesale/customers %d times, want once; replies:\n%s", len(bodies), joined(replies))
	}
	if got := bodies[0]["customerInfo"].(map[string]any)["language"]; got != "en_GB" {
		t.Errorf("customerInfo.language = %v, want en_GB", got)
	}
	loc := bodies[0]["provisioningParameters"].(map[string]any)["calling"].(map[string]any)["location"].(map[string]any)
	if got := loc["language"]; got != "en_gb" {
		t.Errorf("the calling location's language = %v, want en_gb", got)
	}
	prechecks := h.precheckCalls()
	if len(prechecks) != 1 {
		t.Fatalf("%d prechecks, want 1", len(prechecks))
	}
	want := map[string]any{"name": "Nordlys AS", "primaryEmail": webextest.SmallAdminEmail}
	if diff := cmp.Diff(want, prechecks[0]["customerInfo"]); diff != "" {
		t.Errorf("the precheck's customerInfo (-want +got):\n%s", diff)
	}

	// A bare language: the country's default when it is that language, else the partner is
	// asked for the country too.
	h2 := newHarness(t, harnessOptions{})
	bare := strings.Replace(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_calling", "verified-domain=no claimed-domain=no"),
		"country=NO", "country=NO language=en", 1)
	_, replies = h2.attach(bare)
	mustContain(t, "the reply to language=en in Norway", joined(replies), "a calling location needs a language with its country, such as en_us")
	if got := h2.webexWrites(); len(got) != 0 {
		t.Errorf("Webex writes %q after a bad language, want none", got)
	}
}
