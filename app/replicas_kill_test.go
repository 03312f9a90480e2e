package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// holdFirst is a Webex transport that, once armed, holds the first request it matches
// unanswered until the request's context ends (its process was killed), and tells held.
// With applied, Webex gets the request and acts on it first: only its answer is held (the
// process died after Webex acted).
type holdFirst struct {
	match   func(*http.Request) bool
	applied bool
	armed   atomic.Bool
	once    sync.Once
	held    chan struct{}
}

// RoundTrip holds the first matching request once armed; it sends the others.
func (t *holdFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	hold := false
	if t.armed.Load() && t.match(r) {
		t.once.Do(func() { hold = true })
	}
	if !hold {
		return http.DefaultTransport.RoundTrip(r)
	}
	if t.applied {
		resp, err := http.DefaultTransport.RoundTrip(r.Clone(context.WithoutCancel(r.Context())))
		if err == nil {
			resp.Body.Close()
		}
	}
	close(t.held)
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// newKillableReplicas is newReplicas with n replicas and no other attachbot (the harness's
// is closed at once), each calling Webex through hold, so that the test can kill whichever
// is in the middle of the work.
func newKillableReplicas(t *testing.T, n int, hold *holdFirst, opts apptest.Options) (*harness, map[string]int) {
	t.Helper()
	opts.ScanEvery = replicaScan
	h := newHarness(t, opts)
	h.CloseApp(h.App())
	owners := map[string]int{}
	for i := range n {
		owner := fmt.Sprintf("replica-%d", i)
		owners[owner] = h.AddReplica(owner, &http.Client{Transport: hold})
	}
	return h, owners
}

// killHolder waits until hold holds a Webex request (failing with notHeld if the test ends
// first), then kills the replica that holds the claim the query names.
func (h *harness) killHolder(hold *holdFirst, owners map[string]int, query, notHeld string) {
	h.T.Helper()
	select {
	case <-hold.held:
	case <-h.T.Context().Done():
		h.T.Fatal(notHeld)
	}
	h.kill(owners[h.holderOf(query)])
}

// holderOf returns the owner of the live claim the query (on the shared database) names.
func (h *harness) holderOf(query string) string {
	h.T.Helper()
	conn, err := pgx.Connect(h.T.Context(), h.Cfg.Database.URL)
	if err != nil {
		h.T.Fatal(err)
	}
	defer conn.Close(h.T.Context())
	var owner string
	if err := conn.QueryRow(h.T.Context(), query).Scan(&owner); err != nil {
		h.T.Fatalf("find the holder (%s): %v", query, err)
	}
	return owner
}

// kill kills replica i: its context ends without Close, its pool closes and the database
// ends its connections.
func (h *harness) kill(i int) {
	h.T.Helper()
	db, ok := h.Replica(i).Store().(io.Closer)
	if !ok {
		h.T.Fatal("the replica's store cannot be closed")
	}
	h.KillReplica(i, func(name string) {
		go db.Close()
		pg.CutApplication(h.T, name)
	})
}

// TestReplicaKilledMidSend kills the replica that is sending an answer while Webex has not
// answered it: another replica sends it once the killed one's claim on the space ran out,
// and the space gets it once.
func TestReplicaKilledMidSend(t *testing.T) {
	replicasOnly(t)
	hold := &holdFirst{held: make(chan struct{}), match: func(r *http.Request) bool {
		return r.Method == http.MethodPost && r.URL.Path == "/v1/messages"
	}}
	h, owners := newKillableReplicas(t, 2, hold, apptest.Options{})
	hold.armed.Store(true)
	cmd, err := h.Sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID, "help")
	if err != nil {
		t.Fatal(err)
	}
	h.killHolder(hold, owners, `SELECT lease_owner FROM outbox_lanes WHERE lease_owner IS NOT NULL`, "no answer was sent")
	h.Advance(2 * time.Minute) // past the lane's lease
	h.Settle()
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Errorf("help answered %d times, want once", got)
	}
}

// runJob runs the periodic job named name on a, as its cron entry would.
func runJob(t *testing.T, a *app.App, name string) {
	t.Helper()
	for _, j := range a.Bot().Jobs() {
		if j.Name == name {
			if err := j.Run(t.Context()); err != nil {
				t.Fatalf("job %s: %v", name, err)
			}
			return
		}
	}
	t.Fatalf("no job %s", name)
}

// TestLeaderFailover kills the leader of two replicas: while its lease lives, the other
// leaves the webhook checks to it (never two leaders at once); within two lease periods the
// other takes over and checks the webhooks itself, and the daily digest goes on, once a day.
func TestLeaderFailover(t *testing.T) {
	replicasOnly(t)
	// The clock moves only when the test moves it: the leases run out when it says so.
	h, owners := newKillableReplicas(t, 2, &holdFirst{held: make(chan struct{})}, apptest.Options{ManualClock: true})
	checks := func() int { return h.Sim.CountCalls(http.MethodGet, "/v1/webhooks") }
	room := h.statusAddRoom("Digests")
	h.Say(webextest.AnnID, room, "digest on @daily")
	h.Advance(15 * time.Hour) // the start is 09:00 UTC: the first digest is due
	for _, i := range []int{0, 1} {
		runJob(t, h.Replica(i), "digests")
	}
	h.Settle()
	if got := len(h.statusDigests(room)); got != 1 {
		t.Errorf("%d digests after both replicas ran the job, want 1", got)
	}
	leader := h.holderOf(`SELECT owner FROM leases WHERE name = 'leader'`)
	other := 1 - owners[leader]

	before := checks()
	for _, i := range []int{0, 1} {
		runJob(t, h.Replica(i), "webhooks")
	}
	if got := checks() - before; got != 1 {
		t.Errorf("the webhooks were checked %d times by two replicas, want once (by the leader)", got)
	}

	h.kill(owners[leader])
	before = checks()
	runJob(t, h.Replica(other), "webhooks")
	if got := checks() - before; got != 0 {
		t.Errorf("the other replica checked the webhooks %d times while the dead leader's lease lived, want none", got)
	}
	h.Advance(2 * leaderLease)
	runJob(t, h.Replica(other), "webhooks")
	if got := checks() - before; got != 1 {
		t.Errorf("the other replica checked the webhooks %d times two lease periods after the leader died, want once", got)
	}
	if got := h.holderOf(`SELECT owner FROM leases WHERE name = 'leader'`); got == leader {
		t.Errorf("the leader's lease is still %s's", got)
	}
	h.Advance(24 * time.Hour)
	runJob(t, h.Replica(other), "digests")
	h.Settle()
	if got := len(h.statusDigests(room)); got != 2 {
		t.Errorf("%d digests a day after the leader died, want 2", got)
	}
}

// leaderLease is how long the leader's lease lives (docs/engine.md).
const leaderLease = 30 * time.Second

// TestReplicaKilledMidAttach kills the replica provisioning an approved organization after
// Webex created the customer and before its answer came back: the other replica finishes the
// approval once the dead one's claims ran out, and the organization is provisioned once.
func TestReplicaKilledMidAttach(t *testing.T) {
	replicasOnly(t)
	hold := &holdFirst{held: make(chan struct{}), applied: true, match: func(r *http.Request) bool {
		return r.Method == http.MethodPost && r.URL.Path == "/v1/wholesale/customers"
	}}
	h, owners := newKillableReplicas(t, 2, hold, apptest.Options{})
	cmd, err := h.Sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID,
		statusAttachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings"))
	if err != nil {
		t.Fatal(err)
	}
	h.Settle()
	card := h.approvalCard(webextest.BigAdminID)
	hold.armed.Store(true)
	if _, err := h.Sim.Click(t.Context(), webextest.BigAdminID, card.ID, h.Submission(card, "Approve", nil)); err != nil {
		t.Fatal(err)
	}
	h.killHolder(hold, owners, `SELECT lease_owner FROM events WHERE lease_owner IS NOT NULL`, "the organization was not provisioned")
	h.Advance(10 * time.Minute) // past the event's lease and the organization's lock
	h.Settle()
	if got := len(h.provisionCalls()); got != 1 {
		t.Errorf("POST /wholesale/customers %d times, want once", got)
	}
	if got := h.newCustomers(); got != 1 {
		t.Errorf("%d new customers in Webex, want 1", got)
	}
	apptest.MustContain(t, "the partner thread", apptest.Joined(h.RepliesTo(cmd)), "**approved**")
}

// TestReplicaKilledMidPoll kills a replica while it asks Webex for a request's status: the
// other polls the request once the dead one's claim on the poll ran out, and the status
// change is told once.
func TestReplicaKilledMidPoll(t *testing.T) {
	replicasOnly(t)
	hold := &holdFirst{held: make(chan struct{}), match: func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/wholesale/customers/")
	}}
	h, _ := newKillableReplicas(t, 2, hold, apptest.Options{})
	cmd, err := h.Sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID,
		statusAttachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings"))
	if err != nil {
		t.Fatal(err)
	}
	h.Settle()
	card := h.approvalCard(webextest.BigAdminID)
	h.Click(webextest.BigAdminID, card.ID, h.Submission(card, "Approve", nil))
	if got := len(h.provisionCalls()); got != 1 {
		t.Fatalf("POST /wholesale/customers %d times, want once", got)
	}

	hold.armed.Store(true)
	h.Advance(time.Minute) // the first poll is due
	pollCtx, stopPoll := context.WithCancel(t.Context())
	polled := make(chan error, 1)
	go func() { polled <- h.Replica(0).Bot().Sweep(pollCtx) }()
	select {
	case <-hold.held:
	case err := <-polled:
		t.Fatalf("replica-0's sweep ended (%v) without polling", err)
	}
	if got := h.holderOf(`SELECT poll_owner FROM requests WHERE poll_owner IS NOT NULL`); got != "replica-0" {
		t.Fatalf("the poll under way is claimed by %s, want replica-0", got)
	}
	h.kill(0)
	stopPoll()
	<-polled

	for end := h.Clock.Now().Add(30 * time.Minute); h.Clock.Now().Before(end); {
		h.Advance(time.Minute) // past the dead replica's claim on the poll, then as the job runs
		runJob(t, h.Replica(1), "polls")
		h.Settle()
	}
	h.statusOneNotice(cmd, statusProvisionedMarker)
}
