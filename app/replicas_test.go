package app_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// replicasOnly skips the test outside the PostgreSQL run: replicas share a database.
func replicasOnly(t *testing.T) {
	t.Helper()
	if !storeOnPostgres {
		t.Skip("replicas share a database: this test runs in the PostgreSQL run")
	}
}

// replicaScan is how often the replicas of these tests scan the store for the work another
// left them (a lane it was refused while another held it, a claim that ran out).
const replicaScan = 5 * time.Millisecond

// newReplicas is newHarness on PostgreSQL over webhooks with n attachbots in all (the
// harness's and n-1 replicas), the deliveries going to them in turn.
func newReplicas(t *testing.T, n int, opts apptest.Options) *harness {
	t.Helper()
	opts.ScanEvery = replicaScan
	h := newHarness(t, opts)
	for i := 1; i < n; i++ {
		h.AddReplica(fmt.Sprintf("replica-%d", i), nil)
	}
	return h
}

// redeliverLast delivers the latest delivery again (to the next replica in turn) and fails
// the test unless it was acknowledged.
func (h *harness) redeliverLast() {
	h.T.Helper()
	last, ok := h.Sim.LastDelivery()
	if !ok {
		h.T.Fatal("no delivery to deliver again")
	}
	again, err := h.Sim.Redeliver(h.T.Context(), last)
	if err != nil || again.Status != http.StatusOK {
		h.T.Fatalf("the redelivery = %d, %v; want 200", again.Status, err)
	}
}

// sweepAll runs the periodic work on every running attachbot at once, as their cron
// entries would, and waits until they have sent what they enqueued.
func (h *harness) sweepAll(apps int) {
	h.T.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, apps)
	sweep := func(run func(context.Context) error) { wg.Go(func() { errs <- run(h.T.Context()) }) }
	sweep(h.App().Bot().Sweep)
	for i := 1; i < apps; i++ {
		sweep(h.Replica(i - 1).Bot().Sweep)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			h.T.Errorf("sweep: %v", err)
		}
	}
	h.Settle()
}

// TestReplicasDoEachThingOnce runs two, then three attachbots on one database, Webex's
// deliveries spread over them in turn and each delivered again to the next: every command
// is answered once, the approval provisions once, and the status change is told once.
func TestReplicasDoEachThingOnce(t *testing.T) {
	replicasOnly(t)
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) {
			h := newReplicas(t, n, apptest.Options{Configure: func(c *app.Config) { c.PollSchedule = statusNeverSchedule }})
			var cmds []webextest.Message
			for range 2 * n {
				cmd, err := h.Sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID, "help")
				if err != nil {
					t.Fatal(err)
				}
				h.redeliverLast()
				cmds = append(cmds, cmd)
			}
			h.Settle()
			for i, cmd := range cmds {
				if got := len(h.RepliesTo(cmd)); got != 1 {
					t.Errorf("help #%d answered %d times, want once", i, got)
				}
			}

			cmd, err := h.Sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID,
				statusAttachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings"))
			if err != nil {
				t.Fatal(err)
			}
			h.redeliverLast()
			h.Settle()
			card := h.approvalCard(webextest.BigAdminID)
			if _, err := h.Sim.Click(t.Context(), webextest.BigAdminID, card.ID, h.Submission(card, "Approve", nil)); err != nil {
				t.Fatal(err)
			}
			h.redeliverLast()
			h.Settle()
			if got := len(h.provisionCalls()); got != 1 {
				t.Errorf("POST /wholesale/customers %d times, want once", got)
			}
			for end := h.Clock.Now().Add(30 * time.Minute); h.Clock.Now().Before(end); {
				h.Advance(time.Minute)
				h.sweepAll(n)
			}
			h.statusOneNotice(cmd, statusProvisionedMarker)
		})
	}
}
