package bot

import (
	"context"
	"sync"
)

// groupCommit writes accepted events to the store by group commit: the events that arrive
// while commits (and their fsyncs) run are gathered, and written together in the next
// transaction as soon as one ends. An event that arrives when fewer than maxCommitting
// commits run is written at once: there is no delay to wait for company. Each caller
// returns only after the commit of its own event.
//
// Up to maxCommitting commits run at once, so that a store that gathers the writes of all
// its callers into one transaction (as the bbolt store does) finds every delivery that
// arrived during its last transaction already waiting when it starts the next, instead of
// committing the workers' writes without some of them. Commits that run at once may end in
// another order than the store numbered their events (Seq): committed is told each space's
// events strictly in Seq order (see tellInOrder), so that memory never hears of an event
// before an earlier one of its space that a commit still under way holds.
type groupCommit struct {
	// commit writes events in one transaction, setting the Seq of those it adds, and reports
	// which were added.
	commit func(ctx context.Context, events []Event) ([]bool, error)
	// committed is told the events commits added, each space's in Seq order.
	committed func(events []Event)
	// holding is told how many more (n > 0) or fewer (n < 0) added events wait to be told to
	// committed: more before the callers of the commit that added them return, fewer after
	// committed was told of them.
	holding func(n int)

	mu         sync.Mutex
	gathering  *intakeBatch   // the events waiting for the next commit, or nil
	committing int            // the callers (or the goroutines they handed over to) that commit
	started    uint64         // how many commits have started (each one's ticket is the count before it)
	underWay   []*intakeBatch // the commits under way
	held       []heldEvent    // the added events not told yet, by Seq
	counted    int            // the held events holding was told of
}

// maxCommitting is how many commits of accepted events run at once. With the bbolt store,
// whose committer gathers every caller's write into its next transaction, a delivery is
// best handed to it at once: with 2, the deliveries that waited here for a commit to end
// made each transaction hold fewer of them (BenchmarkIntake, 32 senders: 0.22–0.25× the bare
// receiver against 0.31–0.37× with 32, in the same runs). The bound keeps a burst from opening
// a transaction per delivery on a store without such a committer (PostgreSQL): past it,
// deliveries gather here as before.
const maxCommitting = 32

// intakeBatch is the events of one commit and its outcome, known once done is closed.
type intakeBatch struct {
	events []Event
	lanes  []string            // each event's lane
	spaces map[string]struct{} // the lanes of the events (a set)
	ticket uint64              // the commit's place among the commits started (groupCommit.started)
	done   chan struct{}
	added  []bool
	err    error
}

// add stores ev in the next group commit and reports whether it was added (false: its key
// was in the inbox or processed already, or came earlier in the same commit).
func (g *groupCommit) add(ctx context.Context, ev Event) (bool, error) {
	lane := ev.Lane()
	g.mu.Lock()
	if g.gathering == nil {
		g.gathering = &intakeBatch{done: make(chan struct{}), spaces: map[string]struct{}{}}
	}
	batch, i := g.gathering, len(g.gathering.events)
	batch.events = append(batch.events, ev)
	batch.lanes = append(batch.lanes, lane)
	batch.spaces[lane] = struct{}{}
	lead := g.committing < maxCommitting
	if lead {
		g.committing++
	}
	g.mu.Unlock()

	if lead {
		// This caller commits what gathered, its own event among it, then hands what
		// gathered meanwhile to a goroutine, so that it is not kept for others' commits.
		g.commitGathered(context.WithoutCancel(ctx), false)
	}
	select {
	case <-batch.done:
		if batch.err != nil {
			return false, batch.err
		}
		return batch.added[i], nil
	case <-ctx.Done():
		// The event may still be committed; the sender, unanswered, delivers it again, and
		// the redelivery is recognised.
		return false, ctx.Err()
	}
}

// gathered returns how many events wait for the next commit.
func (g *groupCommit) gathered() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gathering == nil {
		return 0
	}
	return len(g.gathering.events)
}

// commitGathered commits the gathered events, then, when more gathered meanwhile, goes on
// in a goroutine of its own (or in this one, when handedOver); it stops when none gathered.
func (g *groupCommit) commitGathered(ctx context.Context, handedOver bool) {
	for {
		g.mu.Lock()
		batch := g.gathering
		g.gathering = nil
		if batch == nil {
			g.committing--
			g.mu.Unlock()
			return
		}
		g.begin(batch)
		g.mu.Unlock()

		batch.added, batch.err = g.commit(ctx, batch.events)
		g.end(batch)
		close(batch.done)
		if !handedOver {
			// A goroutine only when something gathered: most commits of a busy intake
			// find nothing, each delivery having led its own commit.
			g.mu.Lock()
			if g.gathering == nil {
				g.committing--
				g.mu.Unlock()
				return
			}
			g.mu.Unlock()
			go g.commitGathered(ctx, true)
			return
		}
	}
}

// queueAdded puts the events a commit added in the in-memory inbox and wakes the workers.
func (b *Bot) queueAdded(events []Event) {
	for _, ev := range events {
		b.inbox.push(ev.Lane(), ev.Key, ev.Seq, struct{}{}, ev.NotBefore, ev.Received)
	}
	if len(events) > 0 {
		wake(b.wakeInbox)
	}
}

// holdAdded counts the added events the intake holds back as work in flight, so that
// Settle waits until they are in the in-memory inbox.
func (b *Bot) holdAdded(n int) {
	b.addInflight(n)
	if n < 0 {
		b.progressed()
	}
}
