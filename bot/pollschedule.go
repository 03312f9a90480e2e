package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// When Webex is asked how a request is doing. Cisco's reference app for the wholesale API asks
// every 5 seconds for 2 minutes after a submission (docs/polling.md): most provisionings end
// within that, and the partner waits for the answer. So a request is polled every FirstPoll
// during a fast window after its submission and after each status change; after the window, an
// unchanged status doubles the wait up to MaxPoll. A poll that failed for a reason that may pass
// is retried on the short schedule, not the doubled one, and never before a Retry-After.

// DefaultFirstPoll is Config.FirstPoll's default: the reference app's interval.
const DefaultFirstPoll = 5 * time.Second

// fastPollWindow is how long after a submission or a status change a request is polled every
// FirstPoll: the reference app's 2 minute timeout.
const fastPollWindow = 2 * time.Minute

// shortRetries is how many failed polls in a row are retried after FirstPoll; from the next
// one on, the wait doubles up to MaxPoll, so that a long Webex outage is not asked about every
// few seconds for each request.
const shortRetries = 3

// minPollGap is the least time between two runs of the poll loop, so that requests falling due
// one after another are polled together.
const minPollGap = time.Second

// postpone schedules the next poll of a request whose status did not change: after FirstPoll
// within the fast window, else after its interval doubled, up to MaxPoll.
func (b *Bot) postpone(r *Request, now time.Time) {
	if now.Before(pollWindowStart(*r).Add(fastPollWindow)) {
		r.PollInterval = b.cfg.FirstPoll
	} else {
		r.PollInterval = min(max(r.PollInterval*2, b.cfg.FirstPoll), b.cfg.MaxPoll)
	}
	r.NextPoll = now.Add(r.PollInterval)
}

// retryAfterFailure schedules the next poll after a failed one. A failure that may pass (a
// 5xx, a 429, a 423, a timeout or a transport error) is retried after FirstPoll, or after the
// Retry-After Webex sent when that is longer, and the request's interval stays as it was;
// after shortRetries such failures in a row the wait doubles, up to MaxPoll. Any other failure
// (a 403 or 404 for a customer deleted in Partner Hub, a 401) does not go away by asking
// again soon: the interval doubles, up to MaxPoll.
func (b *Bot) retryAfterFailure(r *Request, now time.Time, err error) {
	if !isTemporary(err) {
		r.PollInterval = min(max(r.PollInterval*2, b.cfg.FirstPoll), b.cfg.MaxPoll)
		r.NextPoll = now.Add(r.PollInterval)
		return
	}
	r.PollFailures++
	wait := b.cfg.FirstPoll
	for i := shortRetries; i < r.PollFailures && wait < b.cfg.MaxPoll; i++ {
		wait *= 2
	}
	wait = min(wait, b.cfg.MaxPoll)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > wait {
		wait = apiErr.RetryAfter
	}
	r.NextPoll = now.Add(wait)
}

// pollWindowStart is when a request's fast window began: its submission or its last status
// change, whichever came later.
func pollWindowStart(r Request) time.Time {
	start := r.Submitted
	for i := len(r.Audit) - 1; i >= 0; i-- {
		if a := r.Audit[i]; a.Actor == "webex" && strings.HasPrefix(a.Action, auditStatusPrefix) {
			if a.At.After(start) {
				start = a.At
			}
			break
		}
	}
	return start
}

// runPolls is the poll loop: when the earliest next poll falls due, on the bot's clock, it
// starts a run that polls the requests that are due, until ctx ends. A run does not hold up
// the loop: a request whose Webex call is slow (up to the client's retries and timeouts) does
// not delay the others' polls, and a request is polled by one run at a time, of one replica
// (the store's claims, ClaimPolls). The loop also looks at the store at least every FirstPoll
// and when woken (a submission, a finished run, Settle), so that a request whose first poll
// comes before the one it waits for is not missed. It waits for its runs before it returns; a
// run under way counts as work in flight for Settle.
func (b *Bot) runPolls(ctx context.Context) {
	var runs sync.WaitGroup
	defer runs.Wait()
	for {
		next, found, err := b.nextPoll(ctx, true)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Error("read the requests to poll", "err", err)
		}
		now := b.clock.Now()
		if found && !next.After(now) {
			// Counted before it starts, so that Settle waits for a run that is about to poll.
			b.addInflight(1)
			runs.Go(func() {
				if _, err := b.pollRequests(ctx); err != nil && ctx.Err() == nil {
					b.log.Error("poll", "err", err)
				}
				b.addInflight(-1)
				b.progressed()
				wake(b.wakePoll)
			})
			next = now.Add(minPollGap)
		}
		if limit := b.clock.Now().Add(b.cfg.FirstPoll); !found || next.After(limit) {
			next = limit
		}
		select {
		case <-ctx.Done():
			return
		case <-b.wakePoll:
		case <-b.timerFor(next):
		}
	}
}

// nextPoll returns the earliest next poll of the requests being polled (but for those this
// process is polling, with skipHeld), and whether there is any such request. It reads the
// store's index of the polls, not the requests.
func (b *Bot) nextPoll(ctx context.Context, skipHeld bool) (time.Time, bool, error) {
	skip := func(string) bool { return false }
	if skipHeld {
		skip = func(id string) bool { return b.keeper.holds(claimPoll, id) }
	}
	next, found, err := b.db.FirstPoll(ctx, skip)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read the next poll: %w", err)
	}
	return next, found, nil
}

// pollLoopBehind reports whether the poll loop runs and a poll is due, and then wakes the loop:
// Settle waits until it has caught up.
func (b *Bot) pollLoopBehind(ctx context.Context) (bool, error) {
	if !b.polling.Load() {
		return false, nil
	}
	next, found, err := b.nextPoll(ctx, false)
	if err != nil {
		return false, err
	}
	if !found || next.After(b.clock.Now()) {
		return false, nil
	}
	wake(b.wakePoll)
	return true, nil
}
