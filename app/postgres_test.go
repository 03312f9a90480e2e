package app_test

import (
	"net/http"
	"testing"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/store"
	"attachbot/store/postgres"
	"attachbot/webex/webextest"
)

// onPostgres returns harness options whose attachbot keeps its state in a new PostgreSQL
// database (DATABASE_URL) instead of the bbolt file, and that database's URL.
func onPostgres(t *testing.T, opts apptest.Options) (apptest.Options, string) {
	t.Helper()
	url := pg.Database(t)
	configure := opts.Configure
	opts.Configure = func(c *app.Config) {
		c.Database.URL, c.Database.MaxConns = url, 8
		if configure != nil {
			configure(c)
		}
	}
	return opts, url
}

// storeCloser is a store that can be closed: both the bbolt and the PostgreSQL store.
type storeCloser interface {
	bot.Store
	Close() error
}

// openStoreOf opens the store of cfg as the next process would: PostgreSQL at
// cfg.Database.URL when it is set, else the bbolt file at cfg.DBPath.
func openStoreOf(t *testing.T, cfg app.Config) storeCloser {
	t.Helper()
	var (
		db  storeCloser
		err error
	)
	if cfg.Database.URL != "" {
		db, err = postgres.Open(t.Context(), cfg.Database.URL, postgres.Options{})
	} else {
		db, err = store.Open(cfg.DBPath, store.Options{})
	}
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	return db
}

// healthz returns the status of GET /healthz.
func healthz(t *testing.T, h *harness) int {
	t.Helper()
	resp, err := http.Get(h.BotURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPostgresStoreAnswers runs a command end to end with the state in PostgreSQL.
func TestPostgresStoreAnswers(t *testing.T) {
	opts, _ := onPostgres(t, apptest.Options{})
	h := newHarness(t, opts)
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	if replies := h.RepliesTo(cmd); len(replies) != 1 {
		t.Fatalf("got %d replies to help, want 1", len(replies))
	}
	if _, err := h.App().Store().Requests(t.Context(), bot.RequestFilter{}); err != nil {
		t.Errorf("the store does not read: %v", err)
	}
}

// TestPostgresDownAnswers503 cuts the database under a running attachbot: /healthz says 503
// and a webhook is refused with 503, so that Webex delivers it again; once the database is
// back, /healthz says 200 and the redelivered event is answered, once.
func TestPostgresDownAnswers503(t *testing.T) {
	webhookOnly(t, "the answer to a webhook delivery")
	opts, url := onPostgres(t, apptest.Options{})
	h := newHarness(t, opts)
	if got := healthz(t, h); got != http.StatusOK {
		t.Fatalf("GET /healthz = %d, want 200", got)
	}
	pg.Cut(t, url)
	if got := healthz(t, h); got != http.StatusServiceUnavailable {
		t.Errorf("GET /healthz with the database down = %d, want 503", got)
	}
	if _, err := h.Sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID, "help"); err == nil {
		t.Error("the delivery was acknowledged with the database down")
	}
	refused, ok := h.Sim.LastDelivery()
	if !ok || refused.Status != http.StatusServiceUnavailable {
		t.Fatalf("the delivery with the database down was answered %d, want 503", refused.Status)
	}
	pg.Restore(t, url)
	if got := healthz(t, h); got != http.StatusOK {
		t.Errorf("GET /healthz once the database is back = %d, want 200", got)
	}
	again, err := h.Sim.Redeliver(t.Context(), refused)
	if err != nil || again.Status != http.StatusOK {
		t.Fatalf("the redelivery once the database is back = %d, %v; want 200", again.Status, err)
	}
	h.Settle()
	if got := len(h.BotMessages(webextest.PartnerSpaceID)); got != 1 {
		t.Errorf("the bot posted %d messages, want 1 (the answer to the redelivered help)", got)
	}
}
