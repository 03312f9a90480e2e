// The rate limit: Webex answers 429 Too Many Requests, with Retry-After, to a token that makes
// more calls than its limit allows.

package webextest

import (
	"net/http"
	"strconv"
	"time"
)

// RateLimit makes the Sim answer 429 to the calls of a token beyond PerSecond in any one
// second (a sliding window over the calls it answered), with Webex's error shape and a
// Retry-After header. Webex does not publish its limits; the benchmarks choose them.
type RateLimit struct {
	// PerSecond is how many calls of one identity (Call.Identity: each token apart) the Sim
	// answers in any second; 0 turns the limit off.
	PerSecond int
	// RetryAfter is the Retry-After of a 429, in seconds (default 1).
	RetryAfter int
}

// RateStats counts what the rate limit did.
type RateStats struct {
	// Refused counts the calls answered 429.
	Refused int
	// Early counts the calls that came more than earlyGrace after a 429 had been answered to
	// their identity and before its Retry-After had passed: a client that ignores
	// Retry-After. They are refused too. Calls already on their way when the 429 was
	// answered (sent before the client could read it) are not early.
	Early int
}

// earlyGrace is how long after a 429 is answered a call of its identity still counts as one
// sent before the client could read it (the answer's transit, the calls already sent).
const earlyGrace = 50 * time.Millisecond

// rateState is the rate limit's memory: the calls answered in the last second, and the
// Retry-After each identity was given, per identity.
type rateState struct {
	limit   RateLimit
	calls   map[string][]time.Time
	blocked map[string]rateBlock
	stats   RateStats
}

// rateBlock is a 429 answered to an identity: when it was answered, and until when it asked
// the identity to wait.
type rateBlock struct {
	answered, until time.Time
}

// LimitRate sets the rate limit (a zero RateLimit removes it) and forgets the calls counted.
func (s *Sim) LimitRate(l RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.RetryAfter <= 0 {
		l.RetryAfter = 1
	}
	s.rate = rateState{limit: l, calls: map[string][]time.Time{}, blocked: map[string]rateBlock{}}
	s.changedLocked()
}

// RateStats returns what the rate limit did so far.
func (s *Sim) RateStats() RateStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rate.stats
}

// rateLimitedLocked reports whether a call of identity arriving at now is refused by the rate
// limit, and counts it: refused when its identity was asked to wait past now, or made
// PerSecond calls in the second before now.
func (s *Sim) rateLimitedLocked(identity string, now time.Time) bool {
	r := &s.rate
	if r.limit.PerSecond <= 0 || identity == "" {
		return false
	}
	if b, ok := r.blocked[identity]; ok && now.Before(b.until) {
		r.stats.Refused++
		if !now.Before(b.answered.Add(earlyGrace)) {
			r.stats.Early++
		}
		return true
	}
	recent := r.calls[identity]
	for len(recent) > 0 && !recent[0].After(now.Add(-time.Second)) {
		recent = recent[1:]
	}
	if len(recent) >= r.limit.PerSecond {
		r.calls[identity] = recent
		r.stats.Refused++
		return true
	}
	r.calls[identity] = append(recent, now)
	return false
}

// rateReplyLocked is the 429 of the rate limit, answered at now to identity: Webex's error
// shape with Retry-After, which the identity is then held to.
func (s *Sim) rateReplyLocked(identity string, now time.Time) reply {
	wait := time.Duration(s.rate.limit.RetryAfter) * time.Second
	if b := s.rate.blocked[identity]; !b.until.After(now) {
		s.rate.blocked[identity] = rateBlock{answered: now, until: now.Add(wait)}
	}
	rep := errReply(&apiError{status: http.StatusTooManyRequests, message: "Too many requests have been sent in a given amount of time. Please retry after the time given in the Retry-After header."})
	rep.header = http.Header{"Retry-After": {strconv.Itoa(s.rate.limit.RetryAfter)}}
	return rep
}
