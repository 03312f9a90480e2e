package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"attachbot/bot"
)

// TestJobsRunEachConcernOnItsOwn runs three jobs on cron's real clock, every second: one
// that hangs (a poll waiting on Webex), one that panics, and one that must go on running
// regardless, every time it is due.
func TestJobsRunEachConcernOnItsOwn(t *testing.T) {
	release := make(chan struct{})
	hung := make(chan struct{}, 1)
	panicked := make(chan struct{}, 10)
	ran := make(chan struct{}, 10)
	work := []bot.Job{
		{Name: "polls", Run: func(ctx context.Context) error {
			select {
			case hung <- struct{}{}:
			default:
			}
			<-release
			return nil
		}},
		{Name: "broken", Run: func(context.Context) error {
			panicked <- struct{}{}
			panic("a bug in one concern")
		}},
		{Name: "digests", Run: func(context.Context) error {
			ran <- struct{}{}
			return nil
		}},
	}
	logger := slog.New(slog.DiscardHandler)
	j, err := newJobs(Config{PollSchedule: "@every 1s"}, work, logger)
	if err != nil {
		t.Fatal(err)
	}
	j.start(t.Context())
	defer func() {
		close(release)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := j.stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a bound on a hang, not a wait for work
	defer cancel()
	receive := func(what string, c <-chan struct{}) {
		t.Helper()
		select {
		case <-c:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
	receive("the hanging job to start", hung)
	for range 2 {
		receive("the digests job to run while the polls hang", ran)
		receive("the panicking job to run again", panicked)
	}
}

func TestCronLoggerDropsMessagesOnceClosed(t *testing.T) {
	var buf bytes.Buffer
	l := &cronLogger{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Info("start")
	l.close()
	l.Info("stop")
	l.Error(errors.New("boom"), "panic")
	got := buf.String()
	if !strings.Contains(got, "msg=start") {
		t.Errorf("before close, cron's message was dropped: %q", got)
	}
	if strings.Contains(got, "msg=stop") || strings.Contains(got, "boom") {
		t.Errorf("after close, cron's messages still reach the log: %q", got)
	}
}
