package webextest_test

import (
	"testing"

	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
)

func TestPersonRolesShownToTheOrgsAdminsOnly(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	user, ok := e.sim.PersonByEmail("user2@bigcorp.example")
	if !ok {
		t.Fatal("no user2@bigcorp.example")
	}
	tests := []struct {
		name     string
		token    string
		personID string
		want     *[]string // nil: no roles field
	}{
		{"partner reads a readable org's admin", webextest.DefaultPartnerToken, webextest.BigAdminID, &[]string{webextest.FullAdminRoleID}},
		{"partner reads a readable org's user", webextest.DefaultPartnerToken, user.ID, &[]string{}},
		{"partner reads an org it cannot read", webextest.DefaultPartnerToken, webextest.HiddenAdminID, nil},
		{"the bot reads anyone", webextest.DefaultBotToken, webextest.BigAdminID, nil},
		{"partner reads its own admin", webextest.DefaultPartnerToken, webextest.AnnID, &[]string{webextest.FullAdminRoleID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.call(t, tt.token, "GET", "/v1/people/"+tt.personID, nil)
			if a.status != 200 {
				t.Fatalf("GET /v1/people/{id} = %d %s", a.status, a.body)
			}
			got := decode[struct {
				Roles *[]string `json:"roles"`
			}](t, a).Roles
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
		})
	}

	if !e.sim.SetRoles(user.ID, webextest.UserAdminRoleID) {
		t.Fatal("SetRoles found no person")
	}
	got := decode[struct{ Roles []string }](t, e.call(t, webextest.DefaultPartnerToken, "GET", "/v1/people/"+user.ID, nil)).Roles
	if diff := cmp.Diff([]string{webextest.UserAdminRoleID}, got); diff != "" {
		t.Errorf("roles after SetRoles (-want +got):\n%s", diff)
	}
}

func TestLagCustomerList(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	p := webextest.DefaultPartnerToken
	e.sim.LagCustomerList(1)
	count := func() int {
		t.Helper()
		a := e.call(t, p, "GET", "/v1/wholesale/customers?externalId=ext-lag-1", nil)
		if a.status != 200 {
			t.Fatalf("GET /v1/wholesale/customers = %d %s", a.status, a.body)
		}
		return len(decode[struct{ Items []webextest.Customer }](t, a).Items)
	}
	if got := count(); got != 0 { // nothing to leave out yet: not counted
		t.Fatalf("%d customers before the POST", got)
	}
	if a := e.call(t, p, "POST", "/v1/wholesale/customers", attachBody(webextest.SmallOrgID, "ext-lag-1")); a.status != 202 {
		t.Fatalf("POST = %d %s", a.status, a.body)
	}
	if got := count(); got != 0 {
		t.Errorf("the first list after the POST shows %d customers, want 0 (lagging)", got)
	}
	if a := e.call(t, p, "POST", "/v1/wholesale/customers", attachBody(webextest.SmallOrgID, "ext-lag-1")); a.status != 409 {
		t.Errorf("a second POST while the list lags = %d %s, want 409", a.status, a.body)
	}
	if got := count(); got != 1 {
		t.Errorf("the next list shows %d customers, want 1", got)
	}
}
