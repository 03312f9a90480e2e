package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// errClosed is returned by a write submitted after Close.
var errClosed = errors.New("the store is closed")

// committer runs every write transaction of a DB by group commit. bbolt lets one writer at
// a time commit, each commit with its own fsync; so instead of each caller opening its own
// transaction, callers hand their write functions to one goroutine, which runs all the
// functions gathered while the previous commit (and its fsync) ran in one transaction, in
// the order they arrived, and commits them together. A function that arrives when no
// commit runs is committed at once, alone: there is no delay waiting for company.
//
// Each caller returns only after the commit that holds its function, with the commit's
// error; a function that fails fails alone: the transaction is rolled back and run again
// without it (as bbolt's DB.Batch does), so the others commit. Because of that, a function
// may run more than once, each time against the same state (the functions before it in the
// group, the failed ones left out): it must set what it reports afresh at each run, never
// accumulate across runs.
type committer struct {
	bdb *bolt.DB

	mu      sync.Mutex
	wake    *sync.Cond    // signalled when a write is submitted or the committer is closed
	pending []*writeCall  // the writes gathered for the next commit
	closed  bool          // no write is taken any more
	stopped chan struct{} // closed when the committer's goroutine has ended

	commits atomic.Uint64 // the transactions committed
	writes  atomic.Uint64 // the write functions those transactions held
}

// writeCall is one submitted write function and its outcome, known once done is closed.
type writeCall struct {
	fn       func(tx *bolt.Tx) error
	done     chan struct{}
	err      error
	panicked any // what fn panicked with, to panic again in the caller's goroutine
}

// newCommitter starts the committer of bdb; stop it with close.
func newCommitter(bdb *bolt.DB) *committer {
	c := &committer{bdb: bdb, stopped: make(chan struct{})}
	c.wake = sync.NewCond(&c.mu)
	go c.run()
	return c
}

// write runs fn in a write transaction, shared with the writes submitted meanwhile, and
// returns after that transaction committed (nil) or failed (its error, or fn's own). A panic
// in fn is raised again here, after the others' commit.
func (c *committer) write(fn func(tx *bolt.Tx) error) error {
	call := &writeCall{fn: fn, done: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed
	}
	c.pending = append(c.pending, call)
	c.wake.Signal()
	c.mu.Unlock()
	<-call.done
	if call.panicked != nil {
		panic(call.panicked)
	}
	return call.err
}

// close commits the writes already submitted, refuses new ones, and returns when the
// committer's goroutine has ended.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.wake.Signal()
	c.mu.Unlock()
	<-c.stopped
}

// run commits the gathered writes, one group at a time, until the committer is closed and
// nothing is left.
func (c *committer) run() {
	defer close(c.stopped)
	for {
		c.mu.Lock()
		for len(c.pending) == 0 && !c.closed {
			c.wake.Wait()
		}
		group := c.pending
		c.pending = nil
		c.mu.Unlock()
		if len(group) == 0 {
			return // closed, and nothing is left
		}
		c.commit(group)
	}
}

// commit runs group's functions in one transaction and commits it. When a function fails,
// the transaction is rolled back and run again without it; the failed function's caller
// gets its own error, or, if the others' commit then fails, that error: its view of their
// writes was never made durable.
func (c *committer) commit(group []*writeCall) {
	var failed []*writeCall
	for {
		at := -1
		err := c.bdb.Update(func(tx *bolt.Tx) error {
			for i, call := range group {
				if err := call.run(tx); err != nil {
					at = i
					return err
				}
			}
			return nil
		})
		if at >= 0 {
			failed = append(failed, group[at])
			group = slices.Delete(group, at, at+1)
			if len(group) > 0 {
				continue
			}
			err = nil // none left to commit: each failed call keeps its own error
		}
		if err == nil && len(group) > 0 {
			c.commits.Add(1)
			c.writes.Add(uint64(len(group)))
		}
		for _, call := range group {
			call.err = err
			close(call.done)
		}
		for _, call := range failed {
			if err != nil && call.panicked == nil {
				call.err = fmt.Errorf("the transaction it shared failed to commit: %w", err)
			}
			close(call.done)
		}
		return
	}
}

// run calls the function in tx, keeping its error (or panic) as the call's outcome.
func (call *writeCall) run(tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			call.panicked = p
			err = fmt.Errorf("the write function panicked: %v", p)
		}
	}()
	call.err = call.fn(tx)
	return call.err
}
