// Package bottest has test doubles for unit tests of the bot: a fake clock, fakes of
// bot.Messenger and bot.Partner that keep everything in memory, and the real store in a
// temporary directory (bot.Store is not faked). For Webex over HTTP, see webex/webextest.
package bottest

import (
	"sync"
	"time"

	"attachbot/bot"
)

// Clock is a fake bot.Clock. Time moves only when a test calls Advance, or, in auto mode,
// when something waits: After(d) then moves the clock d forward and fires at once, so retry
// delays and Retry-After waits take no real time. Without auto, a wait holds until Advance
// moves the clock past it; Started tells the test when the code under test begins one.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	waiters []waiter
	waits   []time.Duration
	started chan time.Duration
}

// startedBuffer is how many unread waits Started holds.
const startedBuffer = 100

type waiter struct {
	at time.Time
	c  chan time.Time
}

var _ bot.Clock = (*Clock)(nil)

// NewClock returns a clock at start. With auto, waits take no time (see Clock).
func NewClock(start time.Time, auto bool) *Clock {
	return &Clock{now: start, auto: auto, started: make(chan time.Duration, startedBuffer)}
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that fires once the clock has moved d forward.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waits = append(c.waits, d)
	select {
	case c.started <- d:
	default:
	}
	if c.auto {
		if d > 0 {
			c.now = c.now.Add(d)
		}
		ch <- c.now
		c.fireLocked()
		return ch
	}
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), c: ch})
	return ch
}

// Advance moves the clock d forward and fires the waits that came due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fireLocked()
}

func (c *Clock) fireLocked() {
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.c <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// Waits returns every duration After was called with, in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// Started returns a channel that receives d whenever After(d) is called, so a test can wait,
// without polling, until the code under test waits. It holds the first 100 unread waits and
// drops later ones; Waits has them all.
func (c *Clock) Started() <-chan time.Duration {
	return c.started
}
