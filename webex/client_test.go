// Tests of the client itself (New's checks, request headers, Webex's error fields, SetToken)
// and the helpers the package's tests share: newTestClient, the fake clocks, writeJSON.

package webex_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/webex"
)

// clockStart is where the tests' fake clocks start.
var clockStart = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// newFakeClock returns a clock on which every wait takes no time: After(d) moves it d forward
// and fires at once.
func newFakeClock() *bottest.Clock { return bottest.NewClock(clockStart, true) }

// newHoldingClock returns a clock on which a wait holds until the test advances the clock.
func newHoldingClock() *bottest.Clock { return bottest.NewClock(clockStart, false) }

// newTestClient starts h on a real HTTP server and returns a Client for it.
func newTestClient(t *testing.T, h http.Handler, opts webex.Options) *webex.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL + "/v1"
	if opts.Token == "" {
		opts.Token = "test-token"
	}
	opts.HTTPClient = srv.Client()
	if opts.Clock == nil {
		opts.Clock = newFakeClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := webex.New(opts)
	if err != nil {
		t.Fatalf("webex.New: %v", err)
	}
	return c
}

// writeJSON answers with status and v as JSON.
func writeJSON(t *testing.T, w http.ResponseWriter, status int, v any) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		t.Errorf("encode the answer: %v", err)
	}
}

// refuseOnce returns a handler that answers its first request with status (and Retry-After
// when retryAfter is set) and every later one with 200 and then, and the count of requests.
func refuseOnce(t *testing.T, status int, retryAfter string, then any) (http.Handler, *atomic.Int32) {
	t.Helper()
	hits := new(atomic.Int32)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			writeJSON(t, w, status, map[string]any{"message": "not now"})
			return
		}
		writeJSON(t, w, http.StatusOK, then)
	})
	return h, hits
}

// dropConnection reads the request and closes the connection without an answer.
func dropConnection(t *testing.T, w http.ResponseWriter, r *http.Request) {
	t.Helper()
	_, _ = io.Copy(io.Discard, r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

var person1 = map[string]any{"id": "P1", "displayName": "Ann", "emails": []string{"ann@example.com"}, "orgId": "O1", "type": "person"}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		opts webex.Options
	}{
		{"no token", webex.Options{BaseURL: "https://webexapis.com/v1"}},
		{"relative base URL", webex.Options{Token: "t", BaseURL: "/v1"}},
		{"base URL with a query", webex.Options{Token: "t", BaseURL: "https://webexapis.com/v1?x=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := webex.New(tt.opts); err == nil {
				t.Errorf("New(%+v) = nil error, want an error", tt.opts)
			}
		})
	}
	if _, err := webex.New(webex.Options{Token: "t"}); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}

func TestAPIErrorFields(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		call   func(ctx context.Context, c *webex.Client) error
		want   func(sentTrackingID string) *bot.APIError
	}{
		{
			name:   "webex error body",
			status: 400,
			body:   `{"message":"Invalid request","errors":[{"errorCode":10022,"description":"The email is already associated with an existing user."},{"description":"second"}],"trackingId":"ROUTER_1"}`,
			header: map[string]string{"Trackingid": "HEADER_IGNORED"},
			call: func(ctx context.Context, c *webex.Client) error {
				_, err := c.Provision(ctx, bot.CustomerRequest{OrgID: "O1"})
				return err
			},
			want: func(string) *bot.APIError {
				return &bot.APIError{Method: "POST", Path: "/wholesale/customers", Status: 400, Message: "Invalid request",
					Details: []bot.ErrorDetail{
						{Code: 10022, Description: "The email is already associated with an existing user."},
						{Description: "second"},
					}, TrackingID: "ROUTER_1"}
			},
		},
		{
			name:   "tracking id from the header, path without the query",
			status: 403,
			body:   `{"message":"Forbidden","errors":[{"errorCode":"1003","description":"no access"}]}`,
			header: map[string]string{"Trackingid": "HDR_2"},
			call: func(ctx context.Context, c *webex.Client) error {
				_, err := c.Customers(ctx, bot.CustomerQuery{OrgID: "O1", Status: "provisioned"})
				return err
			},
			want: func(string) *bot.APIError {
				return &bot.APIError{Method: "GET", Path: "/wholesale/customers", Status: 403, Message: "Forbidden",
					Details: []bot.ErrorDetail{{Code: 1003, Description: "no access"}}, TrackingID: "HDR_2"}
			},
		},
		{
			name:   "not json: status text and the tracking id sent",
			status: 404,
			body:   `<html>nope</html>`,
			call: func(ctx context.Context, c *webex.Client) error {
				_, err := c.Person(ctx, "a/b")
				return err
			},
			want: func(sent string) *bot.APIError {
				return &bot.APIError{Method: "GET", Path: "/people/a%2Fb", Status: 404, Message: "Not Found", TrackingID: sent}
			},
		},
		{
			name:   "429 carries the Retry-After",
			status: 429,
			header: map[string]string{"Retry-After": "2"},
			body:   `{"message":"slow"}`,
			call: func(ctx context.Context, c *webex.Client) error {
				_, err := c.Organization(ctx, "O1")
				return err
			},
			want: func(sent string) *bot.APIError {
				return &bot.APIError{Method: "GET", Path: "/organizations/O1", Status: 429, Message: "slow", TrackingID: sent, RetryAfter: 2 * time.Second}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var sent string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				sent = r.Header.Get("TrackingID")
				mu.Unlock()
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			c := newTestClient(t, h, webex.Options{MaxAttempts: 1})
			err := tt.call(t.Context(), c)
			var got *bot.APIError
			if !errors.As(err, &got) {
				t.Fatalf("error = %v, want a *bot.APIError in the chain", err)
			}
			mu.Lock()
			want := tt.want(sent)
			mu.Unlock()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			if errors.Is(err, bot.ErrOutcomeUnknown) {
				t.Errorf("error %v wraps bot.ErrOutcomeUnknown, want a plain refusal", err)
			}
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	var mu sync.Mutex
	var auth, ids []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		ids = append(ids, r.Header.Get("TrackingID"))
		mu.Unlock()
		writeJSON(t, w, http.StatusOK, person1)
	})
	c := newTestClient(t, h, webex.Options{Token: "old-token"})
	if _, err := c.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := c.SetToken("new-token"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := c.SetToken(""); err == nil {
		t.Error("SetToken(\"\") = nil, want an error")
	}

	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"Bearer old-token", "Bearer new-token"}, auth); diff != "" {
		t.Errorf("Authorization headers (-want +got):\n%s", diff)
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "attachbot_") || len(id) != len("attachbot_")+36 {
			t.Errorf("TrackingID = %q, want attachbot_<uuid>", id)
		}
	}
	if len(ids) == 2 && ids[0] == ids[1] {
		t.Errorf("TrackingIDs %q and %q are equal, want one per request", ids[0], ids[1])
	}
}

func TestSetTokenConcurrently(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, http.StatusOK, person1)
	})
	c := newTestClient(t, h, webex.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 10 {
		wg.Go(func() {
			if _, err := c.Me(t.Context()); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if err := c.SetToken("token-" + string(rune('a'+i))); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
