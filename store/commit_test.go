package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

// The committer's group logic, tested on groups built by hand (so that which writes share a
// transaction does not depend on timing), and its goroutine with concurrent writers.

// testBucket is the bucket the committer's tests write to.
var testBucket = []byte("test")

// openBolt opens a bare bbolt file with testBucket in t.TempDir, closed when the test ends.
func openBolt(t *testing.T) *bolt.DB {
	t.Helper()
	bdb, err := bolt.Open(filepath.Join(t.TempDir(), "commit.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := bdb.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := bdb.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket(testBucket)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return bdb
}

// keysIn returns the keys of testBucket, in order.
func keysIn(t *testing.T, bdb *bolt.DB) []string {
	t.Helper()
	var keys []string
	if err := bdb.View(func(tx *bolt.Tx) error {
		return tx.Bucket(testBucket).ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// errRefused is what the failing writes of the tests return.
var errRefused = errors.New("refused")

// testWrite is a write of the tests: it puts its key, then fails or panics if told to.
type testWrite struct {
	key   string
	fail  bool
	panic bool
}

// fn returns the write function, which counts its runs in runs.
func (w testWrite) fn(runs *int) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		*runs++
		if err := tx.Bucket(testBucket).Put([]byte(w.key), []byte("v")); err != nil {
			return err
		}
		switch {
		case w.panic:
			panic("write " + w.key + " panics")
		case w.fail:
			return fmt.Errorf("write %s: %w", w.key, errRefused)
		}
		return nil
	}
}

func TestCommitGroupFailsAlone(t *testing.T) {
	tests := []struct {
		name       string
		writes     []testWrite
		wantKeys   []string
		wantFailed []string // the keys of the writes whose callers get errRefused
		wantPanic  []string // the keys of the writes whose callers panic
	}{
		{
			name:     "all succeed in one transaction",
			writes:   []testWrite{{key: "a"}, {key: "b"}, {key: "c"}},
			wantKeys: []string{"a", "b", "c"},
		},
		{
			name:       "one fails in the middle, the others commit",
			writes:     []testWrite{{key: "a"}, {key: "b", fail: true}, {key: "c"}},
			wantKeys:   []string{"a", "c"},
			wantFailed: []string{"b"},
		},
		{
			name:       "the first and the last fail",
			writes:     []testWrite{{key: "a", fail: true}, {key: "b"}, {key: "c", fail: true}},
			wantKeys:   []string{"b"},
			wantFailed: []string{"a", "c"},
		},
		{
			name:       "every one fails, nothing is written",
			writes:     []testWrite{{key: "a", fail: true}, {key: "b", fail: true}},
			wantFailed: []string{"a", "b"},
		},
		{
			name:      "one panics, the others commit",
			writes:    []testWrite{{key: "a"}, {key: "b", panic: true}, {key: "c"}},
			wantKeys:  []string{"a", "c"},
			wantPanic: []string{"b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bdb := openBolt(t)
			c := &committer{bdb: bdb}
			runs := make([]int, len(tt.writes))
			group := make([]*writeCall, len(tt.writes))
			for i, w := range tt.writes {
				group[i] = &writeCall{fn: w.fn(&runs[i]), done: make(chan struct{})}
			}
			c.commit(slices.Clone(group)) // commit reorders the slice it is given

			var failed, panicked []string
			for i, call := range group {
				select {
				case <-call.done:
				default:
					t.Fatalf("write %s is not done after the commit", tt.writes[i].key)
				}
				switch {
				case call.panicked != nil:
					panicked = append(panicked, tt.writes[i].key)
				case errors.Is(call.err, errRefused):
					failed = append(failed, tt.writes[i].key)
				case call.err != nil:
					t.Errorf("write %s: unexpected error %v", tt.writes[i].key, call.err)
				}
				if runs[i] == 0 {
					t.Errorf("write %s never ran", tt.writes[i].key)
				}
			}
			if diff := cmp.Diff(tt.wantFailed, failed); diff != "" {
				t.Errorf("failed writes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPanic, panicked); diff != "" {
				t.Errorf("panicked writes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantKeys, keysIn(t, bdb)); diff != "" {
				t.Errorf("keys committed (-want +got):\n%s", diff)
			}
			// The failed and panicked writes are not counted; a transaction is, once it
			// committed something.
			got := [2]uint64{c.commits.Load(), c.writes.Load()}
			want := [2]uint64{0, 0}
			if len(tt.wantKeys) > 0 {
				want = [2]uint64{1, uint64(len(tt.wantKeys))}
			}
			if got != want {
				t.Errorf("commits and writes counted: got %v, want %v", got, want)
			}
		})
	}
}

func TestCommitterConcurrentWriters(t *testing.T) {
	bdb := openBolt(t)
	c := newCommitter(bdb)
	const writers = 64
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			w := testWrite{key: fmt.Sprintf("k%02d", i), fail: i%5 == 0}
			runs := 0
			errs[i] = c.write(w.fn(&runs))
		})
	}
	wg.Wait()
	c.close()

	var want []string
	for i, err := range errs {
		if i%5 == 0 {
			if !errors.Is(err, errRefused) {
				t.Errorf("write %d: got %v, want its own error", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
		want = append(want, fmt.Sprintf("k%02d", i))
	}
	if diff := cmp.Diff(want, keysIn(t, bdb)); diff != "" {
		t.Errorf("keys committed (-want +got):\n%s", diff)
	}
	// However the writers were grouped, every committed write is counted once, in one of
	// at most as many transactions.
	if got, want := c.writes.Load(), uint64(len(want)); got != want {
		t.Errorf("writes counted: got %d, want %d", got, want)
	}
	if got := c.commits.Load(); got < 1 || got > uint64(len(want)) {
		t.Errorf("commits counted: got %d, want 1 to %d", got, len(want))
	}
}

func TestCommitterPanicReachesItsCaller(t *testing.T) {
	bdb := openBolt(t)
	c := newCommitter(bdb)
	defer c.close()
	got := func() (p any) {
		defer func() { p = recover() }()
		runs := 0
		_ = c.write(testWrite{key: "a", panic: true}.fn(&runs))
		return nil
	}()
	if got != "write a panics" {
		t.Errorf("the caller recovered %v, want the write's panic", got)
	}
	runs := 0
	if err := c.write(testWrite{key: "b"}.fn(&runs)); err != nil {
		t.Errorf("a write after a panicking one: %v", err)
	}
	if diff := cmp.Diff([]string{"b"}, keysIn(t, bdb)); diff != "" {
		t.Errorf("keys committed (-want +got):\n%s", diff)
	}
}

func TestCommitterClosed(t *testing.T) {
	bdb := openBolt(t)
	c := newCommitter(bdb)
	runs := 0
	if err := c.write(testWrite{key: "a"}.fn(&runs)); err != nil {
		t.Fatal(err)
	}
	c.close()
	c.close() // closing twice is harmless
	if err := c.write(testWrite{key: "b"}.fn(&runs)); !errors.Is(err, errClosed) {
		t.Errorf("a write after close: got %v, want %v", err, errClosed)
	}
	if diff := cmp.Diff([]string{"a"}, keysIn(t, bdb)); diff != "" {
		t.Errorf("keys committed (-want +got):\n%s", diff)
	}
}
