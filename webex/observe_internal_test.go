package webex

import "testing"

func TestEndpointTemplate(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/people/me", "/people/me"},
		{"/messages", "/messages"},
		{"/messages/Y2lzY29zcGFyazovL3VzL01FU1NBR0UvOTJkYjNiZTA", "/messages/{id}"},
		{"/attachment/actions/Y2lzY29zcGFyazovL3VzL0FUVEFDSE1FTlRfQUNUSU9OLzE", "/attachment/actions/{id}"},
		{"/wholesale/customers/7c1a2b3c-1111-2222-3333-444455556666", "/wholesale/customers/{id}"},
		{"/wholesale/customers/validate", "/wholesale/customers/validate"},
		{"/access_token", "/access_token"},
		{"/organizations/P1", "/organizations/{id}"},
		{"/webhooks/QUJDREVGR0g=", "/webhooks/{id}"},
	}
	for _, tt := range tests {
		if got := endpointTemplate(tt.path); got != tt.want {
			t.Errorf("endpointTemplate(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
