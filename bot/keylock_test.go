package bot

import (
	"sync"
	"testing"
)

func TestKeyLocksExcludeOneKeyOnly(t *testing.T) {
	var locks keyLocks
	var wg sync.WaitGroup
	counts := map[string]*int{"a": new(int), "b": new(int)}
	for i := range 200 {
		key := []string{"a", "b"}[i%2]
		count := counts[key]
		wg.Go(func() {
			unlock := locks.lock(key)
			defer unlock()
			*count++ // the race detector fails the test if two holders of a key overlap
		})
	}
	// Another key is free while "a" is held.
	unlockA := locks.lock("a")
	locks.lock("c")()
	unlockA()
	wg.Wait()

	for key, count := range counts {
		if got, want := *count, 100; got != want {
			t.Errorf("key %s was held %d times, want %d", key, got, want)
		}
	}
	if n := len(locks.locks); n != 0 {
		t.Errorf("%d locks left after every holder unlocked, want 0", n)
	}
}
