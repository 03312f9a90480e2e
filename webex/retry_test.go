// Tests of the client's retries: which calls are resent after which failures, with what
// backoff, and how the caller's context ends a wait.

package webex_test

import (
	"attachbot/bot"
	"attachbot/webex"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

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
			h, hits := refuseOnce(t, tt.status, tt.header, map[string]any{"id": "M1", "roomId": "R1"})
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
