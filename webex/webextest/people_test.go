package webextest_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
)

var linkNext = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// listAll follows Link rel="next" from path and returns the page sizes and every item.
func listAll[T any](t *testing.T, e *env, token, path string) (pages []int, all []T) {
	t.Helper()
	next := path
	for next != "" {
		a := e.call(t, token, "GET", next, nil)
		if a.status != 200 {
			t.Fatalf("GET %s = %d %s", next, a.status, a.body)
		}
		page := decode[struct{ Items []T }](t, a)
		pages = append(pages, len(page.Items))
		all = append(all, page.Items...)
		next = ""
		if link := a.header.Get("Link"); link != "" {
			m := linkNext.FindStringSubmatch(link)
			if m == nil {
				t.Fatalf("Link = %q, want <url>; rel=\"next\"", link)
			}
			if !strings.HasPrefix(m[1], e.srv.URL+"/v1/") {
				t.Fatalf("next link %q is not an absolute URL of the server %s", m[1], e.srv.URL)
			}
			next = m[1]
		}
		if len(pages) > 50 {
			t.Fatal("more than 50 pages")
		}
	}
	return pages, all
}

func TestPeoplePaging(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	tests := []struct {
		name      string
		org       string
		max       string
		wantPages []int
	}{
		{"150 users by 40", webextest.BigOrgID, "40", []int{40, 40, 40, 30}},
		{"default page size", webextest.BigOrgID, "", []int{100, 50}},
		{"max clamped to 100", webextest.BigOrgID, "1000", []int{100, 50}},
		{"12 users", webextest.SmallOrgID, "5", []int{5, 5, 2}},
		{"exactly one page", webextest.SmallOrgID, "12", []int{12}},
		{"8 users", webextest.NoLicenseOrgID, "", []int{8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"orgId": {tc.org}}
			if tc.max != "" {
				q.Set("max", tc.max)
			}
			pages, people := listAll[webextest.Person](t, e, webextest.DefaultPartnerToken, "/v1/people?"+q.Encode())
			if diff := cmp.Diff(tc.wantPages, pages); diff != "" {
				t.Errorf("page sizes mismatch (-want +got):\n%s", diff)
			}
			seen := map[string]bool{}
			for _, p := range people {
				if seen[p.ID] {
					t.Errorf("person %s listed twice", p.ID)
				}
				seen[p.ID] = true
				if p.OrgID != tc.org || len(p.Emails) == 0 || p.DisplayName == "" || p.Type != "person" {
					t.Errorf("person = %+v, want one of org %s with an email, a name and type person", p, tc.org)
				}
			}
		})
	}
}

func TestPeopleLookup(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	tests := []struct {
		name   string
		token  string
		path   string
		status int
		want   []string // ids
	}{
		{"bot by email", webextest.DefaultBotToken, "/v1/people?email=ANN@partner.example", 200, []string{webextest.AnnID}},
		{"bot by unknown email", webextest.DefaultBotToken, "/v1/people?email=nobody@nowhere.example", 200, nil},
		{"bot without a filter", webextest.DefaultBotToken, "/v1/people", 400, nil},
		{"partner by email across orgs", webextest.DefaultPartnerToken, "/v1/people?email=" + url.QueryEscape(webextest.SmallAdminEmail), 200, []string{webextest.SmallAdminID}},
		{"partner own org", webextest.DefaultPartnerToken, "/v1/people", 200, []string{webextest.BotID, webextest.AnnID, webextest.BobID}},
		{"partner unknown org", webextest.DefaultPartnerToken, "/v1/people?orgId=" + webextest.EncodeID("ORGANIZATION", "x"), 404, nil},
		{"bad max", webextest.DefaultPartnerToken, "/v1/people?max=0", 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.call(t, tc.token, "GET", tc.path, nil)
			if a.status != tc.status {
				t.Fatalf("GET %s = %d %s, want %d", tc.path, a.status, a.body, tc.status)
			}
			if a.status != 200 {
				return
			}
			var got []string
			for _, p := range decode[struct{ Items []webextest.Person }](t, a).Items {
				got = append(got, p.ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ids mismatch (-want +got):\n%s", diff)
			}
		})
	}

	me := decode[webextest.Person](t, e.call(t, webextest.DefaultBotToken, "GET", "/v1/people/me", nil))
	want := webextest.Person{
		ID: webextest.BotID, Emails: []string{webextest.BotEmail}, DisplayName: webextest.BotName,
		OrgID: webextest.PartnerOrgID, Type: "bot", Created: me.Created,
	}
	if diff := cmp.Diff(want, me); diff != "" {
		t.Errorf("GET /v1/people/me mismatch (-want +got):\n%s", diff)
	}
}

func TestLicensesAndOrganizations(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	p := webextest.DefaultPartnerToken
	licenses := func(org string) []string {
		t.Helper()
		a := e.call(t, p, "GET", "/v1/licenses?orgId="+org, nil)
		if a.status != 200 {
			t.Fatalf("GET licenses of %s = %d %s", org, a.status, a.body)
		}
		var names []string
		for _, l := range decode[struct{ Items []webextest.License }](t, a).Items {
			if l.ID == "" || l.TotalUnits < l.ConsumedUnits {
				t.Errorf("license %+v", l)
			}
			names = append(names, l.Name)
		}
		return names
	}
	if diff := cmp.Diff([]string{"Messaging", "Webex Meetings - Starter"}, licenses(webextest.SmallOrgID)); diff != "" {
		t.Errorf("licenses of the small org (-want +got):\n%s", diff)
	}
	if got := licenses(webextest.NoLicenseOrgID); len(got) != 0 {
		t.Errorf("licenses of the org without licenses = %v, want none", got)
	}

	a := e.call(t, p, "GET", "/v1/organizations", nil)
	var ids []string
	for _, o := range decode[struct {
		Items []struct{ ID, DisplayName string }
	}](t, a).Items {
		ids = append(ids, o.ID)
	}
	if diff := cmp.Diff([]string{webextest.PartnerOrgID, webextest.CustomerOrgID}, ids); diff != "" {
		t.Errorf("GET /v1/organizations (-want +got):\n%s", diff)
	}

	a = e.call(t, p, "GET", "/v1/partner/organizations/"+webextest.CustomerOrgID+"/partnerAdmins", nil)
	type admin struct {
		ID, DisplayName, FirstName, LastName, RoleInCustomerOrg string
		Emails                                                  []string
	}
	got := decode[struct{ Items []admin }](t, a).Items
	want := []admin{
		{webextest.AnnID, webextest.AnnName, "Ann", "Andersen", webextest.RoleProvisionAdmin, []string{webextest.AnnEmail}},
		{webextest.BobID, webextest.BobName, "Bob", "Berg", webextest.RoleProvisionAdmin, []string{webextest.BobEmail}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("partnerAdmins of the existing customer (-want +got):\n%s", diff)
	}
	if a := e.call(t, p, "GET", "/v1/partner/organizations/"+webextest.SmallOrgID+"/partnerAdmins", nil); a.status != 403 {
		t.Errorf("partnerAdmins of an unmanaged org = %d, want 403", a.status)
	}
}

func TestSeedOrgs(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	for _, o := range webextest.SeedOrgs() {
		t.Run(o.Name, func(t *testing.T) {
			if o.Description == "" || o.AdminEmail == "" || o.AdminID == "" {
				t.Errorf("seed org %+v lacks a description or an admin", o)
			}
			got, ok := e.sim.Org(o.ID)
			if !ok {
				t.Fatalf("Org(%s) not found", o.ID)
			}
			if got.Name != o.Name || got.Users != o.Users || len(got.Licenses) != len(o.Licenses) {
				t.Errorf("Org(%s) = %+v, want the seed %+v", o.ID, got, o)
			}
			admin, ok := e.sim.PersonByEmail(o.AdminEmail)
			if !ok || admin.ID != o.AdminID || admin.OrgID != o.ID {
				t.Errorf("admin %s = %+v, %v; want id %s in org %s", o.AdminEmail, admin, ok, o.AdminID, o.ID)
			}
		})
	}
}

func TestAddOrg(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	o, err := e.sim.AddOrg(webextest.Org{
		Name: "Added Org", AdminEmail: "admin@added.example", Users: 3, Readable: true,
		Licenses: []webextest.License{{Name: "Messaging", TotalUnits: 3, ConsumedUnits: 3}},
	})
	if err != nil {
		t.Fatalf("AddOrg: %v", err)
	}
	if kind, _, err := webextest.DecodeID(o.ID); err != nil || kind != "ORGANIZATION" || o.AdminID == "" || o.Licenses[0].ID == "" {
		t.Errorf("AddOrg = %+v, want ids filled in", o)
	}
	_, people := listAll[webextest.Person](t, e, webextest.DefaultPartnerToken, "/v1/people?orgId="+o.ID)
	var emails []string
	for _, p := range people {
		emails = append(emails, p.Emails[0])
	}
	if diff := cmp.Diff([]string{"admin@added.example", "user2@added.example", "user3@added.example"}, emails); diff != "" {
		t.Errorf("people of the added org (-want +got):\n%s", diff)
	}

	before := len(e.sim.Orgs())
	if _, err := e.sim.AddOrg(webextest.Org{Name: "Clash", AdminEmail: webextest.AnnEmail}); err == nil {
		t.Error("AddOrg with a taken admin email succeeded")
	}
	if _, err := e.sim.AddOrg(webextest.Org{ID: webextest.SmallOrgID}); err == nil {
		t.Error("AddOrg with a taken id succeeded")
	}
	if _, err := e.sim.AddOrg(webextest.Org{Name: "Bad", Outcome: webextest.Outcome{Status: "done"}}); err == nil {
		t.Error("AddOrg with an unknown outcome succeeded")
	}
	if got := len(e.sim.Orgs()); got != before {
		t.Errorf("orgs after failed AddOrgs = %d, want %d", got, before)
	}

	p, err := e.sim.AddPerson(webextest.Person{Emails: []string{"new@added.example"}, OrgID: o.ID})
	if err != nil || p.Type != "person" || p.DisplayName != "new@added.example" {
		t.Errorf("AddPerson = %+v, %v", p, err)
	}
	if _, err := e.sim.AddPerson(webextest.Person{Emails: []string{"x@y.example"}, OrgID: "nope"}); err == nil {
		t.Error("AddPerson in an unknown org succeeded")
	}
	if _, err := e.sim.AddRoom("Room", webextest.BotID, "nobody"); err == nil {
		t.Error("AddRoom with an unknown member succeeded")
	}
	if err := e.sim.SetOutcome(o.ID, "finished", 0); err == nil {
		t.Error("SetOutcome with an unknown status succeeded")
	}
}
