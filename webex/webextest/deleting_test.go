package webextest_test

import (
	"strings"
	"testing"

	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
)

func TestCustomerDeleting(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	p := webextest.DefaultPartnerToken
	a := e.call(t, p, "POST", "/v1/wholesale/customers", attachBody(webextest.SmallOrgID, "ext-deleting"))
	if a.status != 202 {
		t.Fatalf("POST wholesale/customers = %d %s, want 202", a.status, a.body)
	}
	url := decode[struct{ URL string }](t, a).URL
	customerID := strings.TrimPrefix(url, e.srv.URL+"/v1/wholesale/customers/")

	if err := e.sim.SetCustomerStatus(customerID, webextest.StatusDeleting); err != nil {
		t.Fatal(err)
	}
	c := decode[webextest.Customer](t, e.call(t, p, "GET", url, nil))
	got := struct {
		Status, OrgID string
		Packages      []webextest.PackageDetail
	}{c.Status, c.OrgID, c.ResourceDetails.Packages}
	want := struct {
		Status, OrgID string
		Packages      []webextest.PackageDetail
	}{Status: "deleting", Packages: []webextest.PackageDetail{{Name: "webex_meetings", Status: "deleting"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("a customer being deleted (-want +got):\n%s", diff)
	}
	if err := e.sim.SetCustomerStatus(customerID, "gone"); err == nil {
		t.Error("SetCustomerStatus took a status the spec does not have")
	}
}
