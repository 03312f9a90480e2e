// Tests of how the client honours Webex's rate limit (429 and Retry-After) across calls.

package webex_test

import (
	"attachbot/bot"
	"attachbot/webex"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

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
			h, hits := refuseOnce(t, http.StatusTooManyRequests, tt.retryAfter, person1)
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
