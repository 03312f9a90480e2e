package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TransportState is how the transport that receives Webex's events is doing, as /healthz
// shows it too.
type TransportState struct {
	// Connected is true while the transport receives events.
	Connected bool
	// Since is when Connected last changed.
	Since time.Time
	// LastEvent is when the last event was accepted (zero: none yet).
	LastEvent time.Time
	// Failures counts the failed attempts since the last successful connection.
	Failures int
}

// transportCollector reads a transport's state at scrape time.
type transportCollector struct {
	name      string
	state     func() TransportState
	connected *prometheus.Desc
	since     *prometheus.Desc
	lastEvent *prometheus.Desc
	failures  *prometheus.Desc
}

// RegisterTransport registers, with reg, the state of the named transport (such as
// "websocket"), read from state at every scrape.
func RegisterTransport(reg prometheus.Registerer, name string, state func() TransportState) error {
	desc := func(metric, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "transport", metric), help,
			nil, prometheus.Labels{"transport": name})
	}
	return reg.Register(&transportCollector{
		name: name, state: state,
		connected: desc("connected", "1 while the transport receives Webex's events, else 0."),
		since:     desc("state_since_timestamp_seconds", "When the transport last connected or disconnected (Unix time)."),
		lastEvent: desc("last_event_timestamp_seconds", "When the transport last accepted an event (Unix time; 0: none yet)."),
		failures:  desc("failures", "Failed attempts to connect since the last successful connection."),
	})
}

// Describe implements prometheus.Collector.
func (c *transportCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.connected
	ch <- c.since
	ch <- c.lastEvent
	ch <- c.failures
}

// Collect implements prometheus.Collector.
func (c *transportCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	connected := 0.0
	if s.Connected {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(c.since, prometheus.GaugeValue, unixSeconds(s.Since))
	ch <- prometheus.MustNewConstMetric(c.lastEvent, prometheus.GaugeValue, unixSeconds(s.LastEvent))
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(s.Failures))
}

// unixSeconds is t as Unix time in seconds, 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
