package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/store"
	"attachbot/webex/webextest"
)

// The status job end to end (issue 4): the sweep polls Webex for the requests being
// provisioned and tells each change in the request's thread once; it warns about stuck
// provisioning, reminds and expires approvals, sends the digests, re-activates the webhooks
// and refreshes the partner token. The tests run the sweep themselves (h.App().Bot().Sweep) on the
// fake clock; the cron schedule is set to a day that never comes, except in
// TestStatusJobRunsOnPollSchedule.

// statusNeverSchedule is a POLL_SCHEDULE that never fires (30 February).
const statusNeverSchedule = "0 0 30 2 *"

// The status job's default first poll and backoff cap (bot.Config).
const (
	statusFirstPoll = bot.DefaultFirstPoll
	statusMaxPoll   = 15 * time.Minute
)

// statusAskFullAdmin is the title of the provisioned card's button.
const statusAskFullAdmin = "Ask the customer admin for Full Admin"

// The markers of the notices in a request's thread.
const (
	statusProvisionedMarker = "is provisioned."
	statusStuckMarker       = "is still being provisioned"
)

// newStatusHarness is newHarness with a cron schedule that never fires, so that only the test
// runs the sweep.
func newStatusHarness(t *testing.T, opts apptest.Options) *harness {
	t.Helper()
	configure := opts.Configure
	opts.Configure = func(c *app.Config) {
		c.PollSchedule = statusNeverSchedule
		if configure != nil {
			configure(c)
		}
	}
	return newHarness(t, opts)
}

// statusAttachLine is a complete one-line attach of an organization with no verified or
// claimed domain, declared not a trial.
func statusAttachLine(orgID, adminEmail, packages string) string {
	return fmt.Sprintf(`attach org=%s admin=%s template=Standard packages=%s name="Status Co" street="1 Main St" city=Oslo zip=0150 country=NO verified-domain=no claimed-domain=no trial=no`,
		orgID, adminEmail, packages)
}

// statusAttach has Ann attach an organization in the partner space, and returns her command
// and the request it created.
func (h *harness) statusAttach(orgID, adminEmail, packages string) (webextest.Message, bot.Request) {
	h.T.Helper()
	return h.statusAttachIn(webextest.PartnerSpaceID, orgID, adminEmail, packages)
}

// statusAttachIn is statusAttach in another space.
func (h *harness) statusAttachIn(roomID, orgID, adminEmail, packages string) (webextest.Message, bot.Request) {
	h.T.Helper()
	cmd := h.Say(webextest.AnnID, roomID, statusAttachLine(orgID, adminEmail, packages))
	rs, err := h.App().Store().Requests(h.T.Context(), bot.RequestFilter{RoomID: roomID})
	if err != nil {
		h.T.Fatal(err)
	}
	for _, r := range rs {
		if r.ThreadID == cmd.ID {
			return cmd, r
		}
	}
	h.T.Fatalf("the attach created no request; the bot answered:\n%s", apptest.Joined(h.RepliesTo(cmd)))
	return cmd, bot.Request{}
}

// statusRequest returns a request as the store has it now.
func (h *harness) statusRequest(id string) bot.Request {
	h.T.Helper()
	r, err := h.App().Store().Request(h.T.Context(), id)
	if err != nil {
		h.T.Fatal(err)
	}
	return r
}

// statusSweep runs the status job once, as cron would, and waits until the bot has sent what
// it enqueued. It returns the sweep's error.
func (h *harness) statusSweep() error {
	h.T.Helper()
	err := h.App().Bot().Sweep(h.T.Context())
	h.Settle()
	return err
}

// statusMustSweep is statusSweep for sweeps that must succeed.
func (h *harness) statusMustSweep() {
	h.T.Helper()
	if err := h.Sweep(); err != nil {
		h.T.Fatalf("sweep: %v", err)
	}
}

// statusRunJob runs the status job every minute, as the default POLL_SCHEDULE does, while the
// clock moves d forward.
func (h *harness) statusRunJob(d time.Duration) {
	h.T.Helper()
	for end := h.Clock.Now().Add(d); h.Clock.Now().Before(end); {
		h.Clock.Advance(time.Minute)
		h.MustSweep()
	}
}

// statusNotices returns the bot's messages in the thread of root that contain marker.
func (h *harness) statusNotices(root webextest.Message, marker string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.RepliesTo(root) {
		if strings.Contains(m.Markdown, marker) {
			got = append(got, m)
		}
	}
	return got
}

// statusOneNotice returns the one message in the thread of root that contains marker, and
// fails the test if there is not exactly one.
func (h *harness) statusOneNotice(root webextest.Message, marker string) webextest.Message {
	h.T.Helper()
	got := h.statusNotices(root, marker)
	if len(got) != 1 {
		h.T.Fatalf("the thread has %d notices saying %q, want 1; the thread:\n%s", len(got), marker, apptest.Joined(h.RepliesTo(root)))
	}
	return got[0]
}

// statusPolls returns the status calls for a customer (GET /wholesale/customers/{id}).
func (h *harness) statusPolls(customerID string) []webextest.Call {
	return h.Sim.CallsTo(http.MethodGet, "/v1/wholesale/customers/"+customerID)
}

// statusTopLevel returns the bot's messages in a room that are not in a thread and contain
// marker.
func (h *harness) statusTopLevel(roomID, marker string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.BotMessages(roomID) {
		if m.ParentID == "" && strings.Contains(m.Markdown, marker) {
			got = append(got, m)
		}
	}
	return got
}

// statusCards returns the messages with a card that the bot sent a person directly.
func (h *harness) statusCards(personID string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.DirectFromBot(personID) {
		if len(m.Attachments) > 0 {
			got = append(got, m)
		}
	}
	return got
}

// statusAddRoom adds a group space with Ann and the bot.
func (h *harness) statusAddRoom(title string) string {
	h.T.Helper()
	room, err := h.Sim.AddRoom(title, webextest.BotID, webextest.AnnID)
	if err != nil {
		h.T.Fatal(err)
	}
	return room.ID
}

// statusFormatUTC formats a time as the bot shows it to people.
func statusFormatUTC(t time.Time) string { return bot.FormatTime(t) }

func TestStatusTransitionNotices(t *testing.T) {
	twoErrors := []webextest.ErrorDetail{
		{ErrorCode: 10022, Description: "The email is already associated with an existing user."},
		{ErrorCode: 4711, Description: "The license pool of the package is exhausted."},
	}
	setStatus := func(status string, errs ...webextest.ErrorDetail) func(*testing.T, *harness, string) {
		return func(t *testing.T, h *harness, customerID string) {
			t.Helper()
			if err := h.Sim.SetCustomerStatus(customerID, status, errs...); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name     string
		orgID    string
		admin    string
		packages string
		// move sets the customer's status; nil leaves it to the organization's outcome.
		move      func(t *testing.T, h *harness, customerID string)
		marker    string // what only this notice says, the status verbatim
		wantState bot.State
		want      []string
		wantNot   []string
		tracking  bool // the notice quotes the trackingId of the status call
		// askFullAdmin: the notice's card has the button that asks the customer admin for
		// Full Admin.
		askFullAdmin bool
	}{
		{
			name: "provisioned as Provisioning Admin", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings",
			marker: statusProvisionedMarker, wantState: bot.StateProvisioned,
			want: []string{
				"The partner's role in the organization is **Provisioning Admin** (`" + webextest.RoleProvisionAdmin + "`)",
				bot.FullAdminAdvice, "The card's button asks " + webextest.SmallAdminEmail,
				"Remember: " + bot.FirstUserNote,
			},
			askFullAdmin: true,
		},
		{
			name: "provisioned as Full Admin", orgID: webextest.NoLicenseOrgID, admin: webextest.NoLicenseAdminEmail, packages: "webex_meetings",
			marker: statusProvisionedMarker, wantState: bot.StateProvisioned,
			want:    []string{"The partner's role in the organization is **Full Admin** (`" + webextest.RoleFullAdmin + "`)", "Remember: " + bot.FirstUserNote},
			wantNot: []string{bot.FullAdminAdvice},
		},
		{
			name: "provisioned_with_errors", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings,cx_ai_assistant",
			move:   setStatus(webextest.StatusProvisionedWithErrors, twoErrors...),
			marker: "is provisioned, with errors", wantState: bot.StateProvisionedWithErrors,
			want: []string{
				"Webex Meetings is `error`:\n- The email is already associated with an existing user. (code 10022)\n- The license pool of the package is exhausted. (code 4711)",
			},
			wantNot:  []string{"Package `cx_ai_assistant`", bot.FirstUserNote},
			tracking: true,
		},
		{
			name: "error", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings",
			move:   setStatus(webextest.StatusError, twoErrors...),
			marker: "failed. Nothing more happens by itself", wantState: bot.StateError,
			want: []string{
				"Errors:\n- The email is already associated with an existing user. (code 10022)\n- The license pool of the package is exhausted. (code 4711)",
			},
			tracking: true,
		},
		{
			name: "error of the seeded organization", orgID: webextest.ErrorOrgID, admin: webextest.ErrorAdminEmail, packages: "webex_meetings",
			marker: "failed. Nothing more happens by itself", wantState: bot.StateError,
			want: []string{
				"- One or more Webex Calling services are unavailable due to maintenance, unable to start provisioning. Consult status.webex.com and retry later. (code 2560)",
			},
			tracking: true,
		},
		{
			name: "pending_rpl_review", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings",
			move:   setStatus(webextest.StatusPendingReview),
			marker: "is now in Cisco's compliance review", wantState: bot.StatePendingReview,
			want: []string{"Denied Party List compliance review", "Nothing is needed from you"},
		},
		{
			name: "updating", orgID: webextest.SmallOrgID, admin: webextest.SmallAdminEmail, packages: "webex_meetings",
			move:   setStatus(webextest.StatusUpdating),
			marker: "is now being updated by Webex", wantState: bot.StateUpdating,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{ManualClock: true})
			cmd, r := h.statusAttach(tt.orgID, tt.admin, tt.packages)
			if tt.move != nil {
				tt.move(t, h, r.CustomerID)
			}
			h.Clock.Advance(statusFirstPoll)
			h.MustSweep()

			n := h.statusOneNotice(cmd, tt.marker)
			if n.ParentID != cmd.ID || n.RoomID != webextest.PartnerSpaceID {
				t.Errorf("the notice is in room %s under %s, want the partner space under the command %s", n.RoomID, n.ParentID, cmd.ID)
			}
			want := append(slices.Clone(tt.want), "**"+r.ID+"**")
			if tt.tracking {
				polls := h.statusPolls(r.CustomerID)
				want = append(want, "TrackingId for Cisco support: `"+polls[len(polls)-1].TrackingID+"`")
			}
			apptest.Says(t, "the notice", n.Markdown, want, tt.wantNot)
			if got := apptest.SubmitData(t, n, statusAskFullAdmin) != nil; got != tt.askFullAdmin {
				t.Errorf("the notice has the Ask for Full Admin button: %t, want %t", got, tt.askFullAdmin)
			}
			if got := h.statusRequest(r.ID).State; got != tt.wantState {
				t.Errorf("state = %s, want %s", got, tt.wantState)
			}

			// Later sweeps find nothing new to tell.
			for range 3 {
				h.Clock.Advance(statusMaxPoll)
				h.MustSweep()
			}
			if got := len(h.statusNotices(cmd, tt.marker)); got != 1 {
				t.Errorf("after more sweeps the thread has %d such notices, want 1", got)
			}
			if got := len(h.statusNotices(cmd, statusStuckMarker)); got != 0 {
				t.Errorf("got %d stuck warnings for a request that did not stay provisioning", got)
			}
		})
	}
}

func TestStatusProvisionedButtonAsksCustomerAdminForFullAdmin(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()
	n := h.statusOneNotice(cmd, statusProvisionedMarker)
	data := apptest.SubmitData(t, n, statusAskFullAdmin)
	if data == nil {
		t.Fatalf("the provisioned notice has no Ask for Full Admin button")
	}

	h.Click(webextest.AnnID, n.ID, data)

	cards := h.statusCards(webextest.SmallAdminID)
	if len(cards) != 1 {
		t.Fatalf("the customer admin got %d cards, want 1 (the Full Admin request)", len(cards))
	}
	apptest.Says(t, "the customer admin's message", cards[0].Markdown,
		[]string{"asks you to make them a Full Admin of your organization (request " + r.ID + ")"}, nil)
	card := string(cards[0].Attachments[0].Content)
	apptest.Says(t, "the Full Admin request card", card, []string{"Please give your Webex partner Full Admin access", r.ID}, nil)
	h.statusOneNotice(cmd, "I asked "+webextest.SmallAdminEmail+" to make the partner a Full Admin")
}

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
			db, err := store.Open(h.Cfg.DBPath, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
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
// customer until a given number of them have arrived, so that overlapping sweeps provably
// overlap.
type statusBarrier struct {
	mu      sync.Mutex
	path    string
	want    int
	arrived int
	release chan struct{}
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
			if b.arrived++; b.arrived == b.want {
				close(release)
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

// hold makes the next n status calls of a customer wait for each other.
func (b *statusBarrier) hold(customerID string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.path, b.want, b.arrived, b.release = "/v1/wholesale/customers/"+customerID, n, 0, make(chan struct{})
}

func TestStatusOverlappingSweepsTellOnce(t *testing.T) {
	var barrier statusBarrier
	h := newStatusHarness(t, apptest.Options{ManualClock: true, Configure: func(c *app.Config) {
		c.WebexAPIURL = barrier.proxy(t, c.WebexAPIURL)
	}})
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Clock.Advance(statusFirstPoll)
	barrier.hold(r.CustomerID, 2)

	// Both sweeps read the change from Webex before either records it.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = h.App().Bot().Sweep(t.Context()) })
	}
	wg.Wait()
	h.Settle()

	for i, err := range errs {
		if err != nil {
			t.Errorf("sweep %d: %v", i, err)
		}
	}
	if got := len(h.statusPolls(r.CustomerID)); got != 2 {
		t.Fatalf("Webex was asked the status %d times, want 2 (once by each sweep)", got)
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

func TestStatusReturningStatusIsToldAgain(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	for _, status := range []string{
		webextest.StatusUpdating, webextest.StatusProvisioning, webextest.StatusUpdating,
		webextest.StatusPendingReview, webextest.StatusProvisioning, webextest.StatusProvisioned,
	} {
		if err := h.Sim.SetCustomerStatus(r.CustomerID, status); err != nil {
			t.Fatal(err)
		}
		h.Clock.Advance(statusMaxPoll)
		h.MustSweep()
	}
	var got []string
	// The notices say the status in words.
	statuses := map[string]string{
		"being updated by Webex": "updating", "being provisioned by Webex": "provisioning",
		"in Cisco's compliance review": "pending_rpl_review", "provisioned": "provisioned",
	}
	statusRE := regexp.MustCompile("^Attach \\*\\*" + r.ID + "\\*\\* for \\*\\*[^*]*\\*\\* is (?:now )?(being updated by Webex|being provisioned by Webex|in Cisco's compliance review|provisioned)[.:]")
	for _, m := range h.RepliesTo(cmd) {
		if match := statusRE.FindStringSubmatch(m.Markdown); match != nil {
			got = append(got, statuses[match[1]])
		}
	}
	want := []string{"updating", "provisioning", "updating", "pending_rpl_review", "provisioning", "provisioned"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the statuses told in the thread (-want +got):\n%s", diff)
	}
}

func TestStatusStuckWarning(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")

	h.statusRunJob(3*time.Hour + 15*time.Minute)

	n := h.statusOneNotice(cmd, statusStuckMarker)
	if after := n.Created.Sub(r.Submitted); after < h.Cfg.StuckAfter || after > h.Cfg.StuckAfter+statusMaxPoll {
		t.Errorf("the warning came %s after the submission, want between STUCK_AFTER (%s) and %s later", after, h.Cfg.StuckAfter, statusMaxPoll)
	}
	provision := h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")
	if len(provision) != 1 {
		t.Fatalf("POST /wholesale/customers was called %d times, want 1", len(provision))
	}
	apptest.Says(t, "the stuck warning", n.Markdown, []string{
		"**" + r.ID + "**", "customer id `" + r.CustomerID + "`", "status.webex.com", "Partner Hub > Customers",
		"open a case with Cisco quoting the trackingId `" + provision[0].TrackingID + "`", "I keep polling",
	}, nil)
	h.statusOneNotice(cmd, statusProvisionedMarker)
	if !h.statusRequest(r.ID).StuckWarned {
		t.Error("the request is not marked as warned")
	}
}

// statusAwaitingApproval attaches the 150-user organization, which needs its admin's
// approval, and returns the command, the request and the approval card.
func (h *harness) statusAwaitingApproval() (webextest.Message, bot.Request, webextest.Message) {
	h.T.Helper()
	cmd, r := h.statusAttach(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings")
	if r.State != bot.StateAwaitingApproval {
		h.T.Fatalf("state = %s, want %s", r.State, bot.StateAwaitingApproval)
	}
	cards := h.statusCards(webextest.BigAdminID)
	if len(cards) != 1 {
		h.T.Fatalf("the customer admin got %d cards, want the approval card", len(cards))
	}
	return cmd, r, cards[0]
}

func TestStatusApprovalHalfwayReminder(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r, _ := h.statusAwaitingApproval()
	halfway := h.Cfg.ApprovalTTL / 2
	const marker = "has not answered yet, so I sent the approval card again"

	h.Clock.Advance(halfway - time.Minute)
	h.MustSweep()
	if got := len(h.statusCards(webextest.BigAdminID)); got != 1 {
		t.Fatalf("before half the approval time the admin has %d cards, want 1", got)
	}

	h.Clock.Advance(time.Minute)
	h.MustSweep()
	for range 3 {
		h.Clock.Advance(time.Hour)
		h.MustSweep()
	}

	cards := h.statusCards(webextest.BigAdminID)
	if len(cards) != 2 {
		t.Fatalf("after half the approval time the admin has %d cards, want 2 (the card and one reminder)", len(cards))
	}
	expires := statusFormatUTC(r.ApprovalSent.Add(h.Cfg.ApprovalTTL))
	apptest.Says(t, "the reminder", cards[1].Markdown, []string{"Reminder: ", r.ID, "approve or decline by " + expires}, nil)
	if data := apptest.SubmitData(t, cards[1], "Approve"); data == nil || data[bot.FieldRequestID] != r.ID {
		t.Errorf("the reminder's Approve button has data %v, want request %s", data, r.ID)
	}
	n := h.statusOneNotice(cmd, marker)
	apptest.Says(t, "the partner's notice", n.Markdown, []string{webextest.BigAdminEmail, "It expires on " + expires}, nil)
	if got := h.statusRequest(r.ID); got.State != bot.StateAwaitingApproval || !got.RemindedAt.Equal(r.ApprovalSent.Add(halfway)) {
		t.Errorf("request after the reminder: state %s, reminded at %s; want %s, reminded at %s",
			got.State, got.RemindedAt, bot.StateAwaitingApproval, r.ApprovalSent.Add(halfway))
	}
}

func TestStatusApprovalExpires(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	cmd, r, card := h.statusAwaitingApproval()
	const marker = " did not answer. Nothing was provisioned."

	h.Clock.Advance(h.Cfg.ApprovalTTL - time.Minute)
	h.MustSweep()
	if got := h.statusRequest(r.ID).State; got != bot.StateAwaitingApproval {
		t.Fatalf("a minute before the approval TTL the state is %s, want %s", got, bot.StateAwaitingApproval)
	}

	h.Clock.Advance(time.Minute)
	h.MustSweep()
	h.Clock.Advance(time.Hour)
	h.MustSweep()

	if got := h.statusRequest(r.ID).State; got != bot.StateExpired {
		t.Errorf("state = %s, want %s", got, bot.StateExpired)
	}
	n := h.statusOneNotice(cmd, marker)
	apptest.Says(t, "the expiry notice", n.Markdown, []string{"Nothing was provisioned"}, nil)
	var told []string
	for _, m := range h.DirectFromBot(webextest.BigAdminID) {
		if strings.Contains(m.Markdown, "has expired") {
			told = append(told, m.Markdown)
		}
	}
	if len(told) != 1 || !strings.Contains(told[0], "Request "+r.ID) {
		t.Errorf("the customer admin was told %q, want one expiry message naming %s", told, r.ID)
	}

	// The expired card is deleted: a click on it cannot reach the bot any more.
	if _, ok := h.Sim.Message(card.ID); ok {
		t.Error("the expired approval card is still there")
	}
	if _, err := h.Sim.Click(t.Context(), webextest.BigAdminID, card.ID, apptest.SubmitData(t, card, "Approve")); err == nil {
		t.Error("a click on the expired, deleted card went through")
	}
	if got := len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")); got != 0 {
		t.Errorf("POST /wholesale/customers was called %d times after the expiry, want 0", got)
	}
	if got := h.statusRequest(r.ID).State; got != bot.StateExpired {
		t.Errorf("state = %s, want %s", got, bot.StateExpired)
	}
}

func TestStatusWebhookReactivation(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	quiet := h.statusAddRoom("Quiet space")
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "digest on")
	const note = "Webex had disabled my webhooks"

	messagesHook := func() webextest.Webhook {
		t.Helper()
		for _, hook := range h.Sim.Webhooks() {
			if hook.Resource == "messages" {
				return hook
			}
		}
		t.Fatal("the bot has no messages webhook")
		return webextest.Webhook{}
	}
	// deactivate disables the bot's messages webhook, and shows that the bot is unreachable.
	deactivate := func() {
		t.Helper()
		if err := h.Sim.DeactivateWebhook(messagesHook().ID); err != nil {
			t.Fatal(err)
		}
		if cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help"); len(h.RepliesTo(cmd)) != 0 {
			t.Fatal("the bot answered while its webhook was inactive")
		}
	}

	checks := []struct {
		after      time.Duration // since the previous check
		wantActive bool
		wantNotes  int
	}{
		{after: 0, wantActive: true, wantNotes: 1}, // the first sweep checks at once
		{after: 59 * time.Minute, wantActive: false, wantNotes: 1},
		{after: time.Minute, wantActive: true, wantNotes: 2},
	}
	deactivate()
	for i, c := range checks {
		h.Clock.Advance(c.after)
		h.MustSweep()
		if got := messagesHook().Status == webextest.WebhookActive; got != c.wantActive {
			t.Errorf("check %d (%s later): webhook active %t, want %t", i, c.after, got, c.wantActive)
		}
		if got := len(h.statusTopLevel(webextest.PartnerSpaceID, note)); got != c.wantNotes {
			t.Errorf("check %d: the digest space has %d notes, want %d", i, got, c.wantNotes)
		}
		if c.wantActive && i < len(checks)-1 {
			if cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help"); len(h.RepliesTo(cmd)) != 1 {
				t.Errorf("check %d: the bot did not answer after the re-activation", i)
			}
			deactivate()
		}
	}
	if got := len(h.statusTopLevel(quiet, note)); got != 0 {
		t.Errorf("a space without the digest got %d notes, want 0", got)
	}
	if cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help"); len(h.RepliesTo(cmd)) != 1 {
		t.Error("the bot did not answer after the last re-activation")
	}
	apptest.Says(t, "the note", h.statusTopLevel(webextest.PartnerSpaceID, note)[0].Markdown,
		[]string{`re-activated webhook "attachbot messages"`, "please repeat anything that got no answer"}, nil)
}

// statusWithOAuth configures the partner integration's client and refresh token, so that the
// bot refreshes the partner token.
func statusWithOAuth(c *app.Config) {
	c.OAuth.ClientID, c.OAuth.ClientSecret, c.OAuth.RefreshToken = webextest.DefaultClientID, webextest.DefaultClientSecret, webextest.DefaultRefreshToken
}

// statusTokens returns the partner tokens the store keeps.
func (h *harness) statusTokens() bot.Tokens {
	h.T.Helper()
	tokens, err := h.App().Store().Tokens(h.T.Context(), "partner")
	if err != nil {
		h.T.Fatalf("the stored partner tokens: %v", err)
	}
	return tokens
}

// statusCheckWorks runs `check` on the small organization and fails the test unless the
// partner token could read it.
func (h *harness) statusCheckWorks(when string) {
	h.T.Helper()
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "check "+webextest.SmallOrgID)
	if got := apptest.Joined(h.RepliesTo(cmd)); !strings.Contains(got, "GET /people?orgId= counted 12 users") {
		h.T.Errorf("%s: check did not read the organization with the partner token:\n%s", when, got)
	}
}

func TestStatusTokenRefreshedBeforeExpiry(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true, Configure: statusWithOAuth})
	// expires_in and refresh_token_expires_in of the simulated token endpoint
	const lifetime, refreshLifetime = 1209599 * time.Second, 7775999 * time.Second
	refreshes := func() []webextest.Call { return h.Sim.CallsTo(http.MethodPost, "/v1/access_token") }

	h.MustSweep()
	calls := refreshes()
	if len(calls) != 1 {
		t.Fatalf("the first sweep refreshed %d times, want 1", len(calls))
	}
	form, err := url.ParseQuery(string(calls[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	wantForm := url.Values{
		"grant_type": {"refresh_token"}, "client_id": {webextest.DefaultClientID},
		"client_secret": {webextest.DefaultClientSecret}, "refresh_token": {webextest.DefaultRefreshToken},
	}
	if diff := cmp.Diff(wantForm, form); diff != "" {
		t.Errorf("POST /access_token form (-want +got):\n%s", diff)
	}
	first := h.statusTokens()
	if first.AccessToken == "" || first.AccessToken == webextest.DefaultPartnerToken {
		t.Errorf("the stored access token is %q, want a new one", first.AccessToken)
	}
	wantTokens := bot.Tokens{AccessToken: first.AccessToken, Expires: apptest.Start.Add(lifetime), RefreshToken: webextest.DefaultRefreshToken,
		RefreshExpires: apptest.Start.Add(refreshLifetime)}
	if diff := cmp.Diff(wantTokens, first); diff != "" {
		t.Errorf("stored tokens (-want +got):\n%s", diff)
	}
	// The old token dies; the bot uses the new one.
	if err := h.Sim.ExpireToken(webextest.DefaultPartnerToken); err != nil {
		t.Fatal(err)
	}
	h.statusCheckWorks("with the environment's token expired")

	// No refresh until a day before the expiry, then one.
	h.Clock.Advance(first.Expires.Sub(h.Clock.Now()) - 24*time.Hour - time.Minute)
	h.MustSweep()
	if got := len(refreshes()); got != 1 {
		t.Errorf("a day and a minute before the expiry the bot had refreshed %d times, want 1", got)
	}
	h.Clock.Advance(time.Minute)
	h.MustSweep()
	if got := len(refreshes()); got != 2 {
		t.Errorf("a day before the expiry the bot had refreshed %d times, want 2", got)
	}
	second := h.statusTokens()
	if second.AccessToken == first.AccessToken || !second.Expires.Equal(h.Clock.Now().Add(lifetime)) {
		t.Errorf("after the second refresh the store keeps %+v, want a new token expiring at %s", second, h.Clock.Now().Add(lifetime))
	}
	if err := h.Sim.ExpireToken(first.AccessToken); err != nil {
		t.Fatal(err)
	}
	h.statusCheckWorks("with the first refreshed token expired")
}

func TestStatusRefreshedTokenSurvivesRestart(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true, Configure: statusWithOAuth})
	h.MustSweep()
	kept := h.statusTokens()
	if err := h.Sim.ExpireToken(webextest.DefaultPartnerToken); err != nil {
		t.Fatal(err)
	}

	h.CloseApp(h.App())
	h.Clock.Advance(time.Hour)
	h.StartApp()

	// Before any sweep could refresh, the restarted bot already uses the kept token.
	h.statusCheckWorks("after the restart")
	h.MustSweep()
	if got := len(h.Sim.CallsTo(http.MethodPost, "/v1/access_token")); got != 1 {
		t.Errorf("the bot refreshed %d times across the restart, want 1 (the kept token is fresh)", got)
	}
	if diff := cmp.Diff(kept, h.statusTokens()); diff != "" {
		t.Errorf("the stored tokens changed across the restart (-before +after):\n%s", diff)
	}
}

// statusDigests returns when the bot posted a digest in a room.
func (h *harness) statusDigests(roomID string) []time.Time {
	var got []time.Time
	for _, m := range h.statusTopLevel(roomID, "**Attach digest**") {
		got = append(got, m.Created)
	}
	return got
}

func TestStatusDigestSchedules(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	// start is Tuesday 24 November 2026, 09:00 UTC.
	day := func(d, hour int) time.Time { return time.Date(2026, 11, d, hour, 0, 0, 0, time.UTC) }
	tests := []struct {
		title     string
		command   string
		wantReply string
		want      []time.Time
	}{
		{"Weekdays", "digest on", "This space gets the attach digest weekdays at 08:00 UTC; the next one on Wed 25 Nov 2026, 08:00 UTC. `digest off` stops it.",
			[]time.Time{day(25, 8), day(26, 8), day(27, 8), day(30, 8), time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}},
		// Pasted no-break and ideographic spaces separate words as a space does.
		{"Mondays", "digest\u00a0on\u3000\"0 7 * * 1\"", "This space gets the attach digest Mondays at 07:00 UTC; the next one on Mon 30 Nov 2026, 07:00 UTC. `digest off` stops it.",
			[]time.Time{day(30, 7)}},
		{"Daily", "digest on @daily", "This space gets the attach digest every day at 00:00 UTC; the next one on Wed 25 Nov 2026, 00:00 UTC. `digest off` stops it.",
			[]time.Time{day(25, 0), day(26, 0), day(27, 0), day(28, 0), day(29, 0), day(30, 0), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}},
		{"Never", "", "", nil},
	}
	rooms := make([]string, len(tests))
	for i, tt := range tests {
		rooms[i] = h.statusAddRoom(tt.title)
		if tt.command == "" {
			continue
		}
		cmd := h.Say(webextest.AnnID, rooms[i], tt.command)
		if got := apptest.Joined(h.RepliesTo(cmd)); got != tt.wantReply {
			t.Errorf("%s: %s answered %q, want %q", tt.title, tt.command, got, tt.wantReply)
		}
	}

	// A week of the job, hourly, with a restart half way: the subscriptions are in the store.
	for hour := 1; hour <= 7*24; hour++ {
		h.Clock.Advance(time.Hour)
		h.MustSweep()
		if hour == 3*24 {
			h.CloseApp(h.App())
			h.StartApp()
		}
	}
	for i, tt := range tests {
		if diff := cmp.Diff(tt.want, h.statusDigests(rooms[i])); diff != "" {
			t.Errorf("%s: digest times (-want +got):\n%s", tt.title, diff)
		}
	}
}

func TestStatusDigestOff(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "digest on")
	h.Clock.Advance(24 * time.Hour) // Wednesday 09:00: one digest is due
	h.MustSweep()

	replies := func(text string) string {
		return apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, text)))
	}
	if got, want := replies("digest off"), "This space gets no more digests."; got != want {
		t.Errorf("digest off answered %q, want %q", got, want)
	}
	if got, want := replies("digest off"), "This space gets no digest. `digest on` starts one."; got != want {
		t.Errorf("a second digest off answered %q, want %q", got, want)
	}
	for range 7 {
		h.Clock.Advance(24 * time.Hour)
		h.MustSweep()
	}
	if got := len(h.statusDigests(webextest.PartnerSpaceID)); got != 1 {
		t.Errorf("got %d digests, want 1 (before digest off)", got)
	}
	for _, tt := range []struct{ line, want string }{
		{`digest on "every tuesday"`, "`every tuesday` is not a schedule I understand"},
		{`digest on "@every 1m"`, "would send a digest more often than hourly"},
		{`digest on "*/10 8 * * *"`, "would send a digest more often than hourly"},
		{`digest on "0 0 30 2 *"`, "`0 0 30 2 *` never comes round"},
		{`digest on "0 0 31 4,6 *"`, "never comes round"},
		{`digest on "0 8 29 2 *"`, "would send the next digest only on Tue 29 Feb 2028, 08:00 UTC, more than a year from now"},
		{`digest on "CRON_TZ=Europe/Oslo 0 8 * * *"`, "(UTC, such as"},
	} {
		if got := replies(tt.line); !strings.Contains(got, tt.want) {
			t.Errorf("%s answered %q, want %q in it", tt.line, got, tt.want)
		}
	}
	if got := len(h.statusDigests(webextest.PartnerSpaceID)); got != 1 {
		t.Errorf("got %d digests after refused schedules, want still 1", got)
	}
}

// statusDigestSections parses a digest into its sections' titles and the request ids listed
// under each.
func statusDigestSections(markdown string) map[string][]string {
	sections := map[string][]string{}
	title := ""
	header := regexp.MustCompile(`^\*\*(.+)\*\*: (\d+ requests?)$`)
	line := regexp.MustCompile(`^- \*\*([A-Z0-9]+)\*\* `)
	for l := range strings.SplitSeq(markdown, "\n") {
		if m := header.FindStringSubmatch(l); m != nil {
			title = m[1]
			sections[title] = []string{}
		} else if m := line.FindStringSubmatch(l); m != nil && title != "" {
			sections[title] = append(sections[title], m[1])
		}
	}
	return sections
}

func TestStatusDigestContents(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "digest on")
	if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, 96*time.Hour); err != nil {
		t.Fatal(err)
	}
	// A minute apart, so that newest first is a fixed order.
	attach := func(orgID, admin string) bot.Request {
		t.Helper()
		h.Clock.Advance(time.Minute)
		_, r := h.statusAttach(orgID, admin, "webex_meetings")
		return r
	}
	waiting := attach(webextest.BigOrgID, webextest.BigAdminEmail)
	slow := attach(webextest.SmallOrgID, webextest.SmallAdminEmail)
	done := attach(webextest.NoLicenseOrgID, webextest.NoLicenseAdminEmail)
	failed := attach(webextest.ErrorOrgID, webextest.ErrorAdminEmail)
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep() // done is provisioned and failed is error now

	const (
		waitingTitle  = "Waiting for the customer admin's approval"
		progressTitle = "In progress"
		finishedTitle = "Finished or failed since the last digest"
	)
	want := []map[string][]string{
		{waitingTitle: {waiting.ID}, progressTitle: {slow.ID}, finishedTitle: {failed.ID, done.ID}},
		{waitingTitle: {waiting.ID}, progressTitle: {slow.ID}, finishedTitle: {}},
	}
	// Wednesday and Thursday 08:00.
	for range 2 {
		h.Clock.Advance(24 * time.Hour)
		h.MustSweep()
	}
	msgs := h.statusTopLevel(webextest.PartnerSpaceID, "**Attach digest**")
	var got []map[string][]string
	for _, m := range msgs {
		got = append(got, statusDigestSections(m.Markdown))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the digests' sections (-want +got):\n%s", diff)
	}
	if len(msgs) == 2 {
		apptest.Says(t, "the second digest", msgs[1].Markdown, []string{"since " + statusFormatUTC(msgs[0].Created)}, nil)
	}
}

func TestStatusDigestStaysWithinWebexLimit(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "digest on")
	// Many requests of every kind, seeded in the store; none is due for a poll.
	seeded := map[bot.State][]string{} // newest first
	for i, s := range []struct {
		state bot.State
		n     int
	}{{bot.StateAwaitingApproval, 30}, {bot.StateProvisioning, 300}, {bot.StateError, 3}} {
		for j := s.n - 1; j >= 0; j-- {
			r := bot.Request{
				ID: fmt.Sprintf("D%d%03d", i, j), Source: "seed", State: s.state, RoomID: webextest.PartnerSpaceID,
				Created: apptest.Start.Add(time.Duration(j) * time.Second), Updated: apptest.Start.Add(time.Minute),
				ApprovalSent: apptest.Start, NextPoll: apptest.Start.Add(1000 * time.Hour),
				Spec: bot.AttachSpec{OrgID: webextest.SmallOrgID, AdminEmail: webextest.SmallAdminEmail, CustomerName: "Seeded Customer"},
			}
			if err := h.App().Store().CreateRequest(t.Context(), r, nil); err != nil {
				t.Fatal(err)
			}
			seeded[s.state] = append(seeded[s.state], r.ID)
		}
	}

	h.Clock.Advance(23 * time.Hour) // Wednesday 08:00
	h.MustSweep()

	parts := h.statusTopLevel(webextest.PartnerSpaceID, "")
	for _, p := range parts {
		if len(p.Markdown) > bot.MaxMessageBytes {
			t.Errorf("a digest message has %d bytes, more than Webex's %d", len(p.Markdown), bot.MaxMessageBytes)
		}
	}
	text := apptest.Joined(parts)
	want := map[string][]string{
		"Waiting for the customer admin's approval": seeded[bot.StateAwaitingApproval][:20],
		"In progress": seeded[bot.StateProvisioning][:20],
		"Finished or failed since the last digest": seeded[bot.StateError],
	}
	if diff := cmp.Diff(want, statusDigestSections(text)); diff != "" {
		t.Errorf("the digest's sections (-want +got):\n%s", diff)
	}
	apptest.Says(t, "the digest", text, []string{
		"**Waiting for the customer admin's approval**: 30 requests", "… and 10 more: `list approvals`",
		"**In progress**: 300 requests", "… and 280 more: `list pending`",
		"**Finished or failed since the last digest**: 3 requests",
	}, nil)
}

func TestStatusCommand(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	other := h.statusAddRoom("Other partner space")
	_, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	_, elsewhere := h.statusAttachIn(other, webextest.NoLicenseOrgID, webextest.NoLicenseAdminEmail, "webex_meetings")
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()
	polls := h.statusPolls(r.CustomerID)
	provision := h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")

	tests := []struct {
		command string
		want    []string
		wantNot []string
	}{
		{
			command: "status " + strings.ToLower(r.ID),
			want: []string{
				"**Attach " + r.ID + "**: provisioned",
				"- Customer id: `" + r.CustomerID + "`; Webex status: `provisioned`",
				"- Partner role in the organization: `" + webextest.RoleProvisionAdmin + "`",
				"attachbot: submitted (POST /wholesale/customers answered 202; customer id " + r.CustomerID + ") trackingId `" + provision[0].TrackingID + "`",
				"webex: status provisioned trackingId `" + polls[len(polls)-1].TrackingID + "`",
				"**Facts**",
			},
		},
		{
			command: "status",
			want:    []string{"**Attach requests in this space**, newest first:", "- **" + r.ID + "** ", ", provisioned, updated", "`status <id>` shows one in full."},
			wantNot: []string{elsewhere.ID},
		},
		{command: "status ZZZZZZ", want: []string{"I don't know request ZZZZZZ."}},
	}
	for _, tt := range tests {
		cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, tt.command)
		replies := h.RepliesTo(cmd)
		if len(replies) != 1 {
			t.Errorf("%s: got %d replies, want 1:\n%s", tt.command, len(replies), apptest.Joined(replies))
			continue
		}
		apptest.Says(t, "the answer to "+tt.command, replies[0].Markdown, tt.want, tt.wantNot)
	}
}

func TestStatusListCommand(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	states := []bot.State{bot.StateAwaitingApproval, bot.StateProvisioning, bot.StateError, bot.StateProvisioned, bot.StateExpired}
	const n = 230
	ids := map[bot.State][]string{} // newest first
	var all []string
	for i := n - 1; i >= 0; i-- {
		r := bot.Request{
			ID: fmt.Sprintf("L%04d", i), Source: "seed", State: states[i%len(states)], RoomID: webextest.PartnerSpaceID,
			Created: apptest.Start.Add(time.Duration(i) * time.Minute), Updated: apptest.Start.Add(time.Duration(i) * time.Minute),
			Spec: bot.AttachSpec{OrgID: webextest.SmallOrgID, AdminEmail: webextest.SmallAdminEmail, CustomerName: "Seeded Customer"},
		}
		if err := h.App().Store().CreateRequest(t.Context(), r, nil); err != nil {
			t.Fatal(err)
		}
		ids[r.State] = append(ids[r.State], r.ID)
		all = append(all, r.ID)
	}

	tests := []struct {
		command  string
		want     []string
		wantMore bool
	}{
		{"list", all[:200], true},
		{"list all", all[:200], true},
		{"list approvals", ids[bot.StateAwaitingApproval], false},
		{"list pending", ids[bot.StateProvisioning], false},
		{"list failed", ids[bot.StateError], false},
		{"list done", statusMergeNewestFirst(ids[bot.StateProvisioned], ids[bot.StateExpired]), false},
	}
	idRE := regexp.MustCompile(`(?m)^- \*\*(L\d{4})\*\* `)
	for _, tt := range tests {
		cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, tt.command)
		replies := h.RepliesTo(cmd)
		var got []string
		for _, m := range replies {
			if len(m.Markdown) > bot.MaxMessageBytes {
				t.Errorf("%s: a page has %d bytes, more than Webex's %d", tt.command, len(m.Markdown), bot.MaxMessageBytes)
			}
			for _, match := range idRE.FindAllStringSubmatch(m.Markdown, -1) {
				got = append(got, match[1])
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: requests listed (-want +got):\n%s", tt.command, diff)
		}
		text := apptest.Joined(replies)
		if more := strings.Contains(text, "only the newest 200 are shown"); more != tt.wantMore {
			t.Errorf("%s: says there are more: %t, want %t", tt.command, more, tt.wantMore)
		}
		if tt.wantMore && len(replies) < 2 {
			t.Errorf("%s: the long list came in %d message, want several pages", tt.command, len(replies))
		}
	}

	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "list bogus")
	if got := apptest.Joined(h.RepliesTo(cmd)); !strings.Contains(got, "list bogus? Use one of: all, pending, approvals, failed, done.") {
		t.Errorf("list bogus answered %q", got)
	}
}

// statusMergeNewestFirst merges two lists of seeded request ids, each newest first, into one,
// newest first (the seeded ids sort like their creation times).
func statusMergeNewestFirst(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || (len(a) > 0 && a[0] > b[0]) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

func TestStatusJobRunsOnPollSchedule(t *testing.T) {
	h := newHarness(t, apptest.Options{ManualClock: true, Configure: func(c *app.Config) { c.PollSchedule = "@every 1s" }})
	cmd, _ := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Clock.Advance(statusFirstPoll)

	// cron runs the sweep on real time; no test code calls it.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := h.Sim.WaitFor(ctx, func() bool { return len(h.statusNotices(cmd, statusProvisionedMarker)) > 0 }); err != nil {
		t.Fatalf("the job did not tell the provisioning within 10s: %v", err)
	}
	h.CloseApp(h.App()) // waits for a sweep under way
	h.statusOneNotice(cmd, statusProvisionedMarker)
}

func TestStatusUnreadableStatusIsToldOnce(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{})
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/wholesale/customers/*", Status: http.StatusNotFound, Message: "Customer not found."})

	for range 4 { // each sweep finds the request due: the backoff is waited out
		h.Clock.Advance(statusMaxPoll)
		if err := h.Sweep(); err == nil {
			t.Fatal("a sweep whose poll got 404 reported no error")
		}
	}
	const marker = "I can't read how attach"
	n := h.statusOneNotice(cmd, marker)
	apptest.Says(t, "the notice", n.Markdown, []string{r.ID, "Webex answered 404: Customer not found.", "TrackingId for Cisco support", "`status " + r.ID + "`"}, nil)
	if got := len(h.statusPolls(r.CustomerID)); got != 4 {
		t.Errorf("status calls = %d, want 4 (a 404 is not retried within a poll)", got)
	}

	// Webex answers again: the outcome is told, and a later failure would be told anew.
	h.Sim.ClearFaults()
	h.Clock.Advance(statusMaxPoll)
	h.MustSweep()
	h.statusOneNotice(cmd, statusProvisionedMarker)
	h.statusOneNotice(cmd, marker)
	if got := h.statusRequest(r.ID); got.PollFailureTold {
		t.Error("PollFailureTold is still set after a successful poll")
	}
}

func TestStatusOtherPollFailuresAreNotToldPerRequest(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusBadRequest} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			h := newStatusHarness(t, apptest.Options{})
			cmd, _ := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
			h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/wholesale/customers/*", Status: status})
			h.Clock.Advance(statusMaxPoll)
			if err := h.Sweep(); err == nil {
				t.Fatalf("a sweep whose poll got %d reported no error", status)
			}
			if got := h.statusNotices(cmd, "I can't read how attach"); len(got) != 0 {
				t.Errorf("a %d was told in the request's thread: %q", status, apptest.Joined(got))
			}
		})
	}
}

func TestStatusEveryErrorIsToldHoweverMany(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{})
	cmd, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	var errs []webextest.ErrorDetail
	for i := range 150 {
		errs = append(errs, webextest.ErrorDetail{ErrorCode: 20000 + i,
			Description: fmt.Sprintf("Simulated failure number %d of a long list, to pass Webex's message limit.", i)})
	}
	if err := h.Sim.SetCustomerStatus(r.CustomerID, webextest.StatusError, errs...); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()

	var parts []webextest.Message
	for _, m := range h.RepliesTo(cmd) {
		if strings.Contains(m.Markdown, "code 2") {
			parts = append(parts, m)
		}
	}
	if len(parts) < 2 {
		t.Fatalf("the errors came in %d message, want several", len(parts))
	}
	text := apptest.Joined(parts)
	for _, p := range parts {
		if len(p.Markdown) > bot.MaxMessageBytes {
			t.Errorf("a part has %d bytes, more than Webex's %d", len(p.Markdown), bot.MaxMessageBytes)
		}
	}
	for _, e := range errs {
		if n := strings.Count(text, fmt.Sprintf("code %d)", e.ErrorCode)); n != 1 {
			t.Errorf("error code %d is told %d times, want once", e.ErrorCode, n)
		}
	}
	// Another sweep tells nothing again.
	before := len(h.RepliesTo(cmd))
	h.Clock.Advance(statusMaxPoll)
	h.MustSweep()
	if got := len(h.RepliesTo(cmd)); got != before {
		t.Errorf("the thread has %d messages after a sweep with no change, want still %d", got, before)
	}
}
