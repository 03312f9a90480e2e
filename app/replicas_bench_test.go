package app_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"attachbot/app"
)

// The benchmarks' PostgreSQL sub-benchmarks: one attachbot, or several replicas sharing one
// database, as in production with DATABASE_URL (docs/replicas.md has the figures).

// benchReplicaScan is how often the replicas of a benchmark scan the store for the work
// another left them (a space's messages it was refused while another sent to that space).
const benchReplicaScan = time.Second

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
// at webexURL.
func newReplicasBench(tb testing.TB, webexURL, url string, n, workers int) []*app.App {
	tb.Helper()
	apps := make([]*app.App, n)
	for i := range apps {
		cfg := benchConfig(tb, webexURL)
		cfg.Database.URL, cfg.Database.MaxConns = url, int32(2*workers)
		a := newBenchApp(tb, cfg, app.Wiring{Workers: workers, Owner: fmt.Sprintf("replica-%d", i), ScanEvery: benchReplicaScan})
		apps[i] = a
	}
	return apps
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
