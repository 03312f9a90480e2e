package webex_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/webex"
)

func TestUpdateCustomerBody(t *testing.T) {
	calling := &bot.CallingLocation{Name: "Head Office",
		Address:  bot.Address{Line1: "771 Alder Drive", Line2: "Cisco Site 5", City: "Milpitas", State: "CA", Zip: "95035", Country: "US"},
		Timezone: "America/Los_Angeles", Language: "en_us"}
	tests := []struct {
		name string
		u    bot.CustomerUpdate
		want map[string]any
	}{
		{
			name: "calling sends the location",
			u:    bot.CustomerUpdate{Packages: []string{"webex_calling", "webex_meetings"}, Calling: calling},
			want: map[string]any{
				"packages": []any{"webex_calling", "webex_meetings"},
				"provisioningParameters": map[string]any{"calling": map[string]any{"location": map[string]any{
					"name": "Head Office",
					"address": map[string]any{"addressLine1": "771 Alder Drive", "addressLine2": "Cisco Site 5", "city": "Milpitas",
						"stateOrProvince": "CA", "zipOrPostalCode": "95035", "country": "US"},
					"timezone": "America/Los_Angeles", "language": "en_us",
				}}},
			},
		},
		{
			name: "no calling sends the packages only",
			u:    bot.CustomerUpdate{Packages: []string{"webex_meetings"}},
			want: map[string]any{"packages": []any{"webex_meetings"}},
		},
		{
			name: "no packages still sends the required list",
			u:    bot.CustomerUpdate{},
			want: map[string]any{"packages": []any{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := &recordBodies{t: t, status: http.StatusAccepted, answer: `{"url":"https://webexapis.com/v1/wholesale/customers/C%2F1"}`}
			c := newTestClient(t, rb, webex.Options{})
			if _, err := c.UpdateCustomer(t.Context(), "C/1", tt.u); err != nil {
				t.Fatal(err)
			}
			req, body := rb.only()
			if want := "PUT /v1/wholesale/customers/C%2F1"; req != want {
				t.Errorf("request = %s, want %s", req, want)
			}
			if diff := cmp.Diff(tt.want, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateCustomerAnswer(t *testing.T) {
	tests := []struct {
		name   string
		status int
		answer string
		header map[string]string
		want   bot.Provisioned
	}{
		{
			name:   "202 with the url",
			status: http.StatusAccepted,
			answer: `{"url":"https://webexapis.com/v1/wholesale/customers/C1"}`,
			header: map[string]string{"Trackingid": "ROUTER_U1"},
			want:   bot.Provisioned{CustomerID: "C1", URL: "https://webexapis.com/v1/wholesale/customers/C1", TrackingID: "ROUTER_U1"},
		},
		{
			name:   "202 with the Location header only",
			status: http.StatusAccepted,
			header: map[string]string{"Trackingid": "ROUTER_U2", "Location": "https://webexapis.com/v1/wholesale/customers/C1"},
			want:   bot.Provisioned{CustomerID: "C1", URL: "https://webexapis.com/v1/wholesale/customers/C1", TrackingID: "ROUTER_U2"},
		},
		{
			name:   "202 naming no customer is the one asked for",
			status: http.StatusAccepted,
			answer: `{}`,
			header: map[string]string{"Trackingid": "ROUTER_U3"},
			want:   bot.Provisioned{CustomerID: "C1", TrackingID: "ROUTER_U3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := &recordBodies{t: t, status: tt.status, answer: tt.answer, header: tt.header}
			c := newTestClient(t, rb, webex.Options{})
			got, err := c.UpdateCustomer(t.Context(), "C1", bot.CustomerUpdate{Packages: []string{"webex_meetings"}})
			if err != nil {
				t.Fatalf("UpdateCustomer: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("UpdateCustomer() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateCustomerRefusal(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, http.StatusBadRequest, map[string]any{
			"message":    "packages: \"webex_fax\" is not a package.",
			"errors":     []map[string]any{{"errorCode": 400001, "description": "packages: \"webex_fax\" is not a package."}},
			"trackingId": "ROUTER_BAD",
		})
	})
	c := newTestClient(t, h, webex.Options{})
	_, err := c.UpdateCustomer(t.Context(), "C1", bot.CustomerUpdate{Packages: []string{"webex_fax"}})
	var apiErr *bot.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want a *bot.APIError", err)
	}
	if errors.Is(err, bot.ErrOutcomeUnknown) {
		t.Errorf("a 400 is a known outcome, but the error wraps bot.ErrOutcomeUnknown: %v", err)
	}
	want := &bot.APIError{Method: "PUT", Path: "/wholesale/customers/C1", Status: 400, Message: "packages: \"webex_fax\" is not a package.",
		Details: []bot.ErrorDetail{{Code: 400001, Description: "packages: \"webex_fax\" is not a package."}}, TrackingID: "ROUTER_BAD"}
	if diff := cmp.Diff(want, apiErr); diff != "" {
		t.Errorf("APIError (-want +got):\n%s", diff)
	}
	if _, err := c.UpdateCustomer(t.Context(), "", bot.CustomerUpdate{Packages: []string{"webex_meetings"}}); err == nil {
		t.Error("UpdateCustomer with no customer id succeeded")
	}
}
