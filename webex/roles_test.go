package webex_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/webex"
)

func TestPersonRoles(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		answer     any
		want       []string
		wantErr    error
		wantStatus int
	}{
		{"roles shown", 200, map[string]any{"id": "P1", "roles": []string{"R1", "R2"}}, []string{"R1", "R2"}, nil, 0},
		{"no roles", 200, map[string]any{"id": "P1", "roles": []string{}}, []string{}, nil, 0},
		{"roles not shown", 200, map[string]any{"id": "P1"}, nil, bot.ErrRolesUnreadable, 0},
		{"not found", 404, map[string]any{"message": "Person not found."}, nil, nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.Path != "/v1/people/P1" {
					t.Errorf("%s %s, want GET /v1/people/P1", r.Method, r.URL.Path)
				}
				writeJSON(t, w, tt.status, tt.answer)
			}), webex.Options{})
			got, err := c.PersonRoles(t.Context(), "P1")
			var apiErr *bot.APIError
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			case tt.wantStatus != 0 && (!errors.As(err, &apiErr) || apiErr.Status != tt.wantStatus):
				t.Fatalf("error %v, want an APIError %d", err, tt.wantStatus)
			case tt.wantErr == nil && tt.wantStatus == 0 && err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
		})
	}
}
