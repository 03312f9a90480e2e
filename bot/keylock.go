package bot

import "sync"

// keyLocks serializes work on one key (a request, an organization) among the goroutines of
// this process: the inbox's workers and the status job. Bot.lock takes it first, then the
// key's lease in the store, which serializes the work among processes sharing the store: the
// goroutines of one process queue here instead of asking the store again and again.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

// keyLock is one key's lock and how many goroutines hold or wait for it.
type keyLock struct {
	mu   sync.Mutex
	refs int
}

// lock waits until key is free, takes it, and returns the function that frees it.
func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()

	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
