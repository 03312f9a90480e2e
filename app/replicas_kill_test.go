package app_test

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// holdFirst is a Webex transport that, once armed, holds the first request it matches
// unanswered until the request's context ends (its process was killed), and tells held.
type holdFirst struct {
	match func(*http.Request) bool
	armed atomic.Bool
	once  sync.Once
	held  chan struct{}
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
	close(t.held)
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// newKillableReplicas is newReplicas with n replicas and no other attachbot (the harness's
// is closed at once), each calling Webex through hold, so that the test can kill whichever
// is in the middle of the work.
func newKillableReplicas(t *testing.T, n int, hold *holdFirst) (*harness, map[string]int) {
	t.Helper()
	h := newHarness(t, apptest.Options{ScanEvery: replicaScan})
	h.CloseApp(h.App())
	owners := map[string]int{}
	for i := range n {
		owner := fmt.Sprintf("replica-%d", i)
		owners[owner] = h.AddReplica(owner, &http.Client{Transport: hold})
	}
	return h, owners
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
	h, owners := newKillableReplicas(t, 2, hold)
	hold.armed.Store(true)
	cmd, err := h.Sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID, "help")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hold.held:
	case <-t.Context().Done():
		t.Fatal("no answer was sent")
	}
	owner := h.holderOf(`SELECT lease_owner FROM outbox_lanes WHERE lease_owner IS NOT NULL`)
	h.kill(owners[owner])
	h.Advance(2 * time.Minute) // past the lane's lease
	h.Settle()
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Errorf("help answered %d times, want once", got)
	}
}
