// Package metrics is attachbot's Prometheus instrumentation: it implements the bot's
// bot.Metrics, the Webex adapter's webex.Observer and the webhook's delivery counter on
// github.com/prometheus/client_golang, registers them in the registry it is given (never the
// library's global one), and serves that registry's text exposition.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"attachbot/bot"
)

// namespace prefixes every metric's name.
const namespace = "attachbot"

// Metrics holds attachbot's metrics. It is safe for concurrent use.
type Metrics struct {
	deliveries    *prometheus.CounterVec
	webexCalls    *prometheus.CounterVec
	webexSeconds  *prometheus.HistogramVec
	rateLimited   *prometheus.CounterVec
	sendSeconds   *prometheus.HistogramVec
	provisionings *prometheus.CounterVec
}

// Compile-time check that Metrics is the bot's view of it.
var _ bot.Metrics = (*Metrics)(nil)

// New creates attachbot's metrics and registers them with reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webhook_deliveries_total",
			Help: "Webhook deliveries answered, by outcome (accepted, refused) and reason.",
		}, []string{"outcome", "reason"}),
		webexCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webex_calls_total",
			Help: "Webex API attempts, by token (bot, partner), method, endpoint (path template) and HTTP status (0: no answer).",
		}, []string{"token", "method", "endpoint", "status"}),
		webexSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "webex_call_duration_seconds",
			Help:    "Duration of one Webex API attempt, by token, method and endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12), // 10 ms to 20 s
		}, []string{"token", "method", "endpoint"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webex_rate_limited_total",
			Help: "Webex 429 answers, by token, method and endpoint; each holds the whole client for its Retry-After.",
		}, []string{"token", "method", "endpoint"}),
		sendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "outbox_send_duration_seconds",
			Help:    "Duration of one outbox send (a message posted or deleted), retries and rate-limit waits included, by result (ok, error).",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14), // 10 ms to 80 s
		}, []string{"result"}),
		provisionings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "provisionings_total",
			Help: "Provisioning outcomes: submitted, rejected, outcome_unknown, and the final statuses polls find.",
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.webexCalls, m.webexSeconds, m.rateLimited, m.sendSeconds, m.provisionings} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Delivery counts a webhook delivery answered: outcome is "accepted" or "refused", reason
// says why.
func (m *Metrics) Delivery(outcome, reason string) {
	m.deliveries.WithLabelValues(outcome, reason).Inc()
}

// Provisioning implements bot.Metrics.
func (m *Metrics) Provisioning(outcome bot.ProvisioningOutcome) {
	m.provisionings.WithLabelValues(string(outcome)).Inc()
}

// MessageSent implements bot.Metrics.
func (m *Metrics) MessageSent(took time.Duration, ok bool) {
	result := "ok"
	if !ok {
		result = "error"
	}
	m.sendSeconds.WithLabelValues(result).Observe(took.Seconds())
}

// Webex returns the observer of one Webex client (a webex.Observer); token names the
// client's token in the labels ("bot" or "partner").
func (m *Metrics) Webex(token string) WebexObserver {
	return WebexObserver{m: m, token: token}
}

// WebexObserver counts one Webex client's calls; it is a webex.Observer.
type WebexObserver struct {
	m     *Metrics
	token string
}

// Call counts one attempt and observes its duration.
func (o WebexObserver) Call(method, endpoint string, status int, took time.Duration) {
	o.m.webexCalls.WithLabelValues(o.token, method, endpoint, strconv.Itoa(status)).Inc()
	o.m.webexSeconds.WithLabelValues(o.token, method, endpoint).Observe(took.Seconds())
}

// RateLimited counts one 429.
func (o WebexObserver) RateLimited(method, endpoint string, _ time.Duration) {
	o.m.rateLimited.WithLabelValues(o.token, method, endpoint).Inc()
}

// Handler serves the metrics g gathers in Prometheus's text exposition format.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
