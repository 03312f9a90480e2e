// Package handlers is attachbot's HTTP layer: the routes (the signed Webex webhook and the
// health check) and the webhook intake, which checks a delivery's signature and hands the
// event to the bot's inbox. Commands and card submissions are dispatched by the bot itself.
package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"attachbot/bot"

	"github.com/gorilla/mux"
)

// Inbox takes verified webhook events; *bot.Bot is one.
type Inbox interface {
	Accept(ctx context.Context, ev bot.Event) error
}

// Pinger reports whether the store works, written to as well as read; *store.DB is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// New returns attachbot's HTTP handler. Every route is here.
func New(inbox Inbox, secret string, health Pinger, logger *slog.Logger) http.Handler {
	r := mux.NewRouter()
	r.Handle("/webhook", handleWebhook(inbox, []byte(secret), logger)).Methods(http.MethodPost)
	r.Handle("/healthz", handleHealthz(health, logger)).Methods(http.MethodGet, http.MethodHead)
	return r
}

// handleHealthz answers 200 while the server is up and the store can be written, 503 when
// the store cannot.
func handleHealthz(health Pinger, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := health.Ping(r.Context()); err != nil {
			logger.Error("health check: store down", "err", err)
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
}
