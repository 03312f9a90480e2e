package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// recordingCommit is a commit function for groupCommit that deduplicates keys as the store
// does, records each batch, and holds its first held commits until release is closed.
type recordingCommit struct {
	held    int           // how many commits, from the first, wait for release
	began   chan struct{} // told when each held commit begins
	release chan struct{}
	mu      sync.Mutex
	seen    map[string]bool
	batches [][]string
	fail    error
}

func newRecordingCommit(held int) *recordingCommit {
	return &recordingCommit{held: held, began: make(chan struct{}, held), release: make(chan struct{}), seen: map[string]bool{}}
}

func (r *recordingCommit) commit(_ context.Context, events []Event) ([]bool, error) {
	r.mu.Lock()
	var keys []string
	for _, ev := range events {
		keys = append(keys, ev.Key)
	}
	r.batches = append(r.batches, keys)
	n := len(r.batches)
	r.mu.Unlock()
	if n <= r.held {
		r.began <- struct{}{}
		<-r.release
	}
	if r.fail != nil {
		return nil, r.fail
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	added := make([]bool, len(events))
	for i, ev := range events {
		added[i] = !r.seen[ev.Key]
		r.seen[ev.Key] = true
	}
	return added, nil
}

// waitGathered spins (no sleep) until n events wait for the next commit.
func waitGathered(g *groupCommit, n int) {
	for g.gathered() < n {
		runtime.Gosched()
	}
}

// TestGroupCommitGathersWhileCommitsRun: while maxCommitting commits run, the events that
// arrive go into the next commit together, each caller gets its own answer, and of two
// deliveries of one key only the first is added.
func TestGroupCommitGathersWhileCommitsRun(t *testing.T) {
	rec := newRecordingCommit(maxCommitting)
	var (
		mu        sync.Mutex
		committed []string
	)
	g := &groupCommit{commit: rec.commit, holding: func(int) {}, committed: func(events []Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range events {
			committed = append(committed, ev.Key)
		}
	}}
	ctx := context.Background()
	type answer struct {
		key   string
		added bool
		err   error
	}
	answers := make(chan answer, maxCommitting+8)
	add := func(key string) {
		added, err := g.add(ctx, Event{Key: key})
		answers <- answer{key, added, err}
	}
	first := []string{"first"}
	for i := 1; i < maxCommitting; i++ {
		first = append(first, fmt.Sprintf("alone-%d", i))
	}
	for _, k := range first {
		go add(k)
		<-rec.began // each alone: fewer than maxCommitting commits ran when it came
	}
	later := []string{"k1", "k2", "k1", "first", "k3"}
	for _, k := range later {
		go add(k)
	}
	waitGathered(g, len(later))
	close(rec.release)

	got := map[string][]bool{}
	for range len(first) + len(later) {
		a := <-answers
		if a.err != nil {
			t.Fatalf("add(%s) = %v", a.key, a.err)
		}
		got[a.key] = append(got[a.key], a.added)
	}
	for k := range got {
		if len(got[k]) == 2 && got[k][0] { // put the two answers of one key in a fixed order
			got[k][0], got[k][1] = got[k][1], got[k][0]
		}
	}
	want := map[string][]bool{"first": {false, true}, "k1": {false, true}, "k2": {true}, "k3": {true}}
	for _, k := range first[1:] {
		want[k] = []bool{true}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got, want := len(rec.batches), maxCommitting+1; got != want {
		t.Fatalf("%d commits %v, want %d: the first ones alone, then all that gathered meanwhile", got, rec.batches, want)
	}
	if got, want := len(rec.batches[maxCommitting]), len(later); got != want {
		t.Errorf("last commit holds %d events, want %d", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if got, want := len(committed), len(first)+3; got != want {
		t.Errorf("told of %d added events %v, want %d", got, committed, want)
	}
}

// TestGroupCommitIdleCommitsAtOnce: with nothing else arriving, each add is its own commit,
// made before add returns.
func TestGroupCommitIdleCommitsAtOnce(t *testing.T) {
	rec := newRecordingCommit(0)
	close(rec.release)
	g := &groupCommit{commit: rec.commit, committed: func([]Event) {}, holding: func(int) {}}
	for i := range 3 {
		added, err := g.add(context.Background(), Event{Key: fmt.Sprint(i)})
		if err != nil || !added {
			t.Fatalf("add(%d) = %t, %v; want true, nil", i, added, err)
		}
		rec.mu.Lock()
		n := len(rec.batches)
		rec.mu.Unlock()
		if n != i+1 {
			t.Fatalf("after add(%d): %d commits, want %d", i, n, i+1)
		}
	}
}

// TestGroupCommitFailureAnswersTheWholeBatch: when a commit fails, every caller of its batch
// gets the error, and nothing is reported as added.
func TestGroupCommitFailureAnswersTheWholeBatch(t *testing.T) {
	rec := newRecordingCommit(0)
	rec.fail = errors.New("disk full")
	close(rec.release)
	told := false
	g := &groupCommit{commit: rec.commit, committed: func([]Event) { told = true }, holding: func(int) {}}
	if _, err := g.add(context.Background(), Event{Key: "a"}); !errors.Is(err, rec.fail) {
		t.Errorf("add = %v, want the commit's error", err)
	}
	if told {
		t.Error("a failed commit was reported as committed")
	}
}

// steppedCommit is a commit function for groupCommit that numbers the events it adds as a
// store does (Seq), each commit when the test lets it (number), and returns when the test
// lets it (finish), so that a test chooses the order in which commits are numbered and the
// order in which they end. A commit is known by its first event's key.
type steppedCommit struct {
	began chan string // the key of each commit that begins
	steps map[string]*commitSteps

	mu  sync.Mutex
	seq uint64
}

// commitSteps are the gates of one commit of a steppedCommit.
type commitSteps struct {
	number   chan struct{} // closed by the test: the commit numbers its events
	numbered chan struct{} // closed by the commit once it has
	finish   chan struct{} // closed by the test: the commit returns
	fail     error         // what it returns instead of adding its events
}

func newSteppedCommit(keys ...string) *steppedCommit {
	c := &steppedCommit{began: make(chan string, len(keys)), steps: map[string]*commitSteps{}}
	for _, k := range keys {
		c.steps[k] = &commitSteps{number: make(chan struct{}), numbered: make(chan struct{}), finish: make(chan struct{})}
	}
	return c
}

func (c *steppedCommit) commit(_ context.Context, events []Event) ([]bool, error) {
	s := c.steps[events[0].Key]
	c.began <- events[0].Key
	<-s.number
	c.mu.Lock()
	if s.fail == nil {
		for i := range events {
			c.seq++
			events[i].Seq = c.seq
		}
	}
	c.mu.Unlock()
	close(s.numbered)
	<-s.finish
	if s.fail != nil {
		return nil, s.fail
	}
	added := make([]bool, len(events))
	for i := range added {
		added[i] = true
	}
	return added, nil
}

// step lets commit key number its events and waits until it has.
func (c *steppedCommit) step(key string) {
	close(c.steps[key].number)
	<-c.steps[key].numbered
}

// toldInbox records what a groupCommit tells its committed and holding.
type toldInbox struct {
	mu   sync.Mutex
	keys []string // the keys told, in order
	held int      // the sum of what holding was told
}

func (r *toldInbox) committed(events []Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range events {
		r.keys = append(r.keys, ev.Key)
	}
}

func (r *toldInbox) holding(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held += n
}

// check fails the test unless the keys told so far and the events held are want and held.
func (r *toldInbox) check(t *testing.T, when string, want []string, held int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if diff := cmp.Diff(want, r.keys, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: events told (-want +got):\n%s", when, diff)
	}
	if r.held != held {
		t.Errorf("%s: %d events held, want %d", when, r.held, held)
	}
}

// startAdds begins a commit of each key (an event in room), one after the other, each
// waiting until the one before began, and returns the channels of the callers' answers.
func startAdds(t *testing.T, g *groupCommit, c *steppedCommit, rooms map[string]string, keys ...string) map[string]chan error {
	t.Helper()
	answers := map[string]chan error{}
	for _, k := range keys {
		answer := make(chan error, 1)
		answers[k] = answer
		go func() {
			_, err := g.add(t.Context(), Event{Key: k, RoomID: rooms[k]})
			answer <- err
		}()
		if got := <-c.began; got != k {
			t.Fatalf("commit of %s began, want %s", got, k)
		}
	}
	return answers
}

// TestGroupCommitTellsEachSpaceInSeqOrder: commits a and b, of one space, are numbered a
// before b but b ends first; c, of another space, is numbered last and ends before a. b's
// caller is answered at once, but memory is told of b only after a; c is told at once, its
// space having nothing under way before it. Until then, b counts as held.
func TestGroupCommitTellsEachSpaceInSeqOrder(t *testing.T) {
	c := newSteppedCommit("a", "b", "c")
	var told toldInbox
	g := &groupCommit{commit: c.commit, committed: told.committed, holding: told.holding}
	rooms := map[string]string{"a": "room-1", "b": "room-1", "c": "room-2"}
	answers := startAdds(t, g, c, rooms, "a", "b", "c")
	c.step("a")
	c.step("b")
	c.step("c")

	close(c.steps["b"].finish)
	if err := <-answers["b"]; err != nil { // answered while a's commit runs
		t.Fatalf("add(b) = %v", err)
	}
	told.check(t, "b ended before a", nil, 1)

	close(c.steps["c"].finish)
	if err := <-answers["c"]; err != nil {
		t.Fatalf("add(c) = %v", err)
	}
	told.check(t, "c, of another space, ended", []string{"c"}, 1)

	close(c.steps["a"].finish)
	if err := <-answers["a"]; err != nil {
		t.Fatalf("add(a) = %v", err)
	}
	told.check(t, "a ended", []string{"c", "a", "b"}, 0)
}

// TestGroupCommitFailedCommitHoldsNothingBack: commit a, of b's space, began before b and
// fails after b ended: b, held while a ran, is told once a failed, and a's caller gets the
// error.
func TestGroupCommitFailedCommitHoldsNothingBack(t *testing.T) {
	c := newSteppedCommit("a", "b")
	c.steps["a"].fail = errors.New("disk full")
	var told toldInbox
	g := &groupCommit{commit: c.commit, committed: told.committed, holding: told.holding}
	answers := startAdds(t, g, c, map[string]string{"a": "room-1", "b": "room-1"}, "a", "b")
	c.step("b")
	close(c.steps["b"].finish)
	if err := <-answers["b"]; err != nil {
		t.Fatalf("add(b) = %v", err)
	}
	told.check(t, "b ended while a ran", nil, 1)

	c.step("a")
	close(c.steps["a"].finish)
	if err := <-answers["a"]; !errors.Is(err, c.steps["a"].fail) {
		t.Errorf("add(a) = %v, want the commit's error", err)
	}
	told.check(t, "a failed", []string{"b"}, 0)
}
