package webextest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/webex/webextest"
)

// provisionErrored provisions ErrorOrgID, whose provisioning ends in error, and returns the
// customer id once it has.
func provisionErrored(t *testing.T, e *env) string {
	t.Helper()
	a := e.call(t, webextest.DefaultPartnerToken, "POST", "/v1/wholesale/customers", attachBody(webextest.ErrorOrgID, "ext-error-1"))
	if a.status != 202 {
		t.Fatalf("POST wholesale/customers = %d %s, want 202", a.status, a.body)
	}
	loc := a.header.Get("Location")
	id := loc[strings.LastIndex(loc, "/")+1:]
	e.clock.Advance(time.Minute)
	if c, _ := e.sim.Customer(id); c.Status != webextest.StatusError {
		t.Fatalf("the customer is %q after the delay, want error", c.Status)
	}
	return id
}

func TestUpdateCustomerProvisionsAgain(t *testing.T) {
	e := newEnv(t, webextest.Options{ProvisioningDelay: time.Minute})
	p := webextest.DefaultPartnerToken
	id := provisionErrored(t, e)
	if err := e.sim.SetOutcome(webextest.ErrorOrgID, webextest.StatusProvisioned, 0); err != nil {
		t.Fatal(err)
	}

	a := e.call(t, p, "PUT", "/v1/wholesale/customers/"+id, body{"packages": []string{"webex_meetings", "webex_calling"}, "provisioningParameters": callingLocation()})
	if a.status != 202 {
		t.Fatalf("PUT = %d %s, want 202", a.status, a.body)
	}
	url := e.srv.URL + "/v1/wholesale/customers/" + id
	if got := decode[struct{ URL string }](t, a).URL; got != url || a.header.Get("Location") != url {
		t.Errorf("url %q, Location %q; want both %s", got, a.header.Get("Location"), url)
	}
	c, _ := e.sim.Customer(id)
	if c.Status != webextest.StatusUpdating || c.Errors != nil {
		t.Errorf("after the PUT the customer is %q with errors %v, want updating without errors", c.Status, c.Errors)
	}
	e.clock.Advance(time.Minute)
	c, _ = e.sim.Customer(id)
	if diff := cmp.Diff([]string{"webex_meetings", "webex_calling"}, c.Packages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if c.Status != webextest.StatusProvisioned || c.OrgID != webextest.ErrorOrgID {
		t.Errorf("after the delay the customer is %q of org %q, want provisioned of %s", c.Status, c.OrgID, webextest.ErrorOrgID)
	}

	// The outcome control decides how the next update ends.
	if err := e.sim.SetOutcome(webextest.ErrorOrgID, webextest.StatusProvisionedWithErrors, 0); err != nil {
		t.Fatal(err)
	}
	if a := e.call(t, p, "PUT", "/v1/wholesale/customers/"+id, body{"packages": []string{"webex_meetings"}}); a.status != 202 {
		t.Fatalf("second PUT = %d %s, want 202", a.status, a.body)
	}
	e.clock.Advance(time.Minute)
	if c, _ := e.sim.Customer(id); c.Status != webextest.StatusProvisionedWithErrors {
		t.Errorf("after the second update the customer is %q, want provisioned_with_errors", c.Status)
	}
}

func TestUpdateCustomerRefusals(t *testing.T) {
	e := newEnv(t, webextest.Options{ProvisioningDelay: time.Minute})
	p := webextest.DefaultPartnerToken
	id := provisionErrored(t, e)
	other := e.call(t, p, "POST", "/v1/wholesale/customers", attachBody(webextest.SmallOrgID, "ext-small-1"))
	if other.status != 202 {
		t.Fatalf("POST = %d %s", other.status, other.body)
	}
	busyLoc := other.header.Get("Location")
	busyID := busyLoc[strings.LastIndex(busyLoc, "/")+1:]

	tests := []struct {
		name       string
		token      string
		customerID string
		body       any
		wantStatus int
		wantDesc   string
	}{
		{"no packages", p, id, body{"packages": []string{}}, 400, "packages is required"},
		{"packages missing", p, id, body{"externalId": "ext-x"}, 400, "packages is required"},
		{"unknown package", p, id, body{"packages": []string{"webex_fax"}}, 400, `"webex_fax" is not one of`},
		{"dependency missing", p, id, body{"packages": []string{"attendant_console", "webex_voice"}}, 400, "attendant_console requires one of webex_calling, webex_suite, cx_essentials"},
		{"calling without location", p, id, body{"packages": []string{"webex_calling"}}, 400, "provisioningParameters.calling.location is required"},
		{"not JSON", p, id, []byte("{"), 400, ""},
		{"unknown customer", p, "Y2lzY29zcGFyazovL3VzL0VOVEVSUFJJU0UvMDAwMDAwMDA", body{"packages": []string{"webex_meetings"}}, 404, ""},
		{"still provisioning", p, busyID, body{"packages": []string{"webex_meetings"}}, 409, "is provisioning"},
		{"externalId taken", p, id, body{"packages": []string{"webex_meetings"}, "externalId": "ext-small-1"}, 409, "already used by the customer " + busyID},
		{"bot token", webextest.DefaultBotToken, id, body{"packages": []string{"webex_meetings"}}, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.call(t, tt.token, "PUT", "/v1/wholesale/customers/"+tt.customerID, tt.body)
			if a.status != tt.wantStatus {
				t.Fatalf("PUT = %d %s, want %d", a.status, a.body, tt.wantStatus)
			}
			w := decode[webexError](t, a)
			if w.Message == "" || w.TrackingID == "" {
				t.Errorf("the error body %s lacks Webex's message or trackingId", a.body)
			}
			var descs []string
			for _, d := range w.Errors {
				descs = append(descs, d.Description)
			}
			if got := w.Message + "\n" + strings.Join(descs, "\n"); tt.wantDesc != "" && !strings.Contains(got, tt.wantDesc) {
				t.Errorf("the error says %q, not %q", got, tt.wantDesc)
			}
		})
	}
	if c, _ := e.sim.Customer(id); c.Status != webextest.StatusError || !cmp.Equal(c.Packages, []string{"webex_meetings"}) {
		t.Errorf("after refused PUTs the customer is %q with %v, want unchanged (error, webex_meetings)", c.Status, c.Packages)
	}
}

func TestDeleteCustomer(t *testing.T) {
	e := newEnv(t, webextest.Options{ProvisioningDelay: time.Minute})
	p := webextest.DefaultPartnerToken
	id := provisionErrored(t, e)

	a := e.call(t, p, "DELETE", "/v1/wholesale/customers/"+id, nil)
	if a.status != 202 || len(a.body) != 0 {
		t.Fatalf("DELETE = %d %q, want 202 without a body", a.status, a.body)
	}
	c := decode[webextest.Customer](t, e.call(t, p, "GET", "/v1/wholesale/customers/"+id, nil))
	if c.Status != webextest.StatusDeleting || c.ResourceDetails.Packages[0].Status != webextest.StatusDeleting {
		t.Errorf("while deleting: customer %q, package %q; want both deleting", c.Status, c.ResourceDetails.Packages[0].Status)
	}
	if a := e.call(t, p, "DELETE", "/v1/wholesale/customers/"+id, nil); a.status != 409 {
		t.Errorf("DELETE while deleting = %d %s, want 409", a.status, a.body)
	}
	if a := e.call(t, p, "PUT", "/v1/wholesale/customers/"+id, body{"packages": []string{"webex_meetings"}}); a.status != 409 {
		t.Errorf("PUT while deleting = %d %s, want 409", a.status, a.body)
	}

	e.clock.Advance(time.Minute)
	if a := e.call(t, p, "GET", "/v1/wholesale/customers/"+id, nil); a.status != 404 {
		t.Errorf("GET after the deletion = %d %s, want 404", a.status, a.body)
	}
	if got := decode[struct{ Items []webextest.Customer }](t, e.call(t, p, "GET", "/v1/wholesale/customers?orgId="+webextest.ErrorOrgID, nil)).Items; len(got) != 0 {
		t.Errorf("the list still has %d customers of the org", len(got))
	}
	if a := e.call(t, p, "DELETE", "/v1/wholesale/customers/"+id, nil); a.status != 404 {
		t.Errorf("DELETE of a deleted customer = %d, want 404", a.status)
	}
	// The organization can be provisioned anew.
	if a := e.call(t, p, "POST", "/v1/wholesale/customers", attachBody(webextest.ErrorOrgID, "ext-error-1")); a.status != 202 {
		t.Errorf("POST after the deletion = %d %s, want 202", a.status, a.body)
	}
}
