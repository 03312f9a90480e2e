// Package handlers is attachbot's HTTP layer: the routes (the signed Webex webhook, the
// health check and the metrics) and the webhook intake, which checks a delivery's signature and hands the
// event to the bot's inbox. Commands and card submissions are dispatched by the bot itself.
package handlers

import (
	"context"
	"encoding/json"
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

// Transport reports the state of the websocket transport, for /healthz.
type Transport interface {
	// Health returns the state to show (it is encoded as JSON) and whether it is healthy.
	Health() (state any, healthy bool)
}

// DeliveryCounter counts webhook deliveries as they are answered: outcome is "accepted"
// (reason "acknowledged": stored, or a redelivery or an event the bot ignores) or "refused"
// (reason body_too_large, unreadable_body, bad_signature, not_json, missing_fields or
// store_failed). *metrics.Metrics is one.
type DeliveryCounter interface {
	Delivery(outcome, reason string)
}

// Observability is what the routes report to operators through. Its zero value reports
// nothing.
type Observability struct {
	// Deliveries counts webhook deliveries; nil counts none.
	Deliveries DeliveryCounter
	// Metrics is served on GET /metrics; nil serves no such route.
	Metrics http.Handler
}

// New returns attachbot's HTTP handler. Every route is here. With an empty secret there is no
// /webhook route (it answers 404): the events come over the websocket, reported by
// transport; transport is nil when the events come as webhooks.
func New(inbox Inbox, secret string, health Pinger, transport Transport, obs Observability, logger *slog.Logger) http.Handler {
	if obs.Deliveries == nil {
		obs.Deliveries = uncounted{}
	}
	r := mux.NewRouter()
	if secret != "" {
		r.Handle("/webhook", handleWebhook(inbox, []byte(secret), obs.Deliveries, logger)).Methods(http.MethodPost)
	}
	r.Handle("/healthz", handleHealthz(health, transport, logger)).Methods(http.MethodGet, http.MethodHead)
	if obs.Metrics != nil {
		r.Handle("/metrics", obs.Metrics).Methods(http.MethodGet)
	}
	return r
}

// uncounted is the DeliveryCounter of routes built without one.
type uncounted struct{}

func (uncounted) Delivery(string, string) {}

// healthReport is the body of /healthz.
type healthReport struct {
	// Store is "ok" when the store can be written, "unavailable" otherwise.
	Store string `json:"store"`
	// Websocket is the transport's state, in websocket mode.
	Websocket any `json:"websocket,omitempty"`
}

// handleHealthz answers 200 while the server is up, the store can be written and the
// websocket transport (when there is one) is healthy; 503 otherwise. The body is a
// healthReport.
func handleHealthz(health Pinger, transport Transport, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report, status := healthReport{Store: "ok"}, http.StatusOK
		if err := health.Ping(r.Context()); err != nil {
			logger.Error("health check: store down", "err", err)
			report.Store, status = "unavailable", http.StatusServiceUnavailable
		}
		if transport != nil {
			state, healthy := transport.Health()
			report.Websocket = state
			if !healthy {
				status = http.StatusServiceUnavailable
			}
		}
		body, err := json.Marshal(report)
		if err != nil {
			logger.Error("health check: encode the report", "err", err)
			http.Error(w, "cannot encode the health report", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(append(body, '\n'))
	})
}
