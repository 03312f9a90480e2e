package webex_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/webex"
)

func TestCountPeopleStopsEarly(t *testing.T) {
	tests := []struct {
		name      string
		people    int
		limit     int
		want      int
		wantPages int32
		wantMax   string
	}{
		{"a full first page reaches the limit", 250, 100, 100, 1, "100"},
		{"the limit is reached on page 2", 250, 150, 150, 2, "100"},
		{"fewer people than the limit", 30, 100, 30, 1, "100"},
		{"a small limit asks for a small page", 250, 5, 5, 1, "5"},
		{"every page", 250, 1000, 250, 3, "100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pages atomic.Int32
			var firstMax atomic.Value
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1/people" {
					t.Errorf("path = %s, want /v1/people", r.URL.Path)
				}
				q := r.URL.Query()
				if q.Get("orgId") != "O1" {
					t.Errorf("orgId = %q, want O1", q.Get("orgId"))
				}
				if pages.Add(1) == 1 {
					firstMax.Store(q.Get("max"))
				}
				size, _ := strconv.Atoi(q.Get("max"))
				offset, _ := strconv.Atoi(q.Get("offset"))
				var items []any
				for i := offset; i < min(offset+size, tt.people); i++ {
					items = append(items, map[string]any{"id": fmt.Sprintf("P%d", i)})
				}
				if offset+size < tt.people {
					next := url.Values{"orgId": {"O1"}, "max": {q.Get("max")}, "offset": {strconv.Itoa(offset + size)}}
					w.Header().Set("Link", `<http://`+r.Host+`/v1/people?`+next.Encode()+`>; rel="next"`)
				}
				writeJSON(t, w, http.StatusOK, map[string]any{"items": items})
			})
			c := newTestClient(t, h, webex.Options{})
			got, err := c.CountPeople(t.Context(), "O1", tt.limit)
			if err != nil {
				t.Fatalf("CountPeople: %v", err)
			}
			if got != tt.want {
				t.Errorf("CountPeople(O1, %d) = %d, want %d", tt.limit, got, tt.want)
			}
			if n := pages.Load(); n != tt.wantPages {
				t.Errorf("pages fetched = %d, want %d", n, tt.wantPages)
			}
			if m := firstMax.Load(); m != tt.wantMax {
				t.Errorf("first max = %v, want %s", m, tt.wantMax)
			}
		})
	}
}

func TestPartnerReads(t *testing.T) {
	tests := []struct {
		name      string
		wantQuery string // the request URI
		answer    string
		header    map[string]string
		call      func(ctx context.Context, c *webex.Client) (any, error)
		want      any
	}{
		{
			name:      "Licenses",
			wantQuery: "/v1/licenses?orgId=O1",
			answer:    `{"items":[{"id":"L1","name":"Meeting - Webex Enterprise","totalUnits":50,"consumedUnits":12,"siteType":"Control Hub managed site"}]}`,
			call:      func(ctx context.Context, c *webex.Client) (any, error) { return c.Licenses(ctx, "O1") },
			want:      []bot.License{{ID: "L1", Name: "Meeting - Webex Enterprise", TotalUnits: 50, ConsumedUnits: 12}},
		},
		{
			name:      "Licenses, none",
			wantQuery: "/v1/licenses?orgId=O1",
			answer:    `{"items":[]}`,
			call:      func(ctx context.Context, c *webex.Client) (any, error) { return c.Licenses(ctx, "O1") },
			want:      []bot.License{},
		},
		{
			name:      "Organization",
			wantQuery: "/v1/organizations/O1",
			answer:    `{"id":"O1","displayName":"Acme","created":"2020-01-01T00:00:00Z"}`,
			call:      func(ctx context.Context, c *webex.Client) (any, error) { return c.Organization(ctx, "O1") },
			want:      bot.Organization{ID: "O1", DisplayName: "Acme"},
		},
		{
			name:      "Customer",
			wantQuery: "/v1/wholesale/customers/C1",
			header:    map[string]string{"Trackingid": "ROUTER_C1"},
			answer: `{"id":"C1","orgId":"O1","externalId":"E1","status":"provisioned_with_errors","packages":["webex_calling","webex_meetings"],
				"errors":[{"errorCode":2560,"description":"maintenance"}],
				"resourceDetails":{"packages":[
					{"name":"webex_calling","status":"error","errors":[{"errorCode":4003,"description":"no location"}],"licenseIds":["X"]},
					{"name":"webex_meetings","status":"provisioned","warnings":[{"errorCode":2560,"description":"later"}]}]}}`,
			call: func(ctx context.Context, c *webex.Client) (any, error) { return c.Customer(ctx, "C1") },
			want: bot.Customer{ID: "C1", OrgID: "O1", ExternalID: "E1", Status: "provisioned_with_errors",
				Packages: []string{"webex_calling", "webex_meetings"},
				Errors:   []bot.ErrorDetail{{Code: 2560, Description: "maintenance"}},
				Details: []bot.PackageStatus{
					{Name: "webex_calling", Status: "error", Errors: []bot.ErrorDetail{{Code: 4003, Description: "no location"}}},
					{Name: "webex_meetings", Status: "provisioned", Warnings: []bot.ErrorDetail{{Code: 2560, Description: "later"}}},
				},
				TrackingID: "ROUTER_C1"},
		},
		{
			name:      "Customers with a filter",
			wantQuery: "/v1/wholesale/customers?externalId=E1&max=100&orgId=O1&status=provisioning",
			answer:    `{"items":[{"id":"C1","orgId":"O1","externalId":"E1","status":"provisioning","packages":["webex_calling"]}]}`,
			call: func(ctx context.Context, c *webex.Client) (any, error) {
				return c.Customers(ctx, bot.CustomerQuery{OrgID: "O1", ExternalID: "E1", Status: "provisioning"})
			},
			want: []bot.Customer{{ID: "C1", OrgID: "O1", ExternalID: "E1", Status: "provisioning", Packages: []string{"webex_calling"}}},
		},
		{
			name:      "PartnerAdmins",
			wantQuery: "/v1/partner/organizations/O1/partnerAdmins",
			answer:    `{"items":[{"id":"P1","displayName":"Pat","firstName":"Pat","emails":["pat@partner.example"],"roleInCustomerOrg":"id_full_admin"}]}`,
			call:      func(ctx context.Context, c *webex.Client) (any, error) { return c.PartnerAdmins(ctx, "O1") },
			want:      []bot.PartnerAdmin{{ID: "P1", DisplayName: "Pat", Emails: []string{"pat@partner.example"}, RoleInCustomerOrg: "id_full_admin"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.RequestURI() != tt.wantQuery {
					t.Errorf("request %s %s, want GET %s", r.Method, r.URL.RequestURI(), tt.wantQuery)
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tt.answer)
			})
			c := newTestClient(t, h, webex.Options{})
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestCustomerRequestBody(t *testing.T) {
	addr := bot.Address{Line1: "771 Alder Drive", Line2: "Cisco Site 5", City: "Milpitas", State: "CA", Zip: "95035", Country: "US"}
	wireAddr := map[string]any{"addressLine1": "771 Alder Drive", "addressLine2": "Cisco Site 5", "city": "Milpitas",
		"stateOrProvince": "CA", "zipOrPostalCode": "95035", "country": "US"}
	calling := &bot.CallingLocation{Name: "Head Office", Address: bot.Address{Line1: "771 Alder Drive", City: "Milpitas", State: "CA", Zip: "95035", Country: "US"},
		Timezone: "America/Los_Angeles", Language: "en_us"}
	wireCalling := map[string]any{"calling": map[string]any{"location": map[string]any{
		"name": "Head Office",
		"address": map[string]any{"addressLine1": "771 Alder Drive", "city": "Milpitas", "stateOrProvince": "CA",
			"zipOrPostalCode": "95035", "country": "US"},
		"timezone": "America/Los_Angeles", "language": "en_us",
	}}}
	tests := []struct {
		name         string
		req          bot.CustomerRequest
		wantPost     map[string]any
		wantPrecheck map[string]any
	}{
		{
			name: "attach with calling and customer info",
			req: bot.CustomerRequest{ProvisioningID: "PROV", Packages: []string{"webex_calling"}, OrgID: "O1", ExternalID: "E1",
				Address: addr, CustomerName: "Acme", PrimaryEmail: "admin@acme.example", Language: "en_us", Calling: calling},
			wantPost: map[string]any{
				"provisioningId": "PROV", "packages": []any{"webex_calling"}, "orgId": "O1", "externalId": "E1",
				"address":                wireAddr,
				"customerInfo":           map[string]any{"name": "Acme", "primaryEmail": "admin@acme.example", "language": "en_US"},
				"provisioningParameters": wireCalling,
			},
			// The precheck's customerInfo has no language.
			wantPrecheck: map[string]any{
				"provisioningId": "PROV", "packages": []any{"webex_calling"}, "orgId": "O1", "externalId": "E1",
				"address":                wireAddr,
				"customerInfo":           map[string]any{"name": "Acme", "primaryEmail": "admin@acme.example"},
				"provisioningParameters": wireCalling,
			},
		},
		{
			name: "a bare language code",
			req: bot.CustomerRequest{ProvisioningID: "PROV", Packages: []string{"webex_meetings"}, OrgID: "O1", ExternalID: "E1",
				Address: addr, CustomerName: "Acme", PrimaryEmail: "admin@acme.example", Language: "EN"},
			wantPost: map[string]any{
				"provisioningId": "PROV", "packages": []any{"webex_meetings"}, "orgId": "O1", "externalId": "E1",
				"address":      wireAddr,
				"customerInfo": map[string]any{"name": "Acme", "primaryEmail": "admin@acme.example", "language": "en"},
			},
			wantPrecheck: map[string]any{
				"provisioningId": "PROV", "packages": []any{"webex_meetings"}, "orgId": "O1", "externalId": "E1",
				"address":      wireAddr,
				"customerInfo": map[string]any{"name": "Acme", "primaryEmail": "admin@acme.example"},
			},
		},
		{
			// customerInfo needs both name and primaryEmail; the precheck's needs only the email.
			name: "an email without a name",
			req: bot.CustomerRequest{ProvisioningID: "PROV", Packages: []string{"webex_meetings"}, OrgID: "O1", ExternalID: "E1",
				Address: addr, PrimaryEmail: "admin@acme.example", Language: "en"},
			wantPost: map[string]any{
				"provisioningId": "PROV", "packages": []any{"webex_meetings"}, "orgId": "O1", "externalId": "E1",
				"address": wireAddr,
			},
			wantPrecheck: map[string]any{
				"provisioningId": "PROV", "packages": []any{"webex_meetings"}, "orgId": "O1", "externalId": "E1",
				"address":      wireAddr,
				"customerInfo": map[string]any{"primaryEmail": "admin@acme.example"},
			},
		},
		{
			name: "attach without customer info or calling",
			req: bot.CustomerRequest{ProvisioningID: "PROV", Packages: []string{"webex_meetings"}, OrgID: "O1", ExternalID: "E1",
				Address: addr, Language: "en"},
			wantPost: map[string]any{
				"provisioningId": "PROV", "packages": []any{"webex_meetings"}, "orgId": "O1", "externalId": "E1",
				"address": wireAddr,
			},
			wantPrecheck: map[string]any{
				"provisioningId": "PROV", "packages": []any{"webex_meetings"}, "orgId": "O1", "externalId": "E1",
				"address": wireAddr,
			},
		},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v1/wholesale/customers", "/v1/wholesale/customers/validate"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				rb := &recordBodies{t: t, status: http.StatusAccepted, answer: `{"url":"https://webexapis.com/v1/wholesale/customers/C1","message":"success"}`}
				c := newTestClient(t, rb, webex.Options{})
				var err error
				want := tt.wantPost
				if path == "/v1/wholesale/customers" {
					_, err = c.Provision(t.Context(), tt.req)
				} else {
					_, err = c.Precheck(t.Context(), tt.req)
					want = tt.wantPrecheck
				}
				if err != nil {
					t.Fatal(err)
				}
				req, body := rb.only()
				if req != "POST "+path {
					t.Errorf("request = %s, want POST %s", req, path)
				}
				if diff := cmp.Diff(want, body); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestProvision(t *testing.T) {
	tests := []struct {
		name        string
		answer      string
		header      map[string]string
		want        bot.Provisioned
		wantUnknown bool
	}{
		{
			name:   "customer id from the body's url",
			answer: `{"url":"https://webexapis.com/v1/wholesale/customers/Y2lzY29zcGFyazovL3VzL0VOVEVSUFJJU0UvNTJjZjU3NmQ"}`,
			header: map[string]string{"Trackingid": "ROUTER_P1", "Location": "https://webexapis.com/v1/wholesale/customers/OTHER"},
			want: bot.Provisioned{CustomerID: "Y2lzY29zcGFyazovL3VzL0VOVEVSUFJJU0UvNTJjZjU3NmQ",
				URL: "https://webexapis.com/v1/wholesale/customers/Y2lzY29zcGFyazovL3VzL0VOVEVSUFJJU0UvNTJjZjU3NmQ", TrackingID: "ROUTER_P1"},
		},
		{
			name:   "customer id from the Location header",
			header: map[string]string{"Trackingid": "ROUTER_P2", "Location": "https://webexapis.com/v1/wholesale/customers/C2/"},
			want:   bot.Provisioned{CustomerID: "C2", URL: "https://webexapis.com/v1/wholesale/customers/C2/", TrackingID: "ROUTER_P2"},
		},
		{
			name:        "no url at all",
			answer:      `{}`,
			wantUnknown: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := &recordBodies{t: t, status: http.StatusAccepted, answer: tt.answer, header: tt.header}
			c := newTestClient(t, rb, webex.Options{})
			got, err := c.Provision(t.Context(), bot.CustomerRequest{OrgID: "O1", ExternalID: "E1"})
			if tt.wantUnknown {
				if !errors.Is(err, bot.ErrOutcomeUnknown) {
					t.Errorf("Provision error = %v, want one wrapping bot.ErrOutcomeUnknown", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Provision: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Provision() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrecheckInfo(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		header map[string]string
		want   bot.Precheck
	}{
		{
			name:   "info as an array",
			answer: `{"message":"success","info":[{"infoCode":100,"description":"Provisioning preCheck validation successful."}],"trackingId":"T1"}`,
			want: bot.Precheck{Message: "success", TrackingID: "T1",
				Info: []bot.PrecheckInfo{{Code: 100, Description: "Provisioning preCheck validation successful."}}},
		},
		{
			name:   "info as an object",
			answer: `{"message":"success","info":{"infoCode":"101","description":"Auto attach."}}`,
			header: map[string]string{"Trackingid": "T2"},
			want:   bot.Precheck{Message: "success", TrackingID: "T2", Info: []bot.PrecheckInfo{{Code: 101, Description: "Auto attach."}}},
		},
		{
			name:   "no info",
			answer: `{"message":"success","info":null,"trackingId":"T3"}`,
			want:   bot.Precheck{Message: "success", TrackingID: "T3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := &recordBodies{t: t, answer: tt.answer, header: tt.header}
			c := newTestClient(t, rb, webex.Options{})
			got, err := c.Precheck(t.Context(), bot.CustomerRequest{OrgID: "O1"})
			if err != nil {
				t.Fatalf("Precheck: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Precheck() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefreshToken(t *testing.T) {
	var hits atomic.Int32
	var mu sync.Mutex
	var forms []url.Values
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/access_token" {
			t.Errorf("request %s %s, want POST /v1/access_token", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q, want a form", ct)
		}
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("Authorization = %q, want none", a)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		if hits.Add(1) == 1 {
			writeJSON(t, w, http.StatusServiceUnavailable, map[string]any{"message": "later"})
			return
		}
		writeJSON(t, w, http.StatusOK, map[string]any{"access_token": "AT2", "expires_in": 1209599,
			"refresh_token": "RT2", "refresh_token_expires_in": 7776000, "token_type": "Bearer"})
	})
	clk := newFakeClock()
	c := newTestClient(t, h, webex.Options{Clock: clk})
	got, err := c.RefreshToken(t.Context(), webex.OAuthApp{ClientID: "CID", ClientSecret: "SECRET"}, "RT1")
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	now := clk.Now() // after the one backoff wait
	want := bot.Tokens{AccessToken: "AT2", Expires: now.Add(1209599 * time.Second), RefreshToken: "RT2", RefreshExpires: now.Add(7776000 * time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RefreshToken() (-want +got):\n%s", diff)
	}
	wantForm := url.Values{"grant_type": {"refresh_token"}, "client_id": {"CID"}, "client_secret": {"SECRET"}, "refresh_token": {"RT1"}}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]url.Values{wantForm, wantForm}, forms); diff != "" {
		t.Errorf("forms (-want +got):\n%s", diff)
	}
}

func TestRefreshTokenRefused(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "The refresh token is expired."})
	})
	c := newTestClient(t, h, webex.Options{})
	_, err := c.RefreshToken(t.Context(), webex.OAuthApp{ClientID: "CID", ClientSecret: "SECRET"}, "RT1")
	var apiErr *bot.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Message != "The refresh token is expired." {
		t.Errorf("RefreshToken error = %v, want a 400 *bot.APIError with the error description", err)
	}
}
