package bot

import (
	"cmp"
	"slices"
)

// heldEvent is an event a commit added that memory has not been told of yet: its lane, and
// how many commits had started when its commit ended (those, and only those, may hold
// events numbered before it).
type heldEvent struct {
	ev     Event
	lane   string
	endsAt uint64
}

// begin gives batch, about to be committed, its ticket and counts it under way. g.mu is held.
func (g *groupCommit) begin(batch *intakeBatch) {
	batch.ticket = g.started
	g.started++
	g.underWay = append(g.underWay, batch)
}

// end takes the outcome of batch's commit: batch is no longer under way, its added events
// join the held ones, and tellInOrder tells what it can. The holding count goes up before
// the callers return (end runs before done is closed), down only after committed was told.
func (g *groupCommit) end(batch *intakeBatch) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.underWay = slices.DeleteFunc(g.underWay, func(b *intakeBatch) bool { return b == batch })
	before := len(g.held)
	if batch.err == nil {
		for i, ev := range batch.events {
			if batch.added[i] {
				g.held = append(g.held, heldEvent{ev: ev, lane: batch.lanes[i], endsAt: g.started})
			}
		}
		bySeq := func(a, b heldEvent) int { return cmp.Compare(a.ev.Seq, b.ev.Seq) }
		if len(g.held) > before && !slices.IsSortedFunc(g.held, bySeq) {
			slices.SortStableFunc(g.held, bySeq)
		}
	}
	told := g.tellInOrder()
	if n := len(g.held) - g.counted; n > 0 {
		g.holding(n) // before the callers return: Settle waits for these
		g.counted = len(g.held)
	}
	if len(told) > 0 {
		g.committed(told)
	}
	if n := len(g.held) - g.counted; n < 0 {
		g.holding(n) // once memory has those told
		g.counted = len(g.held)
	}
}

// tellInOrder takes out of g.held, and returns in Seq order, the held events that no commit
// under way may precede. The store numbers an event as its commit writes it, so a commit
// that started after another ended numbers its events after the other's: an event waits only for
// the commits of its space that started before its own commit ended; and once one of a
// space's held events waits, those after it in that space wait too. Failed commits add
// nothing and, once ended, hold nothing back. g.mu is held.
func (g *groupCommit) tellInOrder() []Event {
	if len(g.held) == 0 {
		return nil
	}
	var told []Event
	var waiting map[string]bool
	kept := g.held[:0]
	for _, h := range g.held {
		if waiting[h.lane] || g.mayPrecede(h) {
			if waiting == nil {
				waiting = map[string]bool{}
			}
			waiting[h.lane] = true
			kept = append(kept, h)
			continue
		}
		told = append(told, h.ev)
	}
	clear(g.held[len(kept):])
	g.held = kept
	return told
}

// mayPrecede reports whether a commit under way may hold an event of h's space numbered
// before h: one that started before h's commit ended and has an event of that space.
func (g *groupCommit) mayPrecede(h heldEvent) bool {
	for _, b := range g.underWay {
		if _, ok := b.spaces[h.lane]; ok && b.ticket < h.endsAt {
			return true
		}
	}
	return false
}
