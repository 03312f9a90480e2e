package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The status job under trouble: a stop between a poll and its notice, overlapping sweeps,
// rate limits and server errors; each change is still told exactly once.

func TestStatusNoticeOnceAfterStopBetweenPollAndSend(t *testing.T) {
	tests := []struct {
		name string
		// stop runs a sweep that records the change to provisioned, and stops attachbot
		// before the notice left the outbox.
		stop func(t *testing.T, h *harness)
	}{
		{
			// The process recorded the change and died before its sender ran: the sweep runs in
			// an attachbot that was built but not started, so nothing sends.
			name: "before the send",
			stop: func(t *testing.T, h *harness) {
				h.CloseApp(h.App())
				stopped := h.BuildApp()
				if err := stopped.Bot().Sweep(t.Context()); err != nil {
					t.Fatalf("sweep: %v", err)
				}
				h.CloseApp(stopped)
			},
		},
		{
			// The send failed (Webex answered 503) and the process stopped before the retry.
			name: "after a failed send",
			stop: func(t *testing.T, h *harness) {
				h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/messages", Status: http.StatusServiceUnavailable, Times: 1})
				sent := h.Sim.CountCalls(http.MethodPost, "/v1/messages")
				if err := h.App().Bot().Sweep(t.Context()); err != nil {
					t.Fatalf("sweep: %v", err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				if err := h.Sim.WaitFor(ctx, func() bool { return h.Sim.CountCalls(http.MethodPost, "/v1/messages") > sent }); err != nil {
					t.Fatalf("the bot did not try to send the notice: %v", err)
				}
				h.CloseApp(h.App())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{ManualClock: true})
			cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
			h.Clock.Advance(statusFirstPoll)

			tt.stop(t, h)

			if got := len(h.statusNotices(cmd, statusProvisionedMarker)); got != 0 {
				t.Fatalf("the notice was sent before the restart (%d times); the stop came too late", got)
			}
			db := openStoreOf(t, h.Cfg)
			stored, err := db.Request(t.Context(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			out, err := db.Outbox(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if stored.State != bot.StateProvisioned {
				t.Errorf("state after the stop = %s, want %s (recorded by the sweep)", stored.State, bot.StateProvisioned)
			}
			var waiting []string
			for _, o := range out {
				waiting = append(waiting, o.Message.Markdown)
			}
			if len(waiting) != 1 || !strings.Contains(waiting[0], statusProvisionedMarker) {
				t.Errorf("the outbox after the stop holds %q, want the provisioned notice only", waiting)
			}

			h.StartApp()
			h.Clock.Advance(time.Minute) // past the retry time of a failed send
			h.Settle()
			h.statusOneNotice(cmd, statusProvisionedMarker)

			for range 2 {
				h.Clock.Advance(statusMaxPoll)
				h.MustSweep()
			}
			if got := len(h.statusNotices(cmd, statusProvisionedMarker)); got != 1 {
				t.Errorf("after more sweeps the thread has %d provisioned notices, want 1", got)
			}
			if got := len(h.statusPolls(r.CustomerID)); got != 1 {
				t.Errorf("Webex was asked the status %d times, want 1 (a provisioned request is not polled again)", got)
			}
		})
	}
}

// statusBarrier is a proxy in front of the simulated Webex that holds the status calls of one
// customer until it is opened, so that overlapping sweeps provably overlap.
type statusBarrier struct {
	mu      sync.Mutex
	path    string
	arrived chan struct{} // closed when the first held call arrives
	release chan struct{} // closed by open
}

// proxy starts the proxy in front of the Webex API at apiURL and returns the API URL to use.
func (b *statusBarrier) proxy(t *testing.T, apiURL string) string {
	t.Helper()
	target, err := url.Parse(apiURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		release := b.release
		held := release != nil && r.Method == http.MethodGet && r.URL.Path == b.path
		if held {
			select {
			case <-b.arrived:
			default:
				close(b.arrived)
			}
		}
		b.mu.Unlock()
		if held {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + target.Path
}

// hold makes the status calls of a customer wait until open, and returns a channel closed
// when the first of them arrives.
func (b *statusBarrier) hold(customerID string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.path, b.arrived, b.release = "/v1/wholesale/customers/"+customerID, make(chan struct{}), make(chan struct{})
	return b.arrived
}

// open lets the held status calls go on.
func (b *statusBarrier) open() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.release)
}

// TestStatusOverlappingSweepsTellOnce runs a sweep while another one's poll of the same request
// is under way: the request is claimed by the first, so the second leaves it alone, and the
// change is told once.
func TestStatusOverlappingSweepsTellOnce(t *testing.T) {
	var barrier statusBarrier
	h := newStatusHarness(t, apptest.Options{ManualClock: true, Configure: func(c *app.Config) {
		c.WebexAPIURL = barrier.proxy(t, c.WebexAPIURL)
	}})
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Clock.Advance(statusFirstPoll)
	arrived := barrier.hold(r.CustomerID)

	first := make(chan error, 1)
	go func() { first <- h.App().Bot().Sweep(t.Context()) }()
	<-arrived // the first sweep's poll is under way
	if err := h.App().Bot().Sweep(t.Context()); err != nil {
		t.Errorf("the overlapping sweep: %v", err)
	}
	barrier.open()
	if err := <-first; err != nil {
		t.Errorf("the first sweep: %v", err)
	}
	h.Settle()

	if got := len(h.statusPolls(r.CustomerID)); got != 1 {
		t.Fatalf("Webex was asked the status %d times, want 1 (by the first sweep only)", got)
	}
	h.statusOneNotice(cmd, statusProvisionedMarker)
	if got := h.statusRequest(r.ID).State; got != bot.StateProvisioned {
		t.Errorf("state = %s, want %s", got, bot.StateProvisioned)
	}
}

func TestStatusSurvivesRateLimitsAndServerErrors(t *testing.T) {
	const (
		retryAfter = 7 * time.Second
		status     = "/v1/wholesale/customers/*"
		role       = "/v1/partner/organizations/*"
	)
	tests := []struct {
		name  string
		fault webextest.Fault // on GET; Times failures in a row
		// wantPolls is how often the status was asked; wantRetryAfterWaits how often the
		// partner client waited Retry-After.
		wantPolls, wantRetryAfterWaits int
	}{
		// Six failures: more than one poll's four attempts.
		{"429 storm on the status", webextest.Fault{Path: status, Status: http.StatusTooManyRequests, RetryAfter: int(retryAfter / time.Second), Times: 6}, 7, 5},
		{"500 run on the status", webextest.Fault{Path: status, Status: http.StatusInternalServerError, Times: 6}, 7, 0},
		{"503 run on the status", webextest.Fault{Path: status, Status: http.StatusServiceUnavailable, Times: 6}, 7, 0},
		// The status is provisioned, but the partner's role cannot be read yet.
		{"503 run on the partner's role", webextest.Fault{Path: role, Status: http.StatusServiceUnavailable, Times: 4}, 2, 0},
		{"429 storm on the partner's role", webextest.Fault{Path: role, Status: http.StatusTooManyRequests, RetryAfter: int(retryAfter / time.Second), Times: 4}, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Waits take no time: the client's Retry-After and backoff waits move the clock.
			h := newStatusHarness(t, apptest.Options{})
			cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
			fault := tt.fault
			fault.Method = http.MethodGet
			h.Sim.Inject(fault)
			h.Clock.Advance(statusFirstPoll)

			if err := h.Sweep(); err == nil || !strings.Contains(err.Error(), "gave up after 4 attempts") {
				t.Errorf("first sweep: error %v, want the poll to give up after 4 attempts", err)
			}
			if got := len(h.statusNotices(cmd, statusProvisionedMarker)); got != 0 {
				t.Fatalf("got %d notices while Webex failed, want 0", got)
			}
			postponed := h.statusRequest(r.ID)
			if postponed.State != bot.StateProvisioning || !postponed.NextPoll.After(h.Clock.Now()) {
				t.Errorf("after the failed poll: state %s, next poll at %s; want %s, after now (%s)",
					postponed.State, postponed.NextPoll, bot.StateProvisioning, h.Clock.Now())
			}

			h.Clock.Advance(postponed.NextPoll.Sub(h.Clock.Now()))
			h.MustSweep()
			n := h.statusOneNotice(cmd, statusProvisionedMarker)
			apptest.Says(t, "the notice", n.Markdown, []string{"**Provisioning Admin** (`" + webextest.RoleProvisionAdmin + "`)"}, nil)
			h.Clock.Advance(statusMaxPoll)
			h.MustSweep()
			h.statusOneNotice(cmd, statusProvisionedMarker)

			if got := len(h.statusPolls(r.CustomerID)); got != tt.wantPolls {
				t.Errorf("status calls = %d, want %d", got, tt.wantPolls)
			}
			waited := 0
			for _, d := range h.Clock.Waits() {
				if d == retryAfter {
					waited++
				}
			}
			if waited != tt.wantRetryAfterWaits {
				t.Errorf("the client waited Retry-After (%s) %d times, want %d", retryAfter, waited, tt.wantRetryAfterWaits)
			}
		})
	}
}
