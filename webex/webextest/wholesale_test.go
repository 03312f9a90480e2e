package webextest_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
)

// body is a JSON object under construction.
type body = map[string]any

// attachBody returns a valid POST wholesale/customers body attaching orgID with webex_meetings.
func attachBody(orgID, externalID string) body {
	return body{
		"provisioningId": "ZjViMzYxODctYzhkZC00NzI3LThiMmYtZjljNDQ3ZjI5MDQ2",
		"packages":       []string{"webex_meetings"},
		"orgId":          orgID,
		"externalId":     externalID,
		"address": body{
			"addressLine1": "771 Alder Drive", "city": "Milpitas", "stateOrProvince": "CA",
			"zipOrPostalCode": "95035", "country": "US",
		},
	}
}

// callingLocation returns a valid provisioningParameters with a calling location.
func callingLocation() body {
	return body{"calling": body{"location": body{
		"name":     "Head Office",
		"address":  body{"addressLine1": "771 Alder Drive", "city": "Milpitas", "country": "US"},
		"timezone": "America/Los_Angeles",
		"language": "en_us",
	}}}
}

// with returns a copy of b with changes applied to its top level.
func with(b body, changes func(body)) body {
	raw, err := json.Marshal(b)
	if err != nil {
		panic(err)
	}
	var c body
	if err := json.Unmarshal(raw, &c); err != nil {
		panic(err)
	}
	changes(c)
	return c
}

func TestProvisionLifecycle(t *testing.T) {
	e := newEnv(t, webextest.Options{ProvisioningDelay: time.Minute})
	p := webextest.DefaultPartnerToken

	a := e.call(t, p, "POST", "/v1/wholesale/customers", attachBody(webextest.SmallOrgID, "ext-small-1"))
	if a.status != 202 {
		t.Fatalf("POST wholesale/customers = %d %s, want 202", a.status, a.body)
	}
	loc := a.header.Get("Location")
	got := decode[struct{ URL string }](t, a)
	if got.URL != loc || !strings.HasPrefix(loc, e.srv.URL+"/v1/wholesale/customers/") {
		t.Fatalf("Location %q, url %q: want the same absolute customer URL on %s", loc, got.URL, e.srv.URL)
	}
	customerID := loc[strings.LastIndex(loc, "/")+1:]
	if kind, _, err := webextest.DecodeID(customerID); err != nil || kind != "ENTERPRISE" {
		t.Errorf("customer id %s decodes to kind %q (%v), want ENTERPRISE", customerID, kind, err)
	}
	if customerID == webextest.SmallOrgID {
		t.Error("customer id is the org id")
	}

	get := func() webextest.Customer {
		t.Helper()
		a := e.call(t, p, "GET", "/v1/wholesale/customers/"+customerID, nil)
		if a.status != 200 {
			t.Fatalf("GET customer = %d %s", a.status, a.body)
		}
		return decode[webextest.Customer](t, a)
	}
	c := get()
	want := webextest.Customer{
		ID: customerID, ExternalID: "ext-small-1", Status: "provisioning", Packages: []string{"webex_meetings"},
		Address: webextest.Address{AddressLine1: "771 Alder Drive", City: "Milpitas", StateOrProvince: "CA", ZipOrPostalCode: "95035", Country: "US"},
		ResourceDetails: &webextest.ResourceDetails{Packages: []webextest.PackageDetail{
			{Name: "webex_meetings", Status: "provisioning"},
		}},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("customer while provisioning (-want +got):\n%s", diff)
	}
	if a := e.call(t, p, "GET", "/v1/partner/organizations/"+webextest.SmallOrgID+"/partnerAdmins", nil); a.status != 403 {
		t.Errorf("partnerAdmins while provisioning = %d, want 403", a.status)
	}

	e.clock.Advance(59 * time.Second)
	if got := get().Status; got != "provisioning" {
		t.Errorf("status after 59s = %q, want provisioning", got)
	}
	e.clock.Advance(time.Second)
	c = get()
	want.Status, want.OrgID = "provisioned", webextest.SmallOrgID
	want.ResourceDetails.Packages[0].Status = "provisioned"
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("customer after the delay (-want +got):\n%s", diff)
	}

	withLicenses := decode[webextest.Customer](t, e.call(t, p, "GET", "/v1/wholesale/customers/"+customerID+"?includePackageLicenseInfo=true", nil))
	if ids := withLicenses.ResourceDetails.Packages[0].LicenseIDs; len(ids) != 1 {
		t.Errorf("licenseIds with includePackageLicenseInfo = %v, want one", ids)
	}

	// The org is now managed: listed, readable, with the partner's admins as provisioning admins.
	if a := e.call(t, p, "GET", "/v1/organizations/"+webextest.SmallOrgID, nil); a.status != 200 {
		t.Errorf("GET organization after provisioning = %d, want 200", a.status)
	}
	a = e.call(t, p, "GET", "/v1/partner/organizations/"+webextest.SmallOrgID+"/partnerAdmins", nil)
	admins := decode[struct {
		Items []struct{ ID, RoleInCustomerOrg string }
	}](t, a).Items
	if len(admins) == 0 || admins[0].ID != webextest.AnnID || admins[0].RoleInCustomerOrg != webextest.RoleProvisionAdmin {
		t.Errorf("partnerAdmins after provisioning = %s, want Ann as %s", a.body, webextest.RoleProvisionAdmin)
	}

	list := func(q url.Values) []string {
		t.Helper()
		a := e.call(t, p, "GET", "/v1/wholesale/customers?"+q.Encode(), nil)
		if a.status != 200 {
			t.Fatalf("GET customers?%s = %d %s", q.Encode(), a.status, a.body)
		}
		var ids []string
		for _, c := range decode[struct{ Items []webextest.Customer }](t, a).Items {
			ids = append(ids, c.ID)
		}
		return ids
	}
	lists := []struct {
		q    url.Values
		want []string
	}{
		{url.Values{"orgId": {webextest.SmallOrgID}}, []string{customerID}},
		{url.Values{"externalId": {webextest.ExistingExternalID}}, []string{webextest.ExistingCustomerID}},
		{url.Values{"status": {"provisioned"}}, []string{webextest.ExistingCustomerID, customerID}},
		{url.Values{"status": {"error,provisioning"}}, nil},
		{url.Values{"orgId": {webextest.BigOrgID}}, nil},
	}
	for _, l := range lists {
		if diff := cmp.Diff(l.want, list(l.q)); diff != "" {
			t.Errorf("GET customers?%s (-want +got):\n%s", l.q.Encode(), diff)
		}
	}

	// The same org or externalId again is a conflict.
	for _, b := range []body{attachBody(webextest.SmallOrgID, "ext-other"), attachBody(webextest.BigOrgID, "ext-small-1")} {
		if a := e.call(t, p, "POST", "/v1/wholesale/customers", b); a.status != 409 {
			t.Errorf("POST a duplicate = %d %s, want 409", a.status, a.body)
		}
	}
}

func TestProvisionOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		org       string
		setup     func(*webextest.Sim) error
		wantState string
		wantRole  string // "" when the org is not managed afterwards
		check     func(*testing.T, webextest.Customer)
	}{
		{
			name: "no licenses gives full admin", org: webextest.NoLicenseOrgID,
			wantState: "provisioned", wantRole: webextest.RoleFullAdmin,
		},
		{
			name: "error", org: webextest.ErrorOrgID, wantState: "error",
			check: func(t *testing.T, c webextest.Customer) {
				if len(c.Errors) == 0 || c.Errors[0].ErrorCode != 2560 || c.OrgID != "" {
					t.Errorf("customer = %+v, want errors[] with code 2560 and no orgId", c)
				}
			},
		},
		{
			name: "provisioned with errors", org: webextest.BigOrgID, wantState: "provisioned_with_errors",
			wantRole: webextest.RoleProvisionAdmin,
			setup: func(s *webextest.Sim) error {
				return s.SetOutcome(webextest.BigOrgID, webextest.StatusProvisionedWithErrors, 0)
			},
			check: func(t *testing.T, c webextest.Customer) {
				pkg := c.ResourceDetails.Packages[0]
				if pkg.Status != "error" || len(pkg.Errors) == 0 || c.OrgID != "" {
					t.Errorf("customer = %+v, want a package in error with errors", c)
				}
			},
		},
		{
			name: "pending review", org: webextest.HiddenOrgID, wantState: "pending_rpl_review",
			setup: func(s *webextest.Sim) error {
				return s.SetOutcome(webextest.HiddenOrgID, webextest.StatusPendingReview, 10*time.Second)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, webextest.Options{})
			if tc.setup != nil {
				if err := tc.setup(e.sim); err != nil {
					t.Fatal(err)
				}
			}
			p := webextest.DefaultPartnerToken
			a := e.call(t, p, "POST", "/v1/wholesale/customers/", attachBody(tc.org, "ext-"+tc.name))
			if a.status != 202 {
				t.Fatalf("POST = %d %s, want 202", a.status, a.body)
			}
			url := decode[struct{ URL string }](t, a).URL
			e.clock.Advance(time.Hour)
			c := decode[webextest.Customer](t, e.call(t, p, "GET", url, nil))
			if c.Status != tc.wantState {
				t.Errorf("status = %q, want %q", c.Status, tc.wantState)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
			a = e.call(t, p, "GET", "/v1/partner/organizations/"+tc.org+"/partnerAdmins", nil)
			switch {
			case tc.wantRole == "" && a.status != 403:
				t.Errorf("partnerAdmins = %d %s, want 403", a.status, a.body)
			case tc.wantRole != "" && !strings.Contains(string(a.body), `"roleInCustomerOrg":"`+tc.wantRole+`"`):
				t.Errorf("partnerAdmins = %d %s, want role %s", a.status, a.body, tc.wantRole)
			}
		})
	}
}

func TestProvisionValidation(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	valid := attachBody(webextest.SmallOrgID, "ext-v")
	tests := []struct {
		name     string
		body     any
		want     int
		wantCode int    // an errors[].errorCode to find, or 0
		wantText string // text to find in the error body
	}{
		{"not JSON", []byte("{"), 400, 0, "not valid JSON"},
		{"no provisioningId", with(valid, func(b body) { delete(b, "provisioningId") }), 400, 0, "provisioningId is required"},
		{"no packages", with(valid, func(b body) { delete(b, "packages") }), 400, 0, "packages is required"},
		{"unknown package", with(valid, func(b body) { b["packages"] = []string{"webex_teleport"} }), 400, 0, "webex_teleport"},
		{"package dependency", with(valid, func(b body) { b["packages"] = []string{"cisco_calling_plan"} }), 400, 0, "cisco_calling_plan requires"},
		{"no externalId", with(valid, func(b body) { delete(b, "externalId") }), 400, 0, "externalId is required"},
		{"no address", with(valid, func(b body) { delete(b, "address") }), 400, 0, "address is required"},
		{"no city", with(valid, func(b body) { delete(b["address"].(body), "city") }), 400, 0, "address.city is required"},
		{"long address line", with(valid, func(b body) { b["address"].(body)["addressLine1"] = strings.Repeat("x", 51) }), 400, 0, "limit is 50"},
		{"50 characters are fine", with(valid, func(b body) { b["address"].(body)["addressLine1"] = strings.Repeat("ø", 50) }), 202, 0, ""},
		{"calling without location", with(valid, func(b body) { b["packages"] = []string{"webex_calling"} }), 400, 0, "provisioningParameters.calling.location is required"},
		{"calling with location", with(valid, func(b body) {
			b["packages"] = []string{"webex_calling"}
			b["externalId"] = "ext-calling"
			b["orgId"] = webextest.NoLicenseOrgID
			b["provisioningParameters"] = callingLocation()
		}), 202, 0, ""},
		{"new customer without customerInfo", with(valid, func(b body) { delete(b, "orgId") }), 400, 0, "customerInfo is required"},
		{"unknown org", attachBody(webextest.EncodeID("ORGANIZATION", "nope"), "ext-u"), 400, webextest.CodeUnknownOrg, ""},
		{"trial org", attachBody(webextest.TrialOrgID, "ext-t"), 400, webextest.CodeTrialOrg, "Trial"},
		{"existing customer", attachBody(webextest.CustomerOrgID, "ext-c"), 409, webextest.CodeAlreadyCustomer, ""},
		{"taken externalId", attachBody(webextest.BigOrgID, webextest.ExistingExternalID), 409, webextest.CodeDuplicateExternalID, ""},
		{"bot token", valid, 403, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := webextest.DefaultPartnerToken
			if tc.name == "bot token" {
				token = webextest.DefaultBotToken
			}
			a := e.call(t, token, "POST", "/v1/wholesale/customers", tc.body)
			if a.status != tc.want {
				t.Fatalf("POST = %d %s, want %d", a.status, a.body, tc.want)
			}
			if tc.wantText != "" && !strings.Contains(string(a.body), tc.wantText) {
				t.Errorf("body %s does not say %q", a.body, tc.wantText)
			}
			if tc.wantCode != 0 {
				errs := decode[webexError](t, a).Errors
				if len(errs) == 0 || errs[0].ErrorCode != tc.wantCode {
					t.Errorf("errors = %+v, want errorCode %d", errs, tc.wantCode)
				}
			}
		})
	}
}

func TestPrecheck(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	tests := []struct {
		name     string
		body     any
		want     int
		wantCode int
	}{
		{"ok", attachBody(webextest.SmallOrgID, "ext-p"), 200, 0},
		{"address only with primaryEmail", body{
			"address":      body{"addressLine1": "1 Road", "city": "Aarhus", "country": "DK"},
			"customerInfo": body{"primaryEmail": "new@customer.example"},
		}, 200, 0},
		{"no address", with(attachBody(webextest.SmallOrgID, "ext-p"), func(b body) { delete(b, "address") }), 400, 0},
		{"trial org", attachBody(webextest.TrialOrgID, "ext-p"), 400, webextest.CodeTrialOrg},
		{"already a customer", attachBody(webextest.CustomerOrgID, "ext-p"), 400, webextest.CodeAlreadyCustomer},
		{"unknown org", attachBody(webextest.EncodeID("ORGANIZATION", "nope"), "ext-p"), 400, webextest.CodeUnknownOrg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.call(t, webextest.DefaultPartnerToken, "POST", "/v1/wholesale/customers/validate", tc.body)
			if a.status != tc.want {
				t.Fatalf("POST validate = %d %s, want %d", a.status, a.body, tc.want)
			}
			if tc.want == 200 {
				got := decode[struct {
					Message string
					Info    []struct {
						InfoCode    int
						Description string
					}
				}](t, a)
				if got.Message != "success" || len(got.Info) != 1 || got.Info[0].InfoCode != 100 {
					t.Errorf("precheck answer = %s, want success with infoCode 100", a.body)
				}
				return
			}
			got := decode[webexError](t, a)
			if got.Message == "" || got.TrackingID == "" || len(got.Errors) == 0 {
				t.Errorf("precheck error = %s, want Webex's error shape", a.body)
			}
			if tc.wantCode != 0 && got.Errors[0].ErrorCode != tc.wantCode {
				t.Errorf("errorCode = %d, want %d", got.Errors[0].ErrorCode, tc.wantCode)
			}
		})
	}
	if n := len(e.sim.Customers()); n != 1 {
		t.Errorf("customers after prechecks = %d, want only the seeded one", n)
	}
}

func TestNewCustomerWithoutOrgID(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	b := with(attachBody("", "ext-new"), func(b body) {
		delete(b, "orgId")
		b["customerInfo"] = body{"name": "Brand New ApS", "primaryEmail": "boss@brandnew.example"}
	})
	a := e.call(t, webextest.DefaultPartnerToken, "POST", "/v1/wholesale/customers", b)
	if a.status != 202 {
		t.Fatalf("POST = %d %s, want 202", a.status, a.body)
	}
	e.clock.Advance(time.Hour)
	c := decode[webextest.Customer](t, e.call(t, webextest.DefaultPartnerToken, "GET", decode[struct{ URL string }](t, a).URL, nil))
	admin, ok := e.sim.PersonByEmail("boss@brandnew.example")
	if c.Status != "provisioned" || !ok || c.OrgID != admin.OrgID {
		t.Errorf("customer = %+v, admin = %+v (%v): want provisioned in the admin's new org", c, admin, ok)
	}
}
