package webextest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEveryRouteHasItsOperation: the Sim checks every route the spec documents; only the
// OAuth token endpoint, the content URLs of files (GET /v1/contents/{id}, which the specs
// do not list: messages only name them in files[]) and the websocket transport's services
// (the catalog, the device service and the id lookups, none of them under /v1), which are
// outside the specs, go unchecked.
func TestEveryRouteHasItsOperation(t *testing.T) {
	s := New(Options{})
	for _, rt := range s.routes {
		_, ok := s.shape.ops[rt.key]
		if want := rt.key != "POST /v1/access_token" && rt.key != "GET /v1/contents/{}" && rt.pattern[0] == "v1"; ok != want {
			t.Errorf("route %s has an operation: %v, want %v", rt.key, ok, want)
		}
	}
}

// TestShapeOfRoutesToCome: the wholesale customer PUT and DELETE are checked by method and path
// template, whichever handler serves them.
func TestShapeOfRoutesToCome(t *testing.T) {
	c, err := newShapeChecker()
	if err != nil {
		t.Fatal(err)
	}
	key := routeKey("PUT", []string{"v1", "wholesale", "customers", "{}"})
	address := `"address":{"addressLine1":"1 Main St","city":"Oslo","country":"NO"}`
	tests := []struct {
		name   string
		method string
		body   string
		want   []string
	}{
		{"a complete PUT", "PUT", `{"packages":["webex_meetings"],` + address + `}`, nil},
		{"a PUT without packages", "PUT", `{` + address + `}`, []string{"packages is required."}},
		{"a PUT with customerInfo", "PUT", `{"packages":["webex_meetings"],"customerInfo":{"name":"A","primaryEmail":"a@b.example"}}`,
			[]string{"customerInfo is not a field of this request."}},
		{"a PUT with attendant_console alone", "PUT", `{"packages":["attendant_console"]}`,
			[]string{"packages: attendant_console requires one of webex_calling, webex_suite, cx_essentials."}},
		{"a PUT with a long address line", "PUT", `{"packages":["webex_meetings"],"address":{"addressLine1":"` + strings.Repeat("x", 51) + `","city":"Oslo","country":"NO"}}`,
			[]string{"address.addressLine1 is 51 characters long; the limit is 50."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, got := c.check(key, &request{method: tc.method, header: http.Header{}, body: []byte(tc.body)})
			if op != "PUT /wholesale/customers/{customerId}" {
				t.Errorf("operation = %q", op)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
	del := routeKey("DELETE", []string{"v1", "wholesale", "customers", "{}"})
	op, got := c.check(del, &request{method: "DELETE", header: http.Header{}, query: map[string][]string{"onBehalfOfSubPartnerOrgId": {"X"}}})
	if op != "DELETE /wholesale/customers/{customerId}" || len(got) != 0 {
		t.Errorf("DELETE: %q %q, want its operation and no problem", op, got)
	}
}
