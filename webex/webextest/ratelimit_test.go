package webextest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/webex/webextest"
)

// TestRateLimit: above the limit a token gets Webex's 429 with Retry-After; a call within
// the Retry-After is refused again and counted as early; other tokens are counted apart;
// after the Retry-After the token is answered again.
func TestRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	sim := webextest.New(webextest.Options{Now: clock})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	sim.LimitRate(webextest.RateLimit{PerSecond: 2, RetryAfter: 3})

	get := func(token string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/people/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	var got []int
	for range 3 {
		got = append(got, get(webextest.DefaultBotToken).StatusCode)
	}
	got = append(got, get(webextest.DefaultPartnerToken).StatusCode)
	if diff := cmp.Diff([]int{200, 200, 429, 200}, got); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}

	advance(2 * time.Second) // past the window, within the Retry-After
	refused := get(webextest.DefaultBotToken)
	if refused.StatusCode != http.StatusTooManyRequests || refused.Header.Get("Retry-After") != "3" {
		t.Fatalf("a call within the Retry-After: %d, Retry-After %q", refused.StatusCode, refused.Header.Get("Retry-After"))
	}
	var body struct {
		Message string `json:"message"`
		Errors  []struct {
			Description string `json:"description"`
		} `json:"errors"`
		TrackingID string `json:"trackingId"`
	}
	if err := json.NewDecoder(refused.Body).Decode(&body); err != nil || body.Message == "" || len(body.Errors) != 1 || body.TrackingID == "" {
		t.Errorf("the 429's body is not Webex's error shape: %+v, %v", body, err)
	}
	if diff := cmp.Diff(webextest.RateStats{Refused: 2, Early: 1}, sim.RateStats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}

	advance(2 * time.Second)
	if got := get(webextest.DefaultBotToken).StatusCode; got != http.StatusOK {
		t.Errorf("after the Retry-After: %d, want 200", got)
	}
}
