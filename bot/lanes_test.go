package bot

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var laneT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// takeAll takes every item that may start at now and returns their keys.
func takeAll(q *lanes[string], now time.Time) []string {
	keys := []string{}
	for {
		_, it, ok := q.take(now)
		if !ok {
			return keys
		}
		keys = append(keys, it.key)
	}
}

// TestLanesOneAtATimePerLaneInOrder: a lane hands out its next item only once the one
// before is done, in push order, while the other lanes go on.
func TestLanesOneAtATimePerLaneInOrder(t *testing.T) {
	q := newLanes[string]()
	for _, p := range []struct {
		lane, key string
		order     uint64
	}{{"A", "a1", 1}, {"B", "b1", 2}, {"A", "a2", 3}, {"A", "a3", 4}, {"C", "c1", 5}} {
		if !q.push(p.lane, p.key, p.order, p.key, time.Time{}, laneT0) {
			t.Fatalf("push(%s) = false", p.key)
		}
	}
	if q.push("A", "a2", 3, "again", time.Time{}, laneT0) {
		t.Error("a key pushed twice was taken twice")
	}
	if diff := cmp.Diff([]string{"a1", "b1", "c1"}, takeAll(q, laneT0)); diff != "" {
		t.Errorf("first round (-want +got):\n%s", diff)
	}
	q.done("A")
	q.done("B")
	if diff := cmp.Diff([]string{"a2"}, takeAll(q, laneT0)); diff != "" {
		t.Errorf("after a1 and b1 are done (-want +got):\n%s", diff)
	}
	if depth, oldest := q.stats(); depth != 3 || !oldest.Equal(laneT0) {
		t.Errorf("stats = %d, %s; want 3 (a2, a3, c1), %s", depth, oldest, laneT0)
	}
}

// TestLanesRetryHoldsItsLaneOnly: an item put back to start later holds back the items of
// its lane until then, and no other lane.
func TestLanesRetryHoldsItsLaneOnly(t *testing.T) {
	q := newLanes[string]()
	q.push("A", "a1", 1, "try 1", time.Time{}, laneT0)
	q.push("A", "a2", 2, "", time.Time{}, laneT0)
	q.push("B", "b1", 3, "", time.Time{}, laneT0)
	takeAll(q, laneT0)
	later := laneT0.Add(time.Minute)
	q.retry("A", "try 2", later)
	q.done("B")
	if got := takeAll(q, laneT0.Add(time.Second)); len(got) != 0 {
		t.Errorf("before the retry is due, taken %v", got)
	}
	if got := q.nextDue(); !got.Equal(later) {
		t.Errorf("nextDue = %s, want %s", got, later)
	}
	_, it, ok := q.take(later)
	if !ok || it.key != "a1" || it.work != "try 2" {
		t.Errorf("at the retry's time, taken %+v, %t; want a1 as put back", it, ok)
	}
	q.done("A")
	if diff := cmp.Diff([]string{"a2"}, takeAll(q, later)); diff != "" {
		t.Errorf("after a1 (-want +got):\n%s", diff)
	}
	q.done("A")
	if depth, oldest := q.stats(); depth != 0 || !oldest.IsZero() {
		t.Errorf("stats when empty = %d, %s", depth, oldest)
	}
}

// TestLanesPushedDelayed: an item pushed with a time to start waits for it.
func TestLanesPushedDelayed(t *testing.T) {
	q := newLanes[string]()
	due := laneT0.Add(time.Hour)
	q.push("A", "a1", 1, "", due, laneT0)
	if got := takeAll(q, laneT0); len(got) != 0 {
		t.Errorf("before due, taken %v", got)
	}
	if diff := cmp.Diff([]string{"a1"}, takeAll(q, due)); diff != "" {
		t.Errorf("at due (-want +got):\n%s", diff)
	}
}

// TestLanesPushedOutOfOrder: an item pushed after items that come later in the store's
// order goes before them, but never before a head in work; a new head of a waiting lane
// starts when it may.
func TestLanesPushedOutOfOrder(t *testing.T) {
	q := newLanes[string]()
	later := laneT0.Add(time.Hour)
	q.push("A", "a5", 5, "", later, laneT0)
	q.push("A", "a3", 3, "", time.Time{}, laneT0)
	q.push("A", "a4", 4, "", time.Time{}, laneT0)
	if diff := cmp.Diff([]string{"a3"}, takeAll(q, laneT0)); diff != "" {
		t.Errorf("the new head starts at once (-want +got):\n%s", diff)
	}
	q.push("A", "a1", 1, "", time.Time{}, laneT0) // a3 is in work: a1 goes after it
	var got []string
	for {
		q.done("A")
		keys := takeAll(q, later)
		if len(keys) == 0 {
			break
		}
		got = append(got, keys...)
	}
	if diff := cmp.Diff([]string{"a1", "a4", "a5"}, got); diff != "" {
		t.Errorf("after a3 (-want +got):\n%s", diff)
	}
}
