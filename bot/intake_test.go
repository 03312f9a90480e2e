package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
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
	g := &groupCommit{commit: rec.commit, committed: func(events []Event, added []bool) {
		mu.Lock()
		defer mu.Unlock()
		for i, ev := range events {
			if added[i] {
				committed = append(committed, ev.Key)
			}
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
	g := &groupCommit{commit: rec.commit, committed: func([]Event, []bool) {}}
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
	g := &groupCommit{commit: rec.commit, committed: func([]Event, []bool) { told = true }}
	if _, err := g.add(context.Background(), Event{Key: "a"}); !errors.Is(err, rec.fail) {
		t.Errorf("add = %v, want the commit's error", err)
	}
	if told {
		t.Error("a failed commit was reported as committed")
	}
}
