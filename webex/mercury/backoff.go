package mercury

import (
	"math/rand/v2"
	"time"
)

// The bounds of the backoff between connection attempts: 1 s, doubling up to 4 min (the
// bounds webex_bot settled on).
const (
	MinBackoff = time.Second
	MaxBackoff = 4 * time.Minute
)

// Backoff returns the wait after the given number of consecutive failures (1, 2, …): 1 s
// doubling up to 4 min, scaled by jitter, a number in [0, 1), into the upper half of that
// range, so that many bots cut off together do not come back in step.
func Backoff(failures int, jitter float64) time.Duration {
	d := MinBackoff
	for i := 1; i < failures && d < MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, MaxBackoff)
	return d/2 + time.Duration(float64(d/2)*jitter)
}

// JitteredBackoff is Backoff with a random jitter; it is Options.Backoff by default.
func JitteredBackoff(failures int) time.Duration {
	return Backoff(failures, rand.Float64())
}
