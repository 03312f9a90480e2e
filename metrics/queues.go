package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"attachbot/bot"
)

// QueueSource reports how much work waits; *bot.Bot is one.
type QueueSource interface {
	// QueueStats reports the inbox and the outbox, from memory.
	QueueStats() bot.QueueStats
	// DuePolls counts the requests whose poll is due and says since when the oldest is.
	DuePolls(ctx context.Context) (int, time.Time, error)
}

// queueStatsTimeout bounds one scrape's reading of the queues.
const queueStatsTimeout = 5 * time.Second

// queueCollector reads the queues at scrape time.
type queueCollector struct {
	source QueueSource
	now    func() time.Time
	depth  *prometheus.Desc
	oldest *prometheus.Desc
}

// RegisterQueues registers, with reg, the depth and the age of the oldest entry of the inbox,
// the outbox and the polls due, read from source at every scrape; now is the bot's clock.
func RegisterQueues(reg prometheus.Registerer, source QueueSource, now func() time.Time) error {
	return reg.Register(&queueCollector{
		source: source, now: now,
		depth: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "depth"),
			"Entries waiting, by queue: inbox (events), outbox (messages), polls_due (requests whose status poll is due).",
			[]string{"queue"}, nil),
		oldest: prometheus.NewDesc(prometheus.BuildFQName(namespace, "queue", "oldest_age_seconds"),
			"Age of the oldest entry, by queue: since an event was received, a message enqueued, a poll came due.",
			[]string{"queue"}, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
}

// Collect implements prometheus.Collector. When the queues cannot be read, the scrape says so
// instead of reporting empty queues.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), queueStatsTimeout)
	defer cancel()
	s := c.source.QueueStats()
	due, dueSince, err := c.source.DuePolls(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	now := c.now()
	for _, q := range []struct {
		name   string
		depth  int
		oldest time.Time
	}{
		{"inbox", s.InboxDepth, s.InboxOldest},
		{"outbox", s.OutboxDepth, s.OutboxOldest},
		{"polls_due", due, dueSince},
	} {
		age := 0.0
		if !q.oldest.IsZero() && q.oldest.Before(now) {
			age = now.Sub(q.oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(q.depth), q.name)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, q.name)
	}
}
