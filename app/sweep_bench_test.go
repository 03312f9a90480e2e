package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/webex/webextest"
)

// The status job's cost: one sweep over many requests being provisioned, against the
// simulated Webex. Run it with
//
//	go test -run '^$' -bench BenchmarkSweep -benchtime 3x -benchmem ./app/
//
// and see docs/benchmarks.md for the figures.

// sweepBench is attachbot wired as serve wires it (the real store in a temporary directory,
// the real Webex adapter over HTTP) against a simulated Webex, with n requests in
// provisioning, every one due for a poll, and their customers in the simulator.
type sweepBench struct {
	sim       *webextest.Sim
	clock     *bottest.Clock
	app       *app.App
	customers []string
	conns     atomic.Int64 // TCP connections the simulator accepted
}

// newSweepBench builds and starts attachbot with n requests being provisioned. The cron job
// never fires, nothing is ever stuck, and no webhooks are kept (PUBLIC_URL is unset), so a
// sweep does nothing but poll.
func newSweepBench(tb testing.TB, n int) *sweepBench {
	tb.Helper()
	ctx := context.Background()
	sb := &sweepBench{clock: bottest.NewClock(apptest.Start, false)}
	sb.sim = webextest.New(webextest.Options{Now: sb.clock.Now})
	srv := httptest.NewUnstartedServer(sb.sim)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			sb.conns.Add(1)
		}
	}
	srv.Start()
	tb.Cleanup(srv.Close)

	cfg := benchConfig(tb, srv.URL)
	cfg.StuckAfter = 100 * 365 * 24 * time.Hour // no stuck warning during the sweep
	var err error

	external := make([]string, n)
	for i := range external {
		external[i] = fmt.Sprintf("bench-%05d", i)
	}
	if sb.customers, err = sb.sim.AddCustomers(webextest.StatusProvisioning, external...); err != nil {
		tb.Fatal(err)
	}
	if sb.app, err = app.New(tb.Context(), cfg, app.Wiring{Clock: sb.clock, PollInSweepOnly: true}, slog.New(slog.DiscardHandler)); err != nil {
		tb.Fatal(err)
	}
	now := sb.clock.Now()
	for i, customerID := range sb.customers {
		r := bot.Request{
			ID: fmt.Sprintf("B%05d", i), Source: "benchmark", Created: now, Updated: now,
			State: bot.StateProvisioning, RoomID: webextest.PartnerSpaceID,
			RequestedBy: webextest.AnnEmail, RequestedByID: webextest.AnnID,
			Spec: bot.AttachSpec{
				OrgID: webextest.SmallOrgID, AdminEmail: webextest.SmallAdminEmail, CustomerName: "Bench Customer",
				Template: "Standard", Packages: []string{"webex_meetings"}, ExternalID: external[i],
			},
			CustomerID: customerID, WebexStatus: webextest.StatusProvisioning,
			Submitted: now, NextPoll: now, PollInterval: statusFirstPoll,
		}
		r.Audit = []bot.AuditEntry{{At: now, Actor: "attachbot", Action: "submitted", Detail: "benchmark", TrackingID: "BENCH"}}
		if err := sb.app.Store().CreateRequest(ctx, r, nil); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sb.app.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := sb.app.Close(context.Background()); err != nil {
			tb.Error(err)
		}
	})
	return sb
}

// sweep makes every request due again (the backoff never exceeds MaxPoll) and runs one sweep.
func (sb *sweepBench) sweep(tb testing.TB) {
	tb.Helper()
	sb.clock.Advance(statusMaxPoll)
	if err := sb.app.Bot().Sweep(context.Background()); err != nil {
		tb.Fatalf("sweep: %v", err)
	}
}

// BenchmarkSweep measures one sweep over 10,000 requests in provisioning, each of which is due,
// against the simulated Webex answering every call after a latency: the wall time per sweep
// (ns/op), the Webex calls per sweep, the process's CPU time per sweep (cpu-ms/sweep, which
// a loaded machine disturbs less than the wall time), and (with -benchmem) the memory
// allocated per sweep; the CPU and the memory are the bot's, the adapter's and the in-process
// simulator's together.
func BenchmarkSweep(b *testing.B) {
	const requests = 10_000
	for _, latency := range []time.Duration{20 * time.Millisecond, 0} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			sb := newSweepBench(b, requests)
			if latency > 0 {
				sb.sim.Inject(webextest.Fault{Latency: latency})
			}
			calls, polls, conns := len(sb.sim.Calls()), len(sb.sim.CallsTo(http.MethodGet, "/v1/wholesale/customers/*")), sb.conns.Load()
			sweeps, cpu := 0, processCPU()
			for b.Loop() {
				sb.sweep(b)
				sweeps++
			}
			cpu = processCPU() - cpu
			gotPolls := len(sb.sim.CallsTo(http.MethodGet, "/v1/wholesale/customers/*")) - polls
			if gotPolls != sweeps*requests {
				b.Fatalf("%d sweeps polled %d times, want %d", sweeps, gotPolls, sweeps*requests)
			}
			b.ReportMetric(float64(len(sb.sim.Calls())-calls)/float64(sweeps), "webex-calls/sweep")
			b.ReportMetric(float64(gotPolls)/b.Elapsed().Seconds(), "polls/s")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(sweeps), "cpu-ms/sweep")
			b.ReportMetric(float64(sb.conns.Load()-conns)/float64(sweeps), "new-conns/sweep")
		})
	}
}

func TestSweepBenchPollsEachRequestOnce(t *testing.T) {
	const n = 50
	sb := newSweepBench(t, n)
	sb.sweep(t)
	sb.sweep(t)

	for _, id := range sb.customers {
		if got := len(sb.sim.CallsTo(http.MethodGet, "/v1/wholesale/customers/"+id)); got != 2 {
			t.Errorf("customer %s was polled %d times in two sweeps, want 2", id, got)
		}
	}
	rs, err := sb.app.Store().Requests(t.Context(), bot.RequestFilter{States: []bot.State{bot.StateProvisioning}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != n {
		t.Fatalf("%d requests in provisioning, want %d", len(rs), n)
	}
	for _, r := range rs {
		if want := sb.clock.Now().Add(4 * statusFirstPoll); !r.NextPoll.Equal(want) || len(r.Audit) != 1 {
			t.Errorf("request %s: next poll %s, %d audit entries; want %s (the backoff doubled twice) and 1", r.ID, r.NextPoll, len(r.Audit), want)
		}
	}
	out, err := sb.app.Store().Outbox(t.Context())
	if err != nil || len(out) != 0 {
		t.Errorf("outbox = %v, %v; want empty (an unchanged status is not told)", out, err)
	}
}

// TestSweepPollsBeyondOneClaim: a sweep polls every due request even when they are more than
// one run of the polls claims at once (1,000), by following a full run with another.
func TestSweepPollsBeyondOneClaim(t *testing.T) {
	webhookOnly(t, "the sweep polls the same over both transports")
	const n = 1_001
	sb := newSweepBench(t, n)
	sb.sweep(t)
	if got := len(sb.sim.CallsTo(http.MethodGet, "/v1/wholesale/customers/*")); got != n {
		t.Errorf("one sweep polled %d times, want %d", got, n)
	}
}
