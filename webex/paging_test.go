package webex_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/webex"
	"attachbot/webex/webextest"
)

// TestCustomersPaging lists the wholesale customers of the simulated Webex, which pages them
// by offset and max as the spec documents, with and without a Link header.
func TestCustomersPaging(t *testing.T) {
	tests := []struct {
		name      string
		customers int
		link      bool
		wantCalls int
	}{
		{"one short page", 5, false, 1},
		{"full pages then a short one, by offset", 250, false, 3},
		{"full pages then a short one, by Link", 250, true, 3},
		{"full pages only, by offset: an empty page ends it", 200, false, 3},
		{"full pages only, by Link: no Link on the last", 200, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := webextest.New(webextest.Options{CustomersLink: tt.link})
			var externalIDs []string
			for i := range tt.customers {
				externalIDs = append(externalIDs, fmt.Sprintf("ext-%03d", i))
			}
			// No seeded customer is updating: the filter selects exactly these.
			if _, err := sim.AddCustomers(webextest.StatusUpdating, externalIDs...); err != nil {
				t.Fatal(err)
			}
			before := sim.CountCalls("GET", "/v1/wholesale/customers")
			c := newTestClient(t, sim, webex.Options{Token: webextest.DefaultPartnerToken})
			got, err := c.Customers(t.Context(), bot.CustomerQuery{Status: webextest.StatusUpdating})
			if err != nil {
				t.Fatalf("Customers: %v", err)
			}
			var gotIDs []string
			for _, cust := range got {
				gotIDs = append(gotIDs, cust.ExternalID)
			}
			if diff := cmp.Diff(externalIDs, gotIDs); diff != "" {
				t.Errorf("external ids listed (-want +got):\n%s", diff)
			}
			calls := sim.CallsTo("GET", "/v1/wholesale/customers")[before:]
			if len(calls) != tt.wantCalls {
				t.Errorf("GET /v1/wholesale/customers %d times, want %d", len(calls), tt.wantCalls)
			}
			for i, call := range calls {
				if call.Query.Get("max") != "100" || call.Query.Get("status") != webextest.StatusUpdating {
					t.Errorf("call %d query %v, want max=100 and the status filter on every page", i, call.Query)
				}
				if want := fmt.Sprint(i * 100); i > 0 && call.Query.Get("offset") != want {
					t.Errorf("call %d offset %q, want %s", i, call.Query.Get("offset"), want)
				}
			}
			if r := sim.ShapeRefusals(); len(r) != 0 {
				t.Errorf("refused for shape: %+v", r)
			}
		})
	}
}
