package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"attachbot/bot"

	"github.com/robfig/cron/v3"
)

// jobs runs the bot's scheduled work on robfig/cron, in UTC: one entry per concern of the
// bot's sweep (bot.Jobs), each on POLL_SCHEDULE, so that a slow poll does not hold up the
// digests or the token refresh.
type jobs struct {
	cron    *cron.Cron
	cronLog *cronLogger
	log     *slog.Logger
	// runCtx is the jobs' own lifecycle context (cron's job functions take none): derived
	// from the app's context at start, cancelled at stop.
	runCtx context.Context
	cancel context.CancelFunc
}

// newJobs schedules the jobs; nothing runs before start.
func newJobs(cfg Config, work []bot.Job, logger *slog.Logger) (*jobs, error) {
	l := &cronLogger{log: logger}
	// SkipIfStillRunning must wrap Recover: in v3.0.1 a panic inside the other order loses
	// the skip token and the job never runs again (fixed upstream in robfig/cron commit
	// bc59245, unreleased; docs/dependencies.md).
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(l),
		cron.WithChain(cron.SkipIfStillRunning(l), cron.Recover(l)))
	j := &jobs{cron: c, cronLog: l, log: logger}
	for _, job := range work {
		if _, err := c.AddFunc(cfg.PollSchedule, j.entry(job)); err != nil {
			return nil, fmt.Errorf("POLL_SCHEDULE=%q: %w", cfg.PollSchedule, err)
		}
	}
	return j, nil
}

// start starts the schedule; the jobs run with a context derived from ctx.
func (j *jobs) start(ctx context.Context) {
	j.runCtx, j.cancel = context.WithCancel(context.WithoutCancel(ctx))
	j.cron.Start()
}

// stop stops scheduling and waits for a running job, or for ctx.
func (j *jobs) stop(ctx context.Context) error {
	if j.cancel == nil {
		return nil
	}
	j.cancel()
	select {
	case <-j.cron.Stop().Done():
		// cron's own goroutine may still log its "stop" after Stop returns: it must not
		// reach a logger whose owner has moved on (a test's log, after the test).
		j.cronLog.close()
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the running job: %w", ctx.Err())
	}
}

// entry is the cron entry of one concern: it runs the job with the jobs' context and logs
// its error. Every entry gets the same chain (SkipIfStillRunning, then Recover) from the cron.
func (j *jobs) entry(job bot.Job) func() {
	return func() {
		if err := job.Run(j.runCtx); err != nil {
			j.log.Error("sweep", "job", job.Name, "err", err)
		}
	}
}

// cronLogger adapts slog to cron.Logger. Once closed it drops cron's messages, so that
// nothing cron logs after the jobs stopped outlives the app.
type cronLogger struct {
	log    *slog.Logger
	mu     sync.Mutex
	closed bool
}

// Info logs cron's routine messages at debug level.
func (l *cronLogger) Info(msg string, keysAndValues ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.log.Debug(msg, keysAndValues...)
	}
}

// Error logs cron's errors, such as a recovered panic.
func (l *cronLogger) Error(err error, msg string, keysAndValues ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.log.Error(msg, append(keysAndValues, "err", err)...)
	}
}

// close drops every later message; one being written finishes first.
func (l *cronLogger) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}
