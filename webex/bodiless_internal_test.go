package webex

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// TestBodilessAsTheSDKSendsIt: a request without a body reaches Webex with the URL and the
// headers the SDK's request core gives it, and the TrackingID the transport would add.
func TestBodilessAsTheSDKSendsIt(t *testing.T) {
	type seen struct {
		Method, URL string
		Header      http.Header
	}
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		h.Del("Accept-Encoding") // the transport's, the same for both
		h.Del("User-Agent")
		got = append(got, seen{r.Method, r.URL.String(), h})
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{Token: "T0", BaseURL: srv.URL + "/v1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []request{
		{method: http.MethodGet, path: "wholesale/customers/a%2Fb"},
		{method: http.MethodGet, path: "wholesale/customers", query: url.Values{"orgId": {"O 1"}, "max": {"2"}}},
		{method: http.MethodDelete, path: "messages/M1"},
	} {
		got = nil
		ctx := context.WithValue(context.Background(), trackingIDKey{}, "attachbot_1")
		sdk := c.sdk.Load()
		resp, err := sdk.RequestWithContext(ctx, r.method, r.path, r.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp, err = c.doBodiless(context.Background(), sdk, r, "attachbot_1"); err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if len(got) != 2 {
			t.Fatalf("%s /%s: the server saw %d requests, want 2", r.method, r.path, len(got))
		}
		if diff := cmp.Diff(got[0], got[1]); diff != "" {
			t.Errorf("%s /%s: sent by hand vs by the SDK (-sdk +hand):\n%s", r.method, r.path, diff)
		}
	}
}

func TestReadBody(t *testing.T) {
	failure := errors.New("connection reset")
	tests := []struct {
		name          string
		body          io.Reader
		length, limit int64
		want          string
		wantErr       error
	}{
		{"declared length", strings.NewReader(`{"id":"C1"}`), 11, 100, `{"id":"C1"}`, nil},
		{"declared, one byte at a time", iotest.OneByteReader(strings.NewReader(`{"id":"C1"}`)), 11, 100, `{"id":"C1"}`, nil},
		{"declared empty", strings.NewReader(""), 0, 100, "", nil},
		{"shorter than declared", strings.NewReader(`{}`), 11, 100, `{}`, nil},
		{"longer than declared", strings.NewReader(`{"id":"C1"}`), 2, 100, `{"id":"C1"}`, nil},
		{"longer than declared, cut at the limit", strings.NewReader(`{"id":"C1"}`), 2, 5, `{"id"`, nil},
		{"unknown length", strings.NewReader(`{"id":"C1"}`), -1, 100, `{"id":"C1"}`, nil},
		{"unknown length, cut at the limit", strings.NewReader(`{"id":"C1"}`), -1, 4, `{"id`, nil},
		{"declared beyond the limit", strings.NewReader(`{"id":"C1"}`), 11, 4, `{"id`, nil},
		{"failing", io.MultiReader(strings.NewReader(`{"i`), iotest.ErrReader(failure)), 11, 100, `{"i`, failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBody(tt.body, tt.length, tt.limit)
			if string(got) != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("readBody = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
