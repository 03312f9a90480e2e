package bottest_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot/bottest"
)

var start = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func TestClockAutoFiresAtOnce(t *testing.T) {
	c := bottest.NewClock(start, true)
	got := <-c.After(3 * time.Second)
	if want := start.Add(3 * time.Second); !got.Equal(want) {
		t.Errorf("After fired at %v, want %v", got, want)
	}
	if got, want := <-c.Started(), 3*time.Second; got != want {
		t.Errorf("Started() = %v, want %v", got, want)
	}
}

func TestClockHoldsUntilAdvanced(t *testing.T) {
	c := bottest.NewClock(start, false)
	short, long := c.After(time.Second), c.After(time.Minute)
	for _, want := range []time.Duration{time.Second, time.Minute} {
		if got := <-c.Started(); got != want {
			t.Errorf("Started() = %v, want %v", got, want)
		}
	}
	select {
	case at := <-short:
		t.Fatalf("a wait fired at %v before the clock moved", at)
	default:
	}

	c.Advance(2 * time.Second)
	if got, want := <-short, start.Add(2*time.Second); !got.Equal(want) {
		t.Errorf("the 1s wait fired at %v, want %v", got, want)
	}
	select {
	case at := <-long:
		t.Fatalf("the 1m wait fired at %v, after only 2s", at)
	default:
	}
	if diff := cmp.Diff([]time.Duration{time.Second, time.Minute}, c.Waits()); diff != "" {
		t.Errorf("Waits() (-want +got):\n%s", diff)
	}
}
