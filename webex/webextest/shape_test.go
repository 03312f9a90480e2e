package webextest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/webex/webextest"
)

// customerPackageList is the spec's WholesalePackagesCustomer enum, as refusals list it.
const customerPackageList = "common_area_calling, webex_calling, webex_meetings, webex_suite, webex_voice, cx_essentials, " +
	"webex_calling_standard, cisco_calling_plan, attendant_console, cx_premium_agent, cx_standard_agent, cx_voice_ports, " +
	"cx_ai_assistant, webex_ai_agent"

// customerInfo returns a valid customerInfo of POST /wholesale/customers.
func customerInfo() body {
	return body{"name": "Acme", "primaryEmail": "admin@acme.example", "language": "en_US"}
}

func TestShapeRefusals(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	hook := e.hook(t, "https://bot.example/hook", "messages", "created", "")
	p, b := webextest.DefaultPartnerToken, webextest.DefaultBotToken
	valid := attachBody(webextest.SmallOrgID, "ext-shape")
	tests := []struct {
		name         string
		token        string
		method, path string
		body         any
		wantOp       string
		want         []string
	}{
		{"customerInfo without a name", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) { b["customerInfo"] = body{"primaryEmail": "admin@acme.example"} }),
			"POST /wholesale/customers", []string{"customerInfo.name is required."}},
		{"customerInfo without an email", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) { b["customerInfo"] = body{"name": "Acme"} }),
			"POST /wholesale/customers", []string{"customerInfo.primaryEmail is required."}},
		{"a % in the customer name", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) { b["customerInfo"] = with(customerInfo(), func(c body) { c["name"] = "100% Pizza" }) }),
			"POST /wholesale/customers", []string{"customerInfo.name must not contain %."}},
		{"a lower-case country in customerInfo.language", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) { b["customerInfo"] = with(customerInfo(), func(c body) { c["language"] = "en_us" }) }),
			"POST /wholesale/customers", []string{`customerInfo.language must be an {ISO-639-1}_{ISO-3166} or {ISO-639-1} code such as en_US or en, not "en_us".`}},
		{"a field the schema does not have", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) { b["customerName"] = "Acme" }),
			"POST /wholesale/customers", []string{"customerName is not a field of this request."}},
		{"an unknown package", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) { b["packages"] = []string{"webex_teleport"} }),
			"POST /wholesale/customers", []string{`packages[0]: "webex_teleport" is not one of ` + customerPackageList + "."}},
		{"packages not a list", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) { b["packages"] = "webex_meetings" }),
			"POST /wholesale/customers", []string{"packages must be an array, not a string."}},
		{"attendant_console with webex_voice", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) {
				b["packages"] = []string{"webex_voice", "attendant_console"}
				b["provisioningParameters"] = callingLocation()
			}),
			"POST /wholesale/customers", []string{"packages: attendant_console requires one of webex_calling, webex_suite, cx_essentials."}},
		{"cisco_calling_plan alone", p, "POST", "/v1/wholesale/customers/validate",
			with(valid, func(b body) { b["packages"] = []string{"cisco_calling_plan"} }),
			"POST /wholesale/customers/validate", []string{"packages: cisco_calling_plan requires one of common_area_calling, webex_calling, webex_suite, webex_voice, cx_essentials, webex_calling_standard."}},
		{"a three-letter country", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) { b["address"].(body)["country"] = "USA" }),
			"POST /wholesale/customers", []string{`address.country must be an ISO 3166 alpha-2 code (size = 2), not "USA".`}},
		{"a long second address line of the calling location", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) {
				b["packages"] = []string{"webex_calling"}
				loc := callingLocation()
				loc["calling"].(body)["location"].(body)["address"].(body)["addressLine2"] = strings.Repeat("x", 51)
				b["provisioningParameters"] = loc
			}),
			"POST /wholesale/customers", []string{"provisioningParameters.calling.location.address.addressLine2 is 51 characters long; the limit is 50."}},
		{"a calling location without a time zone", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) {
				b["packages"] = []string{"webex_calling"}
				loc := callingLocation()
				delete(loc["calling"].(body)["location"].(body), "timezone")
				b["provisioningParameters"] = loc
			}),
			"POST /wholesale/customers", []string{"provisioningParameters.calling.location.timezone is required."}},
		{"a calling package without a location", p, "POST", "/v1/wholesale/customers",
			with(valid, func(b body) { b["packages"] = []string{"cx_essentials"} }),
			"POST /wholesale/customers", []string{"provisioningParameters.calling.location is required when provisioning calling packages."}},
		{"the precheck's customerInfo has no language", p, "POST", "/v1/wholesale/customers/validate",
			with(valid, func(b body) { b["customerInfo"] = customerInfo() }),
			"POST /wholesale/customers/validate", []string{"customerInfo.language is not a field of this request."}},
		{"the precheck's customerInfo needs the email", p, "POST", "/v1/wholesale/customers/validate",
			with(valid, func(b body) { b["customerInfo"] = body{"name": "Acme"} }),
			"POST /wholesale/customers/validate", []string{"customerInfo.primaryEmail is required."}},
		{"the precheck needs an address", p, "POST", "/v1/wholesale/customers/validate",
			with(valid, func(b body) { delete(b, "address") }),
			"POST /wholesale/customers/validate", []string{"address is required."}},
		{"several problems at once", p, "POST", "/v1/wholesale/customers",
			body{"packages": []string{"webex_meetings"}, "address": body{"city": "Oslo", "country": "NO"}},
			"POST /wholesale/customers", []string{"address.addressLine1 is required.", "externalId is required.",
				"customerInfo is required for a new customer (no orgId).", "provisioningId is required."}},
		{"an empty body", p, "POST", "/v1/wholesale/customers", []byte(" "),
			"POST /wholesale/customers", []string{"The request body is empty."}},
		{"a boolean query parameter", p, "GET", "/v1/wholesale/customers/C1?includePackageLicenseInfo=yes", nil,
			"GET /wholesale/customers/{customerId}", []string{"query parameter includePackageLicenseInfo must be a boolean, not a string."}},
		{"a number query parameter", p, "GET", "/v1/people?orgId=" + webextest.SmallOrgID + "&max=ten", nil,
			"GET /people", []string{"query parameter max must be a number, not a string."}},
		{"the bot's webhooks max", b, "GET", "/v1/webhooks?max=all", nil,
			"GET /webhooks", []string{"query parameter max must be a number, not a string."}},
		{"markdown over the limit", b, "POST", "/v1/messages",
			body{"roomId": webextest.PartnerSpaceID, "markdown": strings.Repeat("x", 7440)},
			"POST /messages", []string{"markdown is 7440 bytes long; the maximum message length is 7439 bytes."}},
		{"two cards", b, "POST", "/v1/messages",
			body{"roomId": webextest.PartnerSpaceID, "markdown": "x", "attachments": []body{
				{"contentType": "application/vnd.microsoft.card.adaptive", "content": body{"type": "AdaptiveCard"}},
				{"contentType": "application/vnd.microsoft.card.adaptive", "content": body{"type": "AdaptiveCard"}},
			}},
			"POST /messages", []string{"attachments has 2 entries; only one card per message is supported."}},
		{"a card of another content type", b, "POST", "/v1/messages",
			body{"roomId": webextest.PartnerSpaceID, "markdown": "x", "attachments": []body{{"contentType": "text/html", "content": body{}}}},
			"POST /messages", []string{`attachments[0].contentType: "text/html" is not one of application/vnd.microsoft.card.adaptive.`}},
		{"two files", b, "POST", "/v1/messages",
			body{"roomId": webextest.PartnerSpaceID, "files": []string{"https://a.example/1.png", "https://a.example/2.png"}},
			"POST /messages", []string{"files has 2 entries; only one file is allowed per message."}},
		{"html in a new message", b, "POST", "/v1/messages",
			body{"roomId": webextest.PartnerSpaceID, "html": "<b>x</b>"},
			"POST /messages", []string{"html is not a field of this request."}},
		{"a webhook without an event", b, "POST", "/v1/webhooks",
			body{"name": "x", "targetUrl": "https://bot.example/hook", "resource": "messages"},
			"POST /webhooks", []string{"event is required."}},
		{"an owner filter without ownedBy", b, "POST", "/v1/webhooks",
			body{"name": "x", "targetUrl": "https://bot.example/hook", "resource": "meetings", "event": "started", "filter": "ownerEmail=a@b.example"},
			"POST /webhooks", []string{"ownedBy must be set to org with a filter of ownerEmail."}},
		{"a webhook update to inactive", b, "PUT", "/v1/webhooks/" + hook.ID,
			body{"name": "x", "targetUrl": "https://bot.example/hook", "status": "inactive"},
			"PUT /webhooks/{webhookId}", []string{`status: "inactive" is not one of active.`}},
		{"a card action of another type", b, "POST", "/v1/attachment/actions",
			body{"type": "click", "messageId": "M1", "inputs": body{}},
			"POST /attachment/actions", []string{`type: "click" is not one of submit.`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.sim.ShapeRefusals())
			a := e.call(t, tc.token, tc.method, tc.path, tc.body)
			if a.status != 400 {
				t.Fatalf("%s %s = %d %s, want 400", tc.method, tc.path, a.status, a.body)
			}
			got := decode[webexError](t, a)
			var descriptions []string
			for _, d := range got.Errors {
				descriptions = append(descriptions, d.Description)
			}
			if diff := cmp.Diff(sorted(tc.want), descriptions); diff != "" {
				t.Errorf("errors[].description (-want +got):\n%s", diff)
			}
			if got.Message == "" || got.TrackingID == "" {
				t.Errorf("message %q, trackingId %q: want both", got.Message, got.TrackingID)
			}
			refusals := e.sim.ShapeRefusals()
			if len(refusals) != before+1 {
				t.Fatalf("ShapeRefusals grew by %d, want 1", len(refusals)-before)
			}
			r := refusals[len(refusals)-1]
			if r.Operation != tc.wantOp || r.TrackingID != got.TrackingID || !cmp.Equal(r.Problems, descriptions) {
				t.Errorf("refusal = %s %s %q, want %s %s %q", r.Operation, r.TrackingID, r.Problems, tc.wantOp, got.TrackingID, descriptions)
			}
		})
	}
}

// sorted returns a sorted copy of s: the Sim lists a request's problems in order.
func sorted(s []string) []string {
	return slices.Sorted(slices.Values(s))
}

func TestShapeAcceptsWhatTheSpecAllows(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	p, b := webextest.DefaultPartnerToken, webextest.DefaultBotToken
	tests := []struct {
		name         string
		token        string
		method, path string
		body         any
	}{
		{"a precheck with only the address and an email", p, "POST", "/v1/wholesale/customers/validate",
			body{"address": body{"addressLine1": "1 Main St", "city": "Oslo", "country": "NO"}, "customerInfo": body{"primaryEmail": "a@b.example"}}},
		{"an attach with customerInfo and a calling location", p, "POST", "/v1/wholesale/customers",
			with(attachBody(webextest.NoLicenseOrgID, "ext-ok"), func(b body) {
				b["packages"] = []string{"webex_calling", "attendant_console"}
				b["customerInfo"] = customerInfo()
				b["provisioningParameters"] = callingLocation()
			})},
		{"the customers list by offset, status a list", p, "GET", "/v1/wholesale/customers?offset=0&max=10&status=provisioned,error", nil},
		{"a query parameter no spec lists", p, "GET", "/v1/licenses?orgId=" + webextest.SmallOrgID + "&colour=red", nil},
		{"a firehose webhook", b, "POST", "/v1/webhooks", body{"name": "all", "targetUrl": "https://bot.example/hook", "resource": "all", "event": "all"}},
		{"a card", b, "POST", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "markdown": "x", "attachments": card()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.call(t, tc.token, tc.method, tc.path, tc.body)
			if a.status >= 300 {
				t.Errorf("%s %s = %d %s, want it accepted", tc.method, tc.path, a.status, a.body)
			}
		})
	}
	if r := e.sim.ShapeRefusals(); len(r) != 0 {
		t.Errorf("ShapeRefusals = %+v, want none", r)
	}
}
