package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// gateFirst is a Webex transport that, once armed, holds the first request it matches until
// the test opens the gate (or the request's context ends), and tells held when it holds it.
type gateFirst struct {
	match func(*http.Request) bool
	armed atomic.Bool
	once  sync.Once
	held  chan struct{}
	open  chan struct{}
}

// RoundTrip holds the first matching request once armed, until the gate opens; it sends
// every request to Webex.
func (g *gateFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	hold := false
	if g.armed.Load() && g.match(r) {
		g.once.Do(func() { hold = true })
	}
	if hold {
		close(g.held)
		select {
		case <-g.open:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestReplicasKeepASpacesOrder delivers two commands in one space to two replicas in turn
// while the first replica's reading of the first command is held: the second replica is
// refused the second command (its space's first is another's), commands in other spaces go
// on meanwhile on both replicas, and once the first command is done its replica takes the
// second from the store at once (the scan, an hour apart here, never runs): both are answered
// once, in order.
func TestReplicasKeepASpacesOrder(t *testing.T) {
	replicasOnly(t)
	gate := &gateFirst{held: make(chan struct{}), open: make(chan struct{}), match: func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/messages/")
	}}
	h := newHarness(t, apptest.Options{ScanEvery: time.Hour})
	h.CloseApp(h.App())
	owners := map[string]int{}
	for i := range 2 {
		owner := fmt.Sprintf("replica-%d", i)
		owners[owner] = h.AddReplica(owner, &http.Client{Transport: gate})
	}
	elsewhere := []string{h.statusAddRoom("Elsewhere 1"), h.statusAddRoom("Elsewhere 2")}
	say := func(roomID string) webextest.Message {
		t.Helper()
		msg, err := h.Sim.Say(t.Context(), webextest.AnnID, roomID, "help")
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}

	gate.armed.Store(true)
	first := say(webextest.PartnerSpaceID)
	select {
	case <-gate.held:
	case <-t.Context().Done():
		t.Fatal("the first command was never read")
	}
	holder := owners[h.holderOf(`SELECT lease_owner FROM events WHERE lease_owner IS NOT NULL`)]
	other := 1 - holder
	second := say(webextest.PartnerSpaceID) // to the other replica, the deliveries going to them in turn
	settleCtx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := h.Replica(other).Bot().Settle(settleCtx); err != nil {
		t.Fatalf("the other replica did not settle: %v", err)
	}
	if got := h.Replica(holder).Bot().QueueStats().InboxDepth; got != 1 {
		t.Fatalf("the holder's inbox holds %d events, want the first command only (the second went to the other replica)", got)
	}
	if got := h.holderOf(fmt.Sprintf(`SELECT coalesce(lease_owner, 'no one') FROM events WHERE doc->>'dataId' = '%s'`, second.ID)); got != "no one" {
		t.Errorf("the second command is claimed by %s while the first is held, want by no one", got)
	}

	// Other spaces go on, on both replicas: the holder's other workers, and the other replica.
	var others []webextest.Message
	for _, room := range elsewhere {
		others = append(others, say(room))
	}
	if err := h.Sim.WaitFor(settleCtx, func() bool {
		return len(h.RepliesTo(others[0])) == 1 && len(h.RepliesTo(others[1])) == 1
	}); err != nil {
		t.Fatalf("the commands in other spaces were not answered while a space was held: %v", err)
	}
	if got := len(h.BotMessages(webextest.PartnerSpaceID)); got != 0 {
		t.Errorf("%d answers in the held space before its first command was read, want none", got)
	}

	close(gate.open)
	h.Settle()
	answers := h.BotMessages(webextest.PartnerSpaceID)
	at := func(cmd webextest.Message) int {
		return slices.IndexFunc(answers, func(m webextest.Message) bool { return m.ParentID == cmd.ID })
	}
	for i, cmd := range []webextest.Message{first, second} {
		if got := len(h.RepliesTo(cmd)); got != 1 {
			t.Errorf("command #%d answered %d times, want once", i+1, got)
		}
	}
	if at(first) < 0 || at(second) < at(first) {
		t.Errorf("answers in the space at %d (first) and %d (second), want the first's before the second's", at(first), at(second))
	}
}
