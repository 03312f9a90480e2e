package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// When the bot asks Webex how a request is doing: every 5 s during the two minutes after a
// submission or a status change, as Cisco's reference app does, then with the doubling backoff
// up to 15 min; a failed poll is retried on the short schedule, never before a Retry-After.
// These tests run the bot's poll loop, as serve does, on the fake clock (newPollLoopHarness), or
// drive the sweep themselves where the Webex client's retry waits must take no time.

// newPollLoopHarness is a status harness whose bot polls with its own loop, on a clock that
// moves only when the test advances it.
func newPollLoopHarness(t *testing.T, configure func(*app.Config)) *harness {
	t.Helper()
	return newStatusHarness(t, apptest.Options{ManualClock: true, PollLoop: true, Configure: configure})
}

// pollAdvance moves the clock d forward and waits until the poll loop has polled what came due
// and the bot has sent what that enqueued.
func (h *harness) pollAdvance(d time.Duration) {
	h.T.Helper()
	h.Clock.Advance(d)
	h.Settle()
}

// pollWaits returns the time from the submission to a customer's first status call, and
// between each status call and the next.
func (h *harness) pollWaits(r bot.Request) []time.Duration {
	var got []time.Duration
	last := r.Submitted
	for _, c := range h.statusPolls(r.CustomerID) {
		got = append(got, c.Time.Sub(last))
		last = c.Time
	}
	return got
}

func TestStatusBackoffSchedule(t *testing.T) {
	h := newPollLoopHarness(t, nil)
	if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")

	type step struct {
		wait   time.Duration // from the previous poll (or the submission) to this poll
		before func()
	}
	var steps []step
	for range 24 { // the fast window: polls at 5 s, 10 s … 120 s after the submission
		steps = append(steps, step{wait: 5 * time.Second})
	}
	steps = append(steps,
		step{wait: 10 * time.Second}, // the window is over: the backoff doubles
		step{wait: 20 * time.Second, before: func() { // a failure that asking again soon cannot mend doubles it too
			h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/wholesale/customers/*", Status: http.StatusNotFound, Times: 1})
		}},
		step{wait: 40 * time.Second},
		step{wait: 80 * time.Second},
		step{wait: 160 * time.Second},
		step{wait: 320 * time.Second},
		step{wait: 640 * time.Second},
		step{wait: 15 * time.Minute}, // capped
		step{wait: 15 * time.Minute},
		step{wait: 15 * time.Minute, before: func() { // a change starts a fast window anew
			if err := h.Sim.SetCustomerStatus(r.CustomerID, webextest.StatusUpdating); err != nil {
				t.Fatal(err)
			}
		}},
		step{wait: 5 * time.Second},
		step{wait: 5 * time.Second},
	)
	var want []time.Duration
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		// A second early nothing is polled; on time, the loop polls.
		h.pollAdvance(s.wait - time.Second)
		h.pollAdvance(time.Second)
		want = append(want, s.wait)
	}
	if diff := cmp.Diff(want, h.pollWaits(r)); diff != "" {
		t.Errorf("the waits between polls (-want +got):\n%s", diff)
	}
	h.statusOneNotice(cmd, "is now being updated by Webex")
}

func TestStatusChangeToldWithinTenSeconds(t *testing.T) {
	// When the customer becomes provisioned, after the submission.
	for _, after := range []time.Duration{time.Second, 47 * time.Second, 119 * time.Second} {
		t.Run(after.String(), func(t *testing.T) {
			h := newPollLoopHarness(t, nil)
			if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, after); err != nil {
				t.Fatal(err)
			}
			cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
			for h.Clock.Now().Sub(r.Submitted) < after+time.Minute && len(h.statusNotices(cmd, statusProvisionedMarker)) == 0 {
				h.pollAdvance(time.Second)
			}
			n := h.statusOneNotice(cmd, statusProvisionedMarker)
			if late := n.Created.Sub(r.Submitted.Add(after)); late > 10*time.Second {
				t.Errorf("the provisioning was told %s after it happened, want within 10s", late)
			}
		})
	}
}

func TestStatusFirstPollConfigured(t *testing.T) {
	h := newPollLoopHarness(t, func(c *app.Config) { c.FirstPoll = 20 * time.Second })
	_, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.pollAdvance(19 * time.Second)
	if got := len(h.statusPolls(r.CustomerID)); got != 0 {
		t.Fatalf("%d status calls 19s after the submission with FIRST_POLL=20s, want 0", got)
	}
	h.pollAdvance(time.Second)
	if got := len(h.statusPolls(r.CustomerID)); got != 1 {
		t.Errorf("%d status calls 20s after the submission with FIRST_POLL=20s, want 1", got)
	}
}

// statusTimeouts is a transport whose status calls time out while it is armed, and which
// records when each of them was tried.
type statusTimeouts struct {
	mu    sync.Mutex
	left  int
	now   func() time.Time
	tried []time.Time
}

// arm makes the next n status calls time out.
func (s *statusTimeouts) arm(n int, now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.left, s.now = n, now
}

// last returns when the last status call that timed out was tried.
func (s *statusTimeouts) last() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tried) == 0 {
		return time.Time{}
	}
	return s.tried[len(s.tried)-1]
}

func (s *statusTimeouts) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/v1/wholesale/customers/") {
		s.mu.Lock()
		fail := s.left > 0
		if fail {
			s.left--
			s.tried = append(s.tried, s.now())
		}
		s.mu.Unlock()
		if fail {
			return nil, fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded)
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestStatusFailedPollRetriedOnShortSchedule(t *testing.T) {
	const attempts = 4 // the Webex client's attempts per call
	status := "/v1/wholesale/customers/*"
	tests := []struct {
		name  string
		fault *webextest.Fault // nil: the status calls time out
		// wantWait is the wait from the poll's last attempt to the next poll.
		wantWait time.Duration
	}{
		{name: "500", fault: &webextest.Fault{Method: http.MethodGet, Path: status, Status: http.StatusInternalServerError, Times: attempts}, wantWait: 5 * time.Second},
		{name: "503", fault: &webextest.Fault{Method: http.MethodGet, Path: status, Status: http.StatusServiceUnavailable, Times: attempts}, wantWait: 5 * time.Second},
		{name: "timeout", wantWait: 5 * time.Second},
		{name: "429 with Retry-After 30s", fault: &webextest.Fault{Method: http.MethodGet, Path: status, Status: http.StatusTooManyRequests, RetryAfter: 30, Times: attempts}, wantWait: 30 * time.Second},
		{name: "429 with Retry-After 2s", fault: &webextest.Fault{Method: http.MethodGet, Path: status, Status: http.StatusTooManyRequests, RetryAfter: 2, Times: attempts}, wantWait: 5 * time.Second},
	}
	for _, tt := range tests {
		for _, afterWindow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/after the fast window %t", tt.name, afterWindow), func(t *testing.T) {
				timeouts := &statusTimeouts{}
				// Waits take no time: the client's retry waits move the clock, and nothing else does.
				h := newStatusHarness(t, apptest.Options{HTTPClient: &http.Client{Transport: timeouts}})
				if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, 24*time.Hour); err != nil {
					t.Fatal(err)
				}
				_, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
				untilDue := func() { h.Clock.Advance(h.statusRequest(r.ID).NextPoll.Sub(h.Clock.Now())) }
				for afterWindow && h.statusRequest(r.ID).PollInterval < 40*time.Second {
					untilDue()
					h.MustSweep()
				}
				before := h.statusRequest(r.ID)

				if tt.fault != nil {
					h.Sim.Inject(*tt.fault)
				} else {
					timeouts.arm(attempts, h.Clock.Now)
				}
				untilDue()
				if err := h.Sweep(); err == nil {
					t.Fatal("the sweep whose poll failed reported no error")
				}
				// The Sim keeps call times to the millisecond, as Webex does.
				polls := h.statusPolls(r.CustomerID)
				var lastAttempt time.Time
				if tt.fault != nil {
					lastAttempt = polls[len(polls)-1].Time
				} else {
					lastAttempt = timeouts.last().Truncate(time.Millisecond)
				}
				failed := h.statusRequest(r.ID)
				if got := failed.NextPoll.Sub(lastAttempt).Truncate(time.Millisecond); got != tt.wantWait {
					t.Errorf("the next poll comes %s after the failed one, want %s", got, tt.wantWait)
				}
				if failed.PollInterval != before.PollInterval {
					t.Errorf("the failure changed the poll interval from %s to %s", before.PollInterval, failed.PollInterval)
				}

				// Not a second before the next poll is due, then on time.
				h.Clock.Advance(failed.NextPoll.Sub(h.Clock.Now()) - time.Second)
				h.MustSweep()
				if got := len(h.statusPolls(r.CustomerID)); got != len(polls) {
					t.Fatalf("%d status calls a second before the next poll, want %d", got, len(polls))
				}
				h.Clock.Advance(time.Second)
				h.MustSweep()
				after := h.statusPolls(r.CustomerID)
				if len(after) != len(polls)+1 || after[len(after)-1].Status != http.StatusOK {
					t.Fatalf("the poll on time made %d status calls, want 1 that succeeds", len(after)-len(polls))
				}
				if got := after[len(after)-1].Time.Sub(lastAttempt); got != tt.wantWait {
					t.Errorf("the status was asked again %s after the failed poll, want %s", got, tt.wantWait)
				}
				// The answered poll goes on with the backoff as if nothing had failed: every 5 s in
				// the fast window, else doubled from the interval before the failure.
				wantInterval := 2 * before.PollInterval
				if after[len(after)-1].Time.Before(r.Submitted.Add(2 * time.Minute)) {
					wantInterval = statusFirstPoll
				}
				if got := h.statusRequest(r.ID).PollInterval; got != wantInterval {
					t.Errorf("poll interval after the answered poll = %s, want %s", got, wantInterval)
				}
			})
		}
	}
}

func TestStatusLongOutageBacksOff(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{})
	_, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/wholesale/customers/*", Status: http.StatusServiceUnavailable})

	var got []time.Duration
	for range 6 {
		h.Clock.Advance(h.statusRequest(r.ID).NextPoll.Sub(h.Clock.Now()))
		if err := h.Sweep(); err == nil {
			t.Fatal("a sweep whose poll got 503 reported no error")
		}
		polls := h.statusPolls(r.CustomerID)
		got = append(got, h.statusRequest(r.ID).NextPoll.Sub(polls[len(polls)-1].Time).Truncate(time.Millisecond)) // call times are kept to the millisecond
	}
	// Three failures in a row are retried on the short schedule; then the wait doubles.
	want := []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the waits after each failed poll (-want +got):\n%s", diff)
	}
}

// statusHold is a transport that holds one customer's status calls until released.
type statusHold struct {
	mu      sync.Mutex
	path    string
	release chan struct{}
}

// hold makes the status calls of a customer wait until the returned function is called.
func (s *statusHold) hold(customerID string) (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.path, s.release = "/v1/wholesale/customers/"+customerID, make(chan struct{})
	return sync.OnceFunc(func() { close(s.release) })
}

func (s *statusHold) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	held := req.Method == http.MethodGet && s.path != "" && req.URL.Path == s.path
	release := s.release
	s.mu.Unlock()
	if held {
		select {
		case <-release:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestStatusSlowPollHoldsUpNoOther(t *testing.T) {
	holder := &statusHold{}
	h := newStatusHarness(t, apptest.Options{ManualClock: true, PollLoop: true, HTTPClient: &http.Client{Transport: holder}})
	for _, org := range []string{webextest.SmallOrgID, webextest.NoLicenseOrgID} {
		if err := h.Sim.SetOutcome(org, webextest.StatusProvisioned, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	_, slow := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	cmd, quick := h.statusAttach(webextest.NoLicenseOrgID, webextest.NoLicenseAdminEmail, "webex_meetings")
	h.pollAdvance(5 * time.Second) // the first poll of both
	move := func(status string) {
		t.Helper()
		if err := h.Sim.SetCustomerStatus(quick.CustomerID, status); err != nil {
			t.Fatal(err)
		}
	}
	told := func(status string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		// The notices say the status in words.
		marker := map[string]string{
			webextest.StatusPendingReview: "is now in Cisco's compliance review", webextest.StatusProvisioned: "is provisioned.",
		}[status]
		if err := h.Sim.WaitFor(ctx, func() bool { return len(h.statusNotices(cmd, marker)) == 1 }); err != nil {
			t.Fatalf("waiting for the notice of %s: %v", status, err)
		}
	}

	// The next poll of both: the slow customer's status call hangs; the quick one's answers.
	release := holder.hold(slow.CustomerID)
	defer release()
	move(webextest.StatusPendingReview)
	h.Clock.Advance(5 * time.Second)
	told(webextest.StatusPendingReview)
	// The quick one's next poll comes on time while the slow call still hangs.
	move(webextest.StatusProvisioned)
	h.Clock.Advance(5 * time.Second)
	told(webextest.StatusProvisioned)

	release()
	h.Settle()
	if got := len(h.statusPolls(slow.CustomerID)); got != 2 {
		t.Errorf("the slow customer was asked %d times, want 2 (one run at a time polls a request)", got)
	}
}
