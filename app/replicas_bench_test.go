package app_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"attachbot/app"
)

// The benchmarks' PostgreSQL sub-benchmarks: one attachbot, or several replicas sharing one
// database, as in production with DATABASE_URL (docs/replicas.md has the figures).

// benchReplicaScan is how often the replicas of a benchmark scan the store for the work
// another left them (a space's messages it was refused while another sent to that space);
// production scans every 10 s (-bench-replica-scan=10s measures with that).
var benchReplicaScan = flag.Duration("bench-replica-scan", time.Second, "how often the replicas of the PostgreSQL benchmarks scan the store for work no one holds")

// drainCPUProfile, when set, makes each drain write a CPU profile of its timed part (the
// attachbots' work only, not the setup) to this path with the sub-benchmark's name
// appended: the test binary's own -test.cpuprofile is restarted by every run of TestMain.
var drainCPUProfile = flag.String("drain-cpuprofile", "", "write a CPU profile of each drain's timed part to `file`.<sub-benchmark>")

// The latency-bound drain (see benchmarkDrainPostgres): Webex answers each call after
// slowWebexLatency, and each replica has slowWorkers event workers.
const (
	slowWebexLatency = 200 * time.Millisecond
	slowWorkers      = 4
)

// benchmarkDrainPostgres runs BenchmarkDrain's PostgreSQL sub-benchmarks, each with one
// attachbot and with three replicas sharing the database:
//   - replicas=N/events=E: the drain of BenchmarkDrain (E events, Webex answering after
//     20 ms, 16 workers per replica). On two cores it is bound by CPU, not by Webex;
//   - latency=200ms/replicas=N/events=E: a drain that Webex's latency bounds, as the goal of
//     three replicas draining at twice one's rate supposes: Webex answers after 200 ms, and
//     each replica has 4 workers, so that one replica's 20 events/s and three replicas' 60
//     need a fraction of the machine's CPU; E is 600 events (3 per space), 30 s of work for
//     one replica, so that the start (a second or so) is a small part of it.
func benchmarkDrainPostgres(b *testing.B, events int) {
	slowEvents := 600
	if testing.Short() {
		slowEvents = 200
	}
	cases := []struct {
		name string
		c    drainCase
	}{
		{"", drainCase{events: events, latency: webexLatency, workers: benchWorkers}},
		{"latency=" + slowWebexLatency.String() + "/", drainCase{events: slowEvents, latency: slowWebexLatency, workers: slowWorkers}},
	}
	for _, tc := range cases {
		for _, replicas := range []int{1, 3} {
			c := tc.c
			c.postgres = true
			b.Run(fmt.Sprintf("postgres/%sreplicas=%d/events=%d", tc.name, replicas, c.events), func(b *testing.B) {
				for range b.N {
					drainOnce(b, c, func(webexURL string) ([]*app.App, []*replicaCalls) {
						return newReplicasBench(b, webexURL, benchDatabase(b), replicas, c.workers)
					})
				}
			})
		}
	}
}

// benchDatabase returns the URL of a new database on the package's throwaway PostgreSQL, or
// skips the benchmark when PostgreSQL is not installed.
func benchDatabase(b *testing.B) string {
	b.Helper()
	if !pg.Available() {
		b.Skip("PostgreSQL is not installed (apt-get install postgresql)")
	}
	return pg.Database(b)
}

// newReplicasBench builds (but does not start) n attachbots as serve wires them, sharing the
// PostgreSQL database at url, each with workers event workers, against the simulated Webex
// at webexURL, and returns them with the counters of each one's Webex calls.
func newReplicasBench(tb testing.TB, webexURL, url string, n, workers int) ([]*app.App, []*replicaCalls) {
	tb.Helper()
	apps := make([]*app.App, n)
	counters := make([]*replicaCalls, n)
	for i := range apps {
		cfg := benchConfig(tb, webexURL)
		cfg.Database.URL, cfg.Database.MaxConns = url, int32(2*workers)
		counters[i] = newReplicaCalls()
		a := newBenchApp(tb, cfg, app.Wiring{Workers: workers, Owner: fmt.Sprintf("replica-%d", i), ScanEvery: *benchReplicaScan,
			HTTPClient: &http.Client{Transport: counters[i]}})
		apps[i] = a
	}
	return apps, counters
}

// replicaCalls is an HTTP transport that counts one replica's Webex calls: the messages it
// read (GET /v1/messages/{id}: one per event of the drain it processed) and those it sent
// (POST /v1/messages).
type replicaCalls struct {
	base          http.RoundTripper
	events, sends atomic.Int64
}

// newReplicaCalls returns a counter on a transport like the Webex adapter's own (a clone of
// http.DefaultTransport keeping 16 idle connections per host), so that counting changes
// nothing else.
func newReplicaCalls() *replicaCalls {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return &replicaCalls{base: t}
}

// RoundTrip counts r and sends it.
func (c *replicaCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/messages/"):
		c.events.Add(1)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/messages":
		c.sends.Add(1)
	}
	return c.base.RoundTrip(r)
}

// reportShares reports how the events and the sends were shared out among the replicas:
// the fewest and the most events one processed and messages one sent. It fails the
// benchmark unless every event was read once (no event processed twice).
func reportShares(b *testing.B, counters []*replicaCalls, events int) {
	b.Helper()
	var processed, sent []int64
	for _, c := range counters {
		processed, sent = append(processed, c.events.Load()), append(sent, c.sends.Load())
	}
	var total int64
	for _, n := range processed {
		total += n
	}
	if total != int64(events) {
		b.Fatalf("the replicas read %d messages (%v), want each of the %d events' once", total, processed, events)
	}
	if len(counters) > 1 {
		b.Logf("events processed per replica: %v; messages sent per replica: %v", processed, sent)
	}
	b.ReportMetric(float64(slices.Min(processed)), "min-replica-events")
	b.ReportMetric(float64(slices.Max(processed)), "max-replica-events")
	b.ReportMetric(float64(slices.Min(sent)), "min-replica-sends")
	b.ReportMetric(float64(slices.Max(sent)), "max-replica-sends")
}

// cpuWatch measures the CPU time used from its start: this process's (attachbot's, and the
// benchmark's own small part), and the package PostgreSQL's when the drain uses it.
type cpuWatch struct {
	postgres      bool
	self, pgStart time.Duration
	profile       *os.File
}

// cpuUsed is the CPU time each process used during a drain.
type cpuUsed struct {
	attachbot, postgres, webex time.Duration
}

// startCPUWatch starts measuring, and profiling when -drain-cpuprofile is set.
func startCPUWatch(b *testing.B, postgres bool) *cpuWatch {
	b.Helper()
	w := &cpuWatch{postgres: postgres}
	if *drainCPUProfile != "" {
		f, err := os.Create(*drainCPUProfile + "." + strings.NewReplacer("/", "_", "=", "-").Replace(b.Name()))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			b.Fatalf("profile the drain (with -drain-cpuprofile, leave -test.cpuprofile unset): %v", err)
		}
		w.profile = f
	}
	if postgres {
		var err error
		if w.pgStart, err = pg.CPU(); err != nil {
			b.Fatal(err)
		}
	}
	w.self = processCPU()
	return w
}

// stop ends the measure (and the profile) and returns what attachbot and PostgreSQL used.
func (w *cpuWatch) stop(b *testing.B) cpuUsed {
	b.Helper()
	used := cpuUsed{attachbot: processCPU() - w.self}
	if w.postgres {
		now, err := pg.CPU()
		if err != nil {
			b.Fatal(err)
		}
		used.postgres = now - w.pgStart
	}
	if w.profile != nil {
		pprof.StopCPUProfile()
		if err := w.profile.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return used
}

// report reports the CPU time per event of each process, and how many cores they kept busy
// together on average over wall.
func (u cpuUsed) report(b *testing.B, events int, wall time.Duration) {
	perEvent := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(events) }
	b.ReportMetric(perEvent(u.attachbot), "attachbot-cpu-ms/event")
	b.ReportMetric(perEvent(u.webex), "webex-cpu-ms/event")
	if u.postgres > 0 {
		b.ReportMetric(perEvent(u.postgres), "postgres-cpu-ms/event")
	}
	b.ReportMetric((u.attachbot+u.webex+u.postgres).Seconds()/wall.Seconds(), "cores-busy")
}

// settleAllWithin waits until every attachbot of apps has settled and their store holds no
// event and no message, or fails after limit.
func settleAllWithin(tb testing.TB, apps []*app.App, limit time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		for _, a := range apps {
			if err := a.Bot().Settle(ctx); err != nil {
				tb.Fatalf("the bot did not settle within %s: %v", limit, err)
			}
		}
		if len(apps) == 1 {
			return
		}
		evs, err := apps[0].Store().Events(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		out, err := apps[0].Store().Outbox(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		if len(evs) == 0 && len(out) == 0 {
			return
		}
	}
}

// roundRobin is a load balancer: each request goes to the next handler in turn.
type roundRobin struct {
	handlers []http.Handler
	turn     atomic.Uint64
}

// ServeHTTP hands r to the next handler.
func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rr.handlers[rr.turn.Add(1)%uint64(len(rr.handlers))].ServeHTTP(w, r)
}
