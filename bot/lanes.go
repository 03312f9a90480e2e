package bot

import (
	"container/heap"
	"slices"
	"sync"
	"time"
)

// lanes is an in-memory queue of work split into lanes: the work of one lane is done one
// item at a time, in the order it was pushed, and lanes go on independently. The inbox has
// a lane per space (a second command waits for the first); the outbox a lane per
// destination (replies keep their order). It is an index of what the store holds: an item
// is pushed only after its commit and removed only after its outcome's commit.
//
// Each lane that holds items is in exactly one of three states: busy (its head is being
// worked on), ready (its head may start now) or delayed (its head may start at a time).
type lanes[T any] struct {
	mu      sync.Mutex
	keys    map[string]struct{} // the keys of every item, for idempotent pushes (a set: no value to hold per key)
	byID    map[string]*lane[T]
	ready   []string // lanes whose head may start, in the order they became ready
	delayed dueHeap  // lanes whose head may start at a time
}

// lane is one lane's items, oldest first.
type lane[T any] struct {
	items []laneItem[T]
	busy  bool
}

// laneItem is one piece of work: its key, its place in the store's order (Event.Seq,
// Outgoing.Seq), the work, when it may start (zero: at once) and since when it waits (for
// QueueStats). A backlog is held as a slice of these per lane, so the times are kept as
// instants (8 bytes, not time.Time's 24).
type laneItem[T any] struct {
	key   string
	order uint64
	work  T
	due   instant
	since instant
}

// instant is a time as Unix nanoseconds, 0 for the zero time; it keeps no location nor
// monotonic reading, which the lanes do not need.
type instant int64

// instantOf returns t as an instant.
func instantOf(t time.Time) instant {
	if t.IsZero() {
		return 0
	}
	return instant(t.UnixNano())
}

// time returns the instant as a time in UTC (the zero time for 0).
func (i instant) time() time.Time {
	if i == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(i)).UTC()
}

func newLanes[T any]() *lanes[T] {
	return &lanes[T]{keys: map[string]struct{}{}, byID: map[string]*lane[T]{}}
}

// push adds work to lane id, in its place by order (after the items of the same order or
// lower; never before a head in work): at the end when pushed in the store's order, as it
// is, except for an event accepted while the start loads the inbox. It reports false, and
// changes nothing, when an item with the key is queued already.
func (q *lanes[T]) push(id, key string, order uint64, work T, due, since time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, queued := q.keys[key]; queued {
		return false
	}
	q.keys[key] = struct{}{}
	l := q.byID[id]
	if l == nil {
		l = &lane[T]{}
		q.byID[id] = l
	}
	at := len(l.items)
	for at > 0 && l.items[at-1].order > order && !(at == 1 && l.busy) {
		at--
	}
	l.items = slices.Insert(l.items, at, laneItem[T]{key: key, order: order, work: work, due: instantOf(due), since: instantOf(since)})
	switch {
	case len(l.items) == 1 && !l.busy:
		q.schedule(id, l)
	case at == 0:
		// A new head of a lane that waits: the lane is queued with its old head's time.
		q.reschedule(id, l)
	}
	return true
}

// schedule puts a lane that is neither busy nor queued among the ready or the delayed ones,
// or forgets it when it is empty.
func (q *lanes[T]) schedule(id string, l *lane[T]) {
	if len(l.items) == 0 {
		delete(q.byID, id)
		return
	}
	if due := l.items[0].due; due != 0 {
		heap.Push(&q.delayed, dueLane{due: due.time(), id: id})
		return
	}
	q.ready = append(q.ready, id)
}

// reschedule queues a waiting (ready or delayed) lane again for its new head.
func (q *lanes[T]) reschedule(id string, l *lane[T]) {
	q.ready = slices.DeleteFunc(q.ready, func(r string) bool { return r == id })
	for i := range q.delayed {
		if q.delayed[i].id == id {
			heap.Remove(&q.delayed, i)
			break
		}
	}
	q.schedule(id, l)
}

// take returns the head of a lane that may start at now and marks the lane busy, or false
// when there is none.
func (q *lanes[T]) take(now time.Time) (id string, it laneItem[T], ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.delayed.Len() > 0 && !q.delayed[0].due.After(now) {
		q.ready = append(q.ready, heap.Pop(&q.delayed).(dueLane).id)
	}
	if len(q.ready) == 0 {
		return "", it, false
	}
	id = q.ready[0]
	q.ready[0] = ""
	q.ready = q.ready[1:]
	l := q.byID[id]
	l.busy = true
	return id, l.items[0], true
}

// done removes the head of busy lane id: its work is finished (or given up).
func (q *lanes[T]) done(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.byID[id]
	delete(q.keys, l.items[0].key)
	var zero laneItem[T]
	l.items[0] = zero
	l.items = l.items[1:]
	l.busy = false
	q.schedule(id, l)
}

// retry puts the head of busy lane id back with work as it now is, to start again at due
// (zero: at once); the lane waits for it.
func (q *lanes[T]) retry(id string, work T, due time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.byID[id]
	l.items[0].work, l.items[0].due = work, instantOf(due)
	l.busy = false
	q.schedule(id, l)
}

// finish ends the work on busy lane id, whose item of order (the store's head, usually the
// head in memory) is done: it removes every item up to that order, since those before it in
// the store's order left the store already (another process sent them). A head in memory
// after that order stays, to be sent next.
func (q *lanes[T]) finish(id string, order uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.byID[id]
	var zero laneItem[T]
	for len(l.items) > 0 && l.items[0].order <= order {
		delete(q.keys, l.items[0].key)
		l.items[0] = zero
		l.items = l.items[1:]
	}
	l.busy = false
	q.schedule(id, l)
}

// retryHead puts busy lane id back to start again at due (zero: at once), with work as the
// head's when key is the head's (the store may have handed out another message than the head
// in memory, which then stays as it was).
func (q *lanes[T]) retryHead(id, key string, work T, due time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.byID[id]
	if l.items[0].key == key {
		l.items[0].work = work
	}
	l.items[0].due = instantOf(due)
	l.busy = false
	q.schedule(id, l)
}

// has reports whether lane id holds items.
func (q *lanes[T]) has(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.byID[id] != nil
}

// nextDue returns when the earliest delayed lane may start, or the zero time if none waits.
func (q *lanes[T]) nextDue() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.delayed.Len() == 0 {
		return time.Time{}
	}
	return q.delayed[0].due
}

// stats returns how many items are queued (busy ones included) and since when the oldest
// waits (zero when none does). It looks at each lane's head only.
func (q *lanes[T]) stats() (depth int, oldest time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	depth = len(q.keys)
	var first instant
	for _, l := range q.byID {
		if s := l.items[0].since; first == 0 || s < first {
			first = s
		}
	}
	return depth, first.time()
}

// dueLane is a delayed lane and when its head may start.
type dueLane struct {
	due time.Time
	id  string
}

// dueHeap orders delayed lanes by when they may start; it implements heap.Interface.
type dueHeap []dueLane

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push implements heap.Interface.
func (h *dueHeap) Push(x any) { *h = append(*h, x.(dueLane)) }

// Pop implements heap.Interface.
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
