package webextest_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"attachbot/webex/webextest"
)

// respelled returns orgID as the official API reference also spells organization ids:
// "Organization" for "ORGANIZATION", with "=" padding.
func respelled(t *testing.T, orgID string) string {
	t.Helper()
	raw, err := base64.RawStdEncoding.DecodeString(orgID)
	if err != nil {
		t.Fatalf("decode %s: %v", orgID, err)
	}
	other := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), "/ORGANIZATION/", "/Organization/", 1)))
	if other == orgID || !strings.HasSuffix(other, "=") {
		t.Fatalf("the respelled id %s is not another spelling of %s", other, orgID)
	}
	return other
}

// TestOrganizationsAreFoundInAnySpelling: Webex takes an organization id in each of its
// spellings, so the simulated Webex looks organizations up by UUID.
func TestOrganizationsAreFoundInAnySpelling(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	p := webextest.DefaultPartnerToken
	other := respelled(t, webextest.SmallOrgID)

	if a := e.call(t, p, "POST", "/v1/wholesale/customers", attachBody(other, "ext-small-1")); a.status != 202 {
		t.Fatalf("POST wholesale/customers with the org id respelled = %d %s, want 202", a.status, a.body)
	}
	// The same organization in Webex's own spelling is a customer already.
	if a := e.call(t, p, "POST", "/v1/wholesale/customers", attachBody(webextest.SmallOrgID, "ext-small-2")); a.status != 409 {
		t.Errorf("a second POST for the same org in another spelling = %d %s, want 409", a.status, a.body)
	}
	if got := e.call(t, p, "POST", "/v1/wholesale/customers/validate", attachBody(other, "ext-small-3")); got.status != 400 {
		t.Errorf("the precheck of the same org in another spelling = %d %s, want 400 (a customer already)", got.status, got.body)
	}
	for _, id := range []string{webextest.SmallOrgID, other} {
		list := decode[struct{ Items []webextest.Customer }](t, e.call(t, p, "GET", "/v1/wholesale/customers?orgId="+url.QueryEscape(id), nil))
		if len(list.Items) != 1 || list.Items[0].ExternalID != "ext-small-1" {
			t.Errorf("customers with orgId=%s: %+v, want the one provisioned", id, list.Items)
		}
	}
	e.clock.Advance(time.Hour) // provisioned: the partner manages the org
	if a := e.call(t, p, "GET", "/v1/organizations/"+url.PathEscape(other), nil); a.status != 200 {
		t.Errorf("GET organizations/{respelled id} = %d %s, want 200", a.status, a.body)
	}
	if a := e.call(t, p, "GET", "/v1/licenses?orgId="+url.QueryEscape(other), nil); a.status != 200 {
		t.Errorf("GET licenses?orgId={respelled id} = %d %s, want 200", a.status, a.body)
	}

	// An organization that does not exist is still not found, in any spelling.
	unknown := respelled(t, webextest.EncodeID(webextest.KindOrganization, "0f0f0f0f-0000-4000-8000-000000000000"))
	if a := e.call(t, p, "POST", "/v1/wholesale/customers", attachBody(unknown, "ext-unknown")); a.status != 400 {
		t.Errorf("POST wholesale/customers for an unknown org = %d %s, want 400", a.status, a.body)
	}
}
