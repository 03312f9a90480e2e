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

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"absent", "", 5 * time.Second},
		{"malformed", "soon", 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) == 1 {
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
					writeJSON(t, w, http.StatusTooManyRequests, map[string]any{"message": "Too many requests"})
					return
				}
				writeJSON(t, w, http.StatusOK, person1)
			})
			clk := newFakeClock()
			c := newTestClient(t, h, webex.Options{Clock: clk})

			got, err := c.Person(t.Context(), "P1")
			if err != nil {
				t.Fatalf("Person: %v", err)
			}
			if got.ID != "P1" {
				t.Errorf("Person().ID = %q, want P1", got.ID)
			}
			if n := hits.Load(); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
			if diff := cmp.Diff([]time.Duration{tt.want}, clk.Waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRateLimitBlocksTheWholeClient(t *testing.T) {
	var hitsA, hitsB atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/people/A", func(w http.ResponseWriter, r *http.Request) {
		if hitsA.Add(1) == 1 {
			w.Header().Set("Retry-After", "10")
			writeJSON(t, w, http.StatusTooManyRequests, map[string]any{"message": "slow down"})
			return
		}
		writeJSON(t, w, http.StatusOK, map[string]any{"id": "A"})
	})
	mux.HandleFunc("GET /v1/people/B", func(w http.ResponseWriter, r *http.Request) {
		hitsB.Add(1)
		writeJSON(t, w, http.StatusOK, map[string]any{"id": "B"})
	})
	clk := newHoldingClock()
	c := newTestClient(t, mux, webex.Options{Clock: clk})

	type result struct {
		p   bot.Person
		err error
	}
	resA, resB := make(chan result, 1), make(chan result, 1)
	go func() {
		p, err := c.Person(t.Context(), "A")
		resA <- result{p, err}
	}()
	select {
	case d := <-clk.Started():
		if d != 10*time.Second {
			t.Fatalf("A waits %v, want 10s", d)
		}
	case r := <-resA:
		t.Fatalf("A returned without waiting for the Retry-After: %+v", r)
	}

	go func() {
		p, err := c.Person(t.Context(), "B")
		resB <- result{p, err}
	}()
	select {
	case d := <-clk.Started():
		if d != 10*time.Second {
			t.Errorf("B waits %v, want 10s (until the Retry-After instant)", d)
		}
	case r := <-resB:
		t.Fatalf("B went past the rate limit: %+v", r)
	}
	if n := hitsB.Load(); n != 0 {
		t.Fatalf("B reached Webex %d times during the rate limit, want 0", n)
	}

	clk.Advance(10 * time.Second)
	for name, ch := range map[string]chan result{"A": resA, "B": resB} {
		r := <-ch
		if r.err != nil || r.p.ID != name {
			t.Errorf("Person(%s) = %+v, %v; want id %s", name, r.p, r.err, name)
		}
	}
	if a, b := hitsA.Load(), hitsB.Load(); a != 2 || b != 1 {
		t.Errorf("requests A, B = %d, %d; want 2, 1", a, b)
	}
}

// waitBounds are the bounds of one backoff wait (jitter makes it random).
type waitBounds struct{ lo, hi time.Duration }

func checkWaits(t *testing.T, got []time.Duration, want []waitBounds) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("waits = %v, want %d waits", got, len(want))
	}
	for i, w := range want {
		if got[i] < w.lo || got[i] > w.hi {
			t.Errorf("wait %d = %v, want in [%v, %v]", i, got[i], w.lo, w.hi)
		}
	}
}

func TestIdempotentRetries(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		fail      func(t *testing.T, w http.ResponseWriter, r *http.Request)
		failures  int32
		wantErr   int // the status of the returned *bot.APIError, 0 for success
		wantHits  int32
		wantWaits []waitBounds
	}{
		{"500 then success", statusHandler(500), 2, 0, 3, []waitBounds{{500 * ms, 1000 * ms}, {750 * ms, 1500 * ms}}},
		{"502 then success", statusHandler(502), 1, 0, 2, []waitBounds{{500 * ms, 1000 * ms}}},
		{"503 then success", statusHandler(503), 1, 0, 2, []waitBounds{{500 * ms, 1000 * ms}}},
		{"504 then success", statusHandler(504), 1, 0, 2, []waitBounds{{500 * ms, 1000 * ms}}},
		{"423 without Retry-After", statusHandler(423), 1, 0, 2, []waitBounds{{500 * ms, 1000 * ms}}},
		{"dropped connection", dropConnection, 1, 0, 2, []waitBounds{{500 * ms, 1000 * ms}}},
		{"503 until the attempts run out, backoff capped", statusHandler(503), 99, 503, 5, []waitBounds{
			{500 * ms, 1000 * ms}, {750 * ms, 1500 * ms}, {750 * ms, 1500 * ms}, {750 * ms, 1500 * ms},
		}},
		{"404 is not retried", statusHandler(404), 99, 404, 1, nil},
		{"401 is not retried", statusHandler(401), 99, 401, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) <= tt.failures {
					tt.fail(t, w, r)
					return
				}
				writeJSON(t, w, http.StatusOK, person1)
			})
			clk := newFakeClock()
			c := newTestClient(t, h, webex.Options{Clock: clk, MaxAttempts: 5, MaxBackoff: 1500 * ms})

			_, err := c.Person(t.Context(), "P1")
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("requests = %d, want %d", got, tt.wantHits)
			}
			checkWaits(t, clk.Waits(), tt.wantWaits)
			if tt.wantErr == 0 {
				if err != nil {
					t.Fatalf("Person: %v", err)
				}
				return
			}
			var apiErr *bot.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.wantErr {
				t.Fatalf("Person error = %v, want a *bot.APIError with status %d", err, tt.wantErr)
			}
		})
	}
}

// statusHandler answers with a Webex error body and the status.
func statusHandler(status int) func(t *testing.T, w http.ResponseWriter, r *http.Request) {
	return func(t *testing.T, w http.ResponseWriter, r *http.Request) {
		t.Helper()
		writeJSON(t, w, status, map[string]any{"message": http.StatusText(status), "trackingId": "ROUTER_X"})
	}
}

func TestPostIsNotResent(t *testing.T) {
	tests := []struct {
		name       string
		timeout    time.Duration
		handler    func(t *testing.T, w http.ResponseWriter, r *http.Request)
		wantStatus int // the *bot.APIError in the chain, 0 for none
	}{
		{"500", 0, statusHandler(500), 500},
		{"502", 0, statusHandler(502), 502},
		{"503", 0, statusHandler(503), 503},
		{"504", 0, statusHandler(504), 504},
		{"timeout", 50 * time.Millisecond, func(t *testing.T, w http.ResponseWriter, r *http.Request) {
			// Once the body is read the server notices the client closing the connection
			// when it gives up, which cancels r.Context().
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}, 0},
		{"dropped connection", 0, dropConnection, 0},
	}
	calls := []struct {
		name string
		call func(ctx context.Context, c *webex.Client) error
	}{
		{"Send", func(ctx context.Context, c *webex.Client) error {
			_, err := c.Send(ctx, bot.OutMessage{RoomID: "R1", Markdown: "hi"})
			return err
		}},
		{"Provision", func(ctx context.Context, c *webex.Client) error {
			_, err := c.Provision(ctx, bot.CustomerRequest{OrgID: "O1", ExternalID: "E1"})
			return err
		}},
		{"UpdateCustomer", func(ctx context.Context, c *webex.Client) error {
			_, err := c.UpdateCustomer(ctx, "C1", bot.CustomerUpdate{Packages: []string{"webex_meetings"}})
			return err
		}},
		{"CreateWebhook", func(ctx context.Context, c *webex.Client) error {
			_, err := c.CreateWebhook(ctx, bot.Webhook{Name: "n", TargetURL: "https://bot.example/hook", Resource: "messages", Event: "created"})
			return err
		}},
	}
	for _, tt := range tests {
		for _, cl := range calls {
			t.Run(tt.name+"/"+cl.name, func(t *testing.T) {
				var hits atomic.Int32
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hits.Add(1)
					tt.handler(t, w, r)
				})
				clk := newFakeClock()
				c := newTestClient(t, h, webex.Options{Clock: clk, Timeout: tt.timeout})

				err := cl.call(t.Context(), c)
				if !errors.Is(err, bot.ErrOutcomeUnknown) {
					t.Errorf("error = %v, want one wrapping bot.ErrOutcomeUnknown", err)
				}
				if n := hits.Load(); n != 1 {
					t.Errorf("requests = %d, want exactly 1", n)
				}
				if len(clk.Waits()) != 0 {
					t.Errorf("waits = %v, want none", clk.Waits())
				}
				var apiErr *bot.APIError
				gotStatus := 0
				if errors.As(err, &apiErr) {
					gotStatus = apiErr.Status
				}
				if gotStatus != tt.wantStatus {
					t.Errorf("APIError status = %d, want %d (error %v)", gotStatus, tt.wantStatus, err)
				}
			})
		}
	}
}

func TestPostRetriesWhatWasNotProcessed(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    string
		wantWaits []waitBounds
	}{
		{"429", 429, "3", []waitBounds{{3 * time.Second, 3 * time.Second}}},
		{"423 with Retry-After", 423, "2", []waitBounds{{2 * time.Second, 2 * time.Second}}},
		{"423 without Retry-After", 423, "", []waitBounds{{500 * time.Millisecond, time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) == 1 {
					if tt.header != "" {
						w.Header().Set("Retry-After", tt.header)
					}
					writeJSON(t, w, tt.status, map[string]any{"message": "not now"})
					return
				}
				writeJSON(t, w, http.StatusOK, map[string]any{"id": "M1", "roomId": "R1"})
			})
			clk := newFakeClock()
			c := newTestClient(t, h, webex.Options{Clock: clk})

			m, err := c.Send(t.Context(), bot.OutMessage{RoomID: "R1", Markdown: "hi"})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if m.ID != "M1" {
				t.Errorf("Send().ID = %q, want M1", m.ID)
			}
			if n := hits.Load(); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
			checkWaits(t, clk.Waits(), tt.wantWaits)
		})
	}

	t.Run("not sent at all", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL + "/v1"
		srv.Close() // connections are refused: nothing is ever written
		clk := newFakeClock()
		c, err := webex.New(webex.Options{BaseURL: base, Token: "t", Clock: clk, MaxAttempts: 2})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Send(t.Context(), bot.OutMessage{RoomID: "R1", Markdown: "hi"})
		if err == nil || errors.Is(err, bot.ErrOutcomeUnknown) {
			t.Errorf("Send error = %v, want an error that does not wrap bot.ErrOutcomeUnknown", err)
		}
		if n := len(clk.Waits()); n != 1 {
			t.Errorf("waits = %v, want one wait before the second attempt", clk.Waits())
		}
	})
}

func TestPrecheckIsRetriedOnServerErrors(t *testing.T) {
	var hits atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/wholesale/customers/validate" {
			t.Errorf("request %s %s, want POST /v1/wholesale/customers/validate", r.Method, r.URL.Path)
		}
		if hits.Add(1) == 1 {
			writeJSON(t, w, http.StatusBadGateway, map[string]any{"message": "Bad Gateway"})
			return
		}
		writeJSON(t, w, http.StatusOK, map[string]any{"message": "success"})
	})
	c := newTestClient(t, h, webex.Options{})
	got, err := c.Precheck(t.Context(), bot.CustomerRequest{OrgID: "O1"})
	if err != nil {
		t.Fatalf("Precheck: %v", err)
	}
	if got.Message != "success" || hits.Load() != 2 {
		t.Errorf("Precheck = %+v after %d requests, want message success after 2", got, hits.Load())
	}
}

func TestCallerContextEndsTheWait(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(t, w, http.StatusServiceUnavailable, map[string]any{"message": "down"})
	})
	clk := newHoldingClock()
	c := newTestClient(t, h, webex.Options{Clock: clk})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Me(ctx)
		done <- err
	}()
	<-clk.Started() // waiting for the backoff
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Me error = %v, want context.Canceled", err)
	}
	var apiErr *bot.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 503 {
		t.Errorf("Me error = %v, want the last answer (503) in the chain", err)
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
