package apptest

import (
	"context"
	"net/http"
	"strings"

	"attachbot/app"
)

// replica is one more attachbot sharing the harness's store (a database all replicas reach).
type replica struct {
	app     *app.App
	owner   string
	handler http.Handler
	stop    context.CancelFunc
	killed  bool
}

// AddReplica builds and starts one more attachbot on the harness's configuration (its store
// must be one several processes share: PostgreSQL), as owner, connecting to the database
// as application owner. From then on the requests to BotURL go to the running attachbots in
// turn (round-robin), as a load balancer would send Webex's deliveries. The replica calls
// Webex with client (nil: the harness's). It returns the replica's index for KillReplica
// (the first attachbot, StartApp's, is not one).
func (h *Harness) AddReplica(owner string, client *http.Client) int {
	h.T.Helper()
	cfg := h.Cfg
	if cfg.Database.URL == "" {
		h.T.Fatal("AddReplica: replicas share a database; configure DATABASE_URL")
	}
	cfg.Database.URL = withApplicationName(cfg.Database.URL, owner)
	if client == nil {
		client = h.opts.HTTPClient
	}
	a := h.build(cfg, owner, client)
	ctx, stop := context.WithCancel(h.T.Context())
	if err := a.Start(ctx); err != nil {
		stop()
		h.T.Fatalf("start replica %s: %v", owner, err)
	}
	r := &replica{app: a, owner: owner, handler: a.Handler(), stop: stop}
	h.mu.Lock()
	h.replicas = append(h.replicas, r)
	i := len(h.replicas) - 1
	h.mu.Unlock()
	h.T.Cleanup(func() {
		h.mu.Lock()
		killed := r.killed
		r.handler = nil
		h.mu.Unlock()
		if !killed {
			if err := a.Close(context.Background()); err != nil {
				h.T.Errorf("close replica %s: %v", owner, err)
			}
		}
	})
	return i
}

// Replica returns replica i's attachbot.
func (h *Harness) Replica(i int) *app.App {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.replicas[i].app
}

// KillReplica kills replica i as a crash would: it gets no more requests; cut, which must
// end its connections to the database (the test's means, such as closing its pool and
// pg_terminate_backend on its application name), is called first, so that nothing it does
// after reaches the store; then its context ends and its loops stop without any cleanup
// (app.App.Halt, not Close: its claims and leases stay in the store until they run out).
// It returns the replica's owner.
func (h *Harness) KillReplica(i int, cut func(applicationName string)) string {
	h.T.Helper()
	h.mu.Lock()
	r := h.replicas[i]
	r.killed, r.handler = true, nil
	h.mu.Unlock()
	cut(r.owner)
	r.stop()
	if err := r.app.Halt(h.T.Context()); err != nil {
		h.T.Errorf("halt replica %s: %v", r.owner, err)
	}
	return r.owner
}

// withApplicationName returns the PostgreSQL URL url with its application_name set to name.
func withApplicationName(url, name string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "application_name=" + name
}

// nextHandler returns the handler of the next running attachbot in turn, or nil when none
// runs.
func (h *Harness) nextHandler() http.Handler {
	h.mu.Lock()
	defer h.mu.Unlock()
	var handlers []http.Handler
	if h.handler != nil {
		handlers = append(handlers, h.handler)
	}
	for _, r := range h.replicas {
		if r.handler != nil {
			handlers = append(handlers, r.handler)
		}
	}
	if len(handlers) == 0 {
		return nil
	}
	h.turn++
	return handlers[h.turn%len(handlers)]
}

// running returns the attachbots running now: StartApp's and the live replicas.
func (h *Harness) running() []*app.App {
	h.mu.Lock()
	defer h.mu.Unlock()
	var apps []*app.App
	if h.handler != nil {
		apps = append(apps, h.app)
	}
	for _, r := range h.replicas {
		if r.handler != nil {
			apps = append(apps, r.app)
		}
	}
	return apps
}

// replicasDone reports whether, with replicas, the shared store's inbox and outbox are empty;
// without, it reports true (the bot's memory is the whole of the work).
func (h *Harness) replicasDone(ctx context.Context) bool {
	h.T.Helper()
	h.mu.Lock()
	replicas := len(h.replicas)
	h.mu.Unlock()
	apps := h.running()
	if replicas == 0 || len(apps) == 0 {
		return true
	}
	db := apps[0].Store()
	evs, err := db.Events(ctx)
	if err != nil {
		h.T.Fatalf("read the shared inbox: %v", err)
	}
	out, err := db.Outbox(ctx)
	if err != nil {
		h.T.Fatalf("read the shared outbox: %v", err)
	}
	return len(evs) == 0 && len(out) == 0
}
