package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// eventLease is how long a claim on an event lives; runLeases renews the claims of the
// events in work.
const eventLease = 5 * time.Minute

// runInbox feeds the in-memory inbox to a bounded pool of workers until ctx ends: the head
// of each space's lane, claimed in the store first (a batch of heads in one transaction).
// Events enter the in-memory inbox after their commit (Accept) and leave it after their
// outcome's; every Config.ScanEvery, the store is asked for the due events no one holds (accepted
// by another replica, or left by one that died), at most scanLimit of them.
func (b *Bot) runInbox(ctx context.Context) {
	jobs := make(chan claimedEvent, b.cfg.Workers)
	results := make(chan handled, b.cfg.Workers)
	var workers sync.WaitGroup
	for range b.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for job := range jobs {
				r := b.handle(job.ctx, job.ev)
				job.forget()
				r.lane = job.lane
				results <- r
			}
		}()
	}
	defer func() {
		close(jobs)
		workers.Wait()
	}()

	inWork := map[string]bool{} // the keys of the events in work
	probe := map[string]bool{}  // lanes emptied in memory, of which the store may hold more
	scan := b.timers.After(b.cfg.ScanEvery)
	for {
		for b.dispatchEvents(ctx, jobs, inWork, probe) {
			// a probed lane's head, or the next of a lane that lost its head, may be ready
		}
		select {
		case <-ctx.Done():
			return
		case <-scan:
			b.scanInbox(ctx)
			scan = b.timers.After(b.cfg.ScanEvery)
		case <-b.wakeInbox:
		case r := <-results:
			b.settleEvent(r, inWork, probe)
			for drained := false; !drained; {
				select {
				case r := <-results:
					b.settleEvent(r, inWork, probe)
				default:
					drained = true
				}
			}
		case <-b.timerFor(b.inbox.nextDue()):
		}
	}
}

// claimedEvent is an event claimed for a worker, its lane, the context of its work
// (cancelled if the claim is lost) and the function that forgets the claim.
type claimedEvent struct {
	lane   string
	ev     Event
	ctx    context.Context
	forget func()
}

// scanInbox puts the due events no one holds in the in-memory inbox (those it has already
// are skipped).
func (b *Bot) scanInbox(ctx context.Context) {
	scanStore(ctx, b, "inbox events", b.db.DueEvents, func(ev Event) bool {
		return b.inbox.push(ev.Lane(), ev.Key, ev.Seq, struct{}{}, ev.NotBefore, ev.Received)
	})
}

// scanStore queues the due work no one holds that read finds (at most scanLimit); queue
// queues one piece and reports whether it was new. what names the work in the logs.
func scanStore[T any](ctx context.Context, b *Bot, what string, read func(context.Context, time.Time, int) ([]T, error), queue func(T) bool) {
	found, err := read(ctx, b.clock.Now(), scanLimit)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("scan the store for work no one holds", "work", what, "err", err)
		}
		return
	}
	queued := 0
	for _, w := range found {
		if queue(w) {
			queued++
		}
	}
	if queued > 0 {
		b.log.Info("work found in the store that no one holds", "work", what, "count", queued)
		b.progressed()
	}
}

// dispatchEvents claims the heads of the ready lanes, as many as there are idle workers, in
// one transaction, and hands them to the workers; with them, it claims the heads the store
// holds of the lanes to probe (another replica may have accepted the next event of a lane
// whose head this process finished) and puts them in the in-memory inbox, to be dispatched
// next. A head the store does not hand out (gone, not due yet, claimed by another replica,
// or behind an event of its lane that another replica has or had) leaves the in-memory inbox:
// the replica that finishes the lane's head probes the lane, and the scan finds it again when
// it is due and free. again reports that there may be more ready to dispatch. When the store
// cannot be asked, the heads wait RetryBase.
func (b *Bot) dispatchEvents(ctx context.Context, jobs chan<- claimedEvent, inWork, probe map[string]bool) (again bool) {
	now := b.clock.Now()
	var keys []string
	taken := map[string]string{} // key → lane
	for len(inWork)+len(keys) < b.cfg.Workers {
		lane, it, ok := b.inbox.take(now)
		if !ok {
			break
		}
		keys = append(keys, it.key)
		taken[it.key] = lane
	}
	if b.probeEventLanes(ctx, now, probe) {
		again = true
	}
	if len(keys) == 0 {
		return again
	}
	claimed, err := b.db.ClaimEvents(ctx, keys, b.owner, now, now.Add(eventLease))
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("claim events", "events", len(keys), "err", err)
		}
		claimed = nil
	}
	for _, ev := range claimed {
		inWork[ev.Key] = true
		b.addInflight(1)
		workCtx, forget := b.keeper.hold(ctx, claimEvent, ev.Key)
		jobs <- claimedEvent{lane: taken[ev.Key], ev: ev, ctx: workCtx, forget: forget}
		delete(taken, ev.Key)
	}
	dropped := false
	for key, lane := range taken {
		if err != nil {
			b.inbox.retry(lane, struct{}{}, now.Add(b.cfg.RetryBase))
			continue
		}
		b.log.Info("event not handed out by the store (done, not due, another replica's, or behind an event of its space that memory missed); its space is probed for the store's head", "event", key)
		// The store's head of this lane may be an event that memory missed (its commit
		// told after this one's, or accepted by a replica that died): the lane, once empty
		// here, is probed at once, not left to the next scan.
		b.markProbe(probe, lane)
		b.inbox.done(lane)
		dropped = true
	}
	if dropped {
		b.progressed() // the inbox in memory shrank: Settle looks again
	}
	return again || dropped
}

// probeEventLanes claims the heads the store holds of the lanes to probe that are still
// empty in memory, puts them in the in-memory inbox (claimed already: they go to workers
// next), and empties probe; it reports whether it found any. When the store cannot be asked,
// the scan finds those heads later.
func (b *Bot) probeEventLanes(ctx context.Context, now time.Time, probe map[string]bool) bool {
	if len(probe) == 0 {
		return false
	}
	var lanes []string
	for lane := range probe {
		if !b.inbox.has(lane) {
			lanes = append(lanes, lane)
		}
	}
	marked := len(probe)
	clear(probe)
	defer func() {
		// After the heads found are in memory: Settle sees them, or no more work.
		b.addInflight(-marked)
		b.progressed()
	}()
	if len(lanes) == 0 {
		return false
	}
	heads, err := b.db.ClaimEventLanes(ctx, lanes, b.owner, now, now.Add(eventLease))
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("claim the next events of spaces", "spaces", len(lanes), "err", err)
		}
		return false
	}
	for _, ev := range heads {
		b.inbox.push(ev.Lane(), ev.Key, ev.Seq, struct{}{}, ev.NotBefore, ev.Received)
	}
	return len(heads) > 0
}

// markProbe has lane probed by the next probeEventLanes (which asks only about lanes empty in
// memory by then). A lane to probe counts as work in flight until it is probed, so that
// Settle does not take the moment between a lane's emptying and its probe for the end of
// the work.
func (b *Bot) markProbe(probe map[string]bool, lane string) {
	if !probe[lane] {
		probe[lane] = true
		b.addInflight(1)
	}
}

// settleEvent takes a worker's report into the in-memory inbox. A lane whose event left the
// inbox and that has no more in memory is to be probed: the store may hold its next event,
// accepted by another replica, which was refused it while this one held the lane.
func (b *Bot) settleEvent(r handled, inWork, probe map[string]bool) {
	delete(inWork, r.ev.Key)
	switch {
	case r.left:
		b.inbox.done(r.lane)
		if !b.inbox.has(r.lane) {
			b.markProbe(probe, r.lane)
		}
	default:
		b.inbox.retry(r.lane, struct{}{}, r.retryAt)
	}
	b.addInflight(-1)
	b.progressed()
}

func (b *Bot) addInflight(n int) {
	b.mu.Lock()
	b.inflight += n
	b.mu.Unlock()
}

// recordTimeout bounds recording the outcome of work that is done, which goes on when the
// bot is stopping (the store closes only after the workers have returned).
const recordTimeout = 5 * time.Second

// handled is a worker's report on one event: it left the inbox (processed or given up), or
// it stays, as ev now is, to be tried again at retryAt.
type handled struct {
	lane    string
	ev      Event
	left    bool
	retryAt time.Time
}

// handle processes one event and records the outcome: finished with its replies, retried
// later, or given up with a notice to the space. When the store fails to record it, the
// event stays in the inbox and is tried again after RetryBase.
func (b *Bot) handle(ctx context.Context, ev Event) handled {
	t, err := b.process(ctx, ev)
	now := b.clock.Now()
	stay := handled{ev: ev, retryAt: now.Add(b.cfg.RetryBase)}
	if err == nil {
		// Recorded even when the bot is stopping: the work is done.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := b.db.FinishEvent(recordCtx, ev.Key, b.owner, now, t.out); err != nil {
			if errors.Is(err, ErrLeaseLost) || errors.Is(err, ErrNotFound) {
				b.log.Warn("event done, but its claim was lost: its replies are not recorded; the replica holding it does it", "event", ev.Key, "err", err)
				return handled{ev: ev, left: true}
			}
			b.log.Error("finish event; it will be processed again", "event", ev.Key, "err", err)
			return stay
		}
		if len(t.out) > 0 {
			b.wakeOutbox()
		}
		return handled{ev: ev, left: true}
	}
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), ErrLeaseLost) {
			b.log.Warn("claim on the event lost while processing it; another replica has it", "event", ev.Key)
		} else {
			b.log.Info("event left in the inbox for the next start", "event", ev.Key)
			b.giveBack(ctx, "event "+ev.Key, func(ctx context.Context) error { return b.db.ReleaseEvent(ctx, ev, b.owner) })
		}
		return stay
	}
	ev.Attempts++
	ev.LastError = err.Error()
	if isTemporary(err) && ev.Attempts < b.cfg.MaxAttempts {
		ev.NotBefore = now.Add(b.backoff(ev.Attempts))
		b.log.Warn("event failed; will retry", "event", ev.Key, "attempt", ev.Attempts, "retry_at", ev.NotBefore, "err", err)
		// Saved even when the bot is stopping meanwhile: its claim must not outlive it.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := b.db.ReleaseEvent(recordCtx, ev, b.owner); err != nil {
			b.log.Error("save event for retry", "event", ev.Key, "err", err)
		}
		return handled{ev: ev, retryAt: ev.NotBefore}
	}
	b.log.Error("event given up", "event", ev.Key, "attempts", ev.Attempts, "err", err)
	var out []Outgoing
	if ev.RoomID != "" {
		notice := t.message(OutMessage{RoomID: ev.RoomID, ParentID: t.ThreadID, Markdown: failureNotice(err)})
		notice.Key = failedEventKey(ev.Key)
		out = append(out, notice)
	}
	if err := b.db.DeadLetterEvent(ctx, ev, b.owner, now, out); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			b.log.Warn("event given up, but its claim was lost: the replica holding it decides", "event", ev.Key, "err", err)
			return handled{ev: ev, left: true}
		}
		b.log.Error("dead-letter event", "event", ev.Key, "err", err)
		return stay
	}
	if len(out) > 0 {
		b.wakeOutbox()
	}
	return handled{ev: ev, left: true}
}

// process reads what an event refers to, attributes it, and dispatches it.
func (b *Bot) process(ctx context.Context, ev Event) (*Turn, error) {
	t := &Turn{Event: ev, RoomID: ev.RoomID, Now: b.clock.Now()}
	me := b.Me()
	switch ev.Resource + "/" + ev.Event {
	case "messages/created":
		msg, err := b.webex.Message(ctx, ev.DataID)
		if err != nil {
			return t, fmt.Errorf("read message %s: %w", ev.DataID, err)
		}
		if msg.PersonID == me.ID {
			return t, nil
		}
		if b.staleResource(ev, msg.Created) {
			return t, nil
		}
		t.RoomID, t.ThreadID = msg.RoomID, msg.ThreadRoot()
		t.Actor = Person{ID: msg.PersonID, Emails: []string{msg.PersonEmail}}
		t.Files = msg.Files
		return t, b.command(ctx, t, stripMention(msg, me))
	case "attachmentActions/created":
		action, err := b.webex.AttachmentAction(ctx, ev.DataID)
		if err != nil {
			return t, fmt.Errorf("read card submission %s: %w", ev.DataID, err)
		}
		if action.PersonID == me.ID {
			return t, nil
		}
		if b.staleResource(ev, action.Created) {
			return t, nil
		}
		person, err := b.webex.Person(ctx, action.PersonID)
		if err != nil {
			return t, fmt.Errorf("read the person who submitted card %s: %w", ev.DataID, err)
		}
		t.Actor, t.RoomID, t.ThreadID, t.CardID = person, action.RoomID, action.MessageID, action.MessageID
		card, err := b.webex.Message(ctx, action.MessageID)
		switch {
		case err == nil:
			t.ThreadID = card.ThreadRoot()
		case apiStatus(err) == 404:
			// The card was deleted (it can no longer act) after the click: answer in the room.
			t.ThreadID, t.CardID = "", ""
		default:
			return t, fmt.Errorf("read card message %s: %w", action.MessageID, err)
		}
		return t, b.card(ctx, t, action)
	default:
		b.log.Info("event of no interest ignored", "event", ev.Key)
		return t, nil
	}
}

// staleResource reports, and logs, that the message or card submission an event refers to
// was created more than MaxEventAge before the event was received: Webex's own record of it
// is authoritative, whatever the delivery said. An event without a received time (kept by an
// older version) is measured against now.
func (b *Bot) staleResource(ev Event, created time.Time) bool {
	received := ev.Received
	if received.IsZero() {
		received = b.clock.Now()
	}
	if !stale(created, received) {
		return false
	}
	b.log.Warn("event about an old message or card submission ignored: a replay, or delivered days late", "event", ev.Key, "created", created, "received", received)
	return true
}

// refusalText answers someone who may not command the bot.
const refusalText = "Sorry, I only take commands from the partner's Webex for Wholesale admins. " +
	"If I asked you to approve a request, use the Approve or Decline buttons on its card; there is nothing to type. " +
	"If you work for the partner and need me, ask whoever runs attachbot to allow your email address."

var mentionRE = regexp.MustCompile(`(?s)<spark-mention[^>]*data-object-id="([^"]*)"[^>]*>(.*?)</spark-mention>`)

// stripMention returns a message's text without the bot's mention. In group spaces the
// mention is the bot's (first) name at the start of the text; the html tells which words it
// is, and the display name is the fallback when there is no html.
func stripMention(msg Message, me Person) string {
	text := strings.TrimSpace(msg.Text)
	for _, m := range mentionRE.FindAllStringSubmatch(msg.HTML, -1) {
		if m[1] == me.ID || strings.HasSuffix(me.ID, m[1]) || strings.EqualFold(m[2], me.DisplayName) {
			if name := strings.TrimSpace(m[2]); name != "" && strings.HasPrefix(text, name) {
				return strings.TrimSpace(text[len(name):])
			}
		}
	}
	if msg.RoomType == "direct" || me.DisplayName == "" {
		return text
	}
	candidates := []string{me.DisplayName}
	if first, _, ok := strings.Cut(me.DisplayName, " "); ok {
		candidates = append(candidates, first)
	}
	for _, name := range candidates {
		if len(text) >= len(name) && strings.EqualFold(text[:len(name)], name) {
			return strings.TrimSpace(text[len(name):])
		}
	}
	return text
}
