package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// runOutbox sends what waits in the outbox until ctx ends: up to SendConcurrency messages at
// once, one at a time per destination (a space, or a person for a direct message), in the
// order they were enqueued. A message that fails for a while holds back the later messages
// of its destination only. Before a lane's head is sent, the lane is claimed in the store,
// which hands out the head it holds: the lane's first waiting message, whoever enqueued it.
// New messages are read from the store after the last one known (OutboxAfter), never the
// whole outbox again; every Config.ScanEvery, the heads of the due lanes no one holds are read too
// (another replica's messages, or those of one that died), at most scanLimit of them.
//
// SendConcurrency bounds the calls to Webex under way (callSlots): a sender takes a slot just
// before its call and frees it once Webex answered, while its outcome is committed, so that
// the next message (of another lane) goes out during that commit. Its own lane's next message
// waits for the commit, so that a crash never leaves a later message sent and an earlier one
// to send again. The loop claims ahead: it keeps up to SendConcurrency claimed heads waiting
// for a slot in senders' hands, so that a slot freed is taken at once, not after the loop
// heard of it and claimed the next lane. Three times as many senders as slots run, so that
// those waiting for a slot and those recording an outcome leave enough to call.
func (b *Bot) runOutbox(ctx context.Context) {
	jobs := make(chan queuedMessage, b.cfg.SendConcurrency)
	results := make(chan sentResult)
	// started hears of each job handed whose wait for a slot ended (its call starts, or it
	// gave up waiting). It has room for every job handed and not yet heard of (at most
	// SendConcurrency), so a sender never waits for the loop to tell it.
	started := make(chan struct{}, b.cfg.SendConcurrency)
	slots := make(callSlots, b.cfg.SendConcurrency)
	var senders sync.WaitGroup
	for range 3 * b.cfg.SendConcurrency {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for job := range jobs {
				o, left := b.send(job.ctx, job.o, slots, func() { started <- struct{}{} })
				job.forget()
				tell(ctx, results, sentResult{lane: job.lane, o: o, left: left})
			}
		}()
	}
	defer func() {
		close(jobs)
		senders.Wait()
	}()

	waiting := 0               // the messages handed out that wait for a slot
	probe := map[string]bool{} // lanes emptied in memory, which the store may hold more of
	scan := b.timers.After(b.cfg.ScanEvery)
	for {
		if wakes := b.outWakes.Load(); wakes != b.outRead.Load() {
			b.readNewOutgoing(ctx)
			b.outRead.Store(wakes)
			b.progressed()
		}
		for {
			handed, again := b.dispatchMessages(ctx, jobs, b.cfg.SendConcurrency-waiting, probe)
			waiting += handed
			if !again { // else a probed lane's head, or the next of a lane that lost its head, may be ready
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-b.wakeOut:
		case <-scan:
			b.scanOutbox(ctx)
			scan = b.timers.After(b.cfg.ScanEvery)
		case <-started:
			waiting--
		case r := <-results:
			if r.left {
				// Marked before the lane can empty in memory, so that Settle never sees it
				// empty and not yet probed (a lane that still holds messages is not asked).
				b.markProbe(probe, r.lane)
				b.outbox.finish(r.lane, r.o.Seq)
			} else {
				b.outbox.retryHead(r.lane, r.o.Key, struct{}{}, r.o.NotBefore)
			}
			b.progressed()
		case <-b.timerFor(b.outbox.nextDue()):
		}
	}
}

// callSlots bounds the Webex calls the outbox has under way: one slot a call.
type callSlots chan struct{}

// take waits for a slot; it returns ctx's error if ctx ends first.
func (s callSlots) take(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for a slot to send: %w", context.Cause(ctx))
	}
}

// free gives a slot back.
func (s callSlots) free() { <-s }

// dispatchMessages claims the lanes of up to free ready heads of the in-memory outbox, with
// the lanes to probe, in one store call, and hands the heads the store gives to the senders;
// it returns how many it handed. A probed lane's head goes in the in-memory outbox (its lane
// is claimed now: it is to be dispatched at once). A lane the store does not hand out (sent,
// not due, another replica's, or being claimed by another at that moment) loses its head
// from memory and is probed by the next call once it is empty here; its holder probes it
// when done, and the scan finds it again when it is due and free. A lane to probe counts as
// work in flight (markProbe) until this call has put the heads found in memory. again
// reports either: there may be more ready to dispatch. When the store cannot be asked, the
// heads wait RetryBase.
func (b *Bot) dispatchMessages(ctx context.Context, jobs chan<- queuedMessage, free int, probe map[string]bool) (handed int, again bool) {
	now := b.clock.Now()
	taken := map[string]laneItem[struct{}]{}
	var lanes []string
	for len(taken) < free {
		lane, it, ok := b.outbox.take(now)
		if !ok {
			break
		}
		taken[lane] = it
		lanes = append(lanes, lane)
	}
	for lane := range probe {
		if _, ok := taken[lane]; !ok && !b.outbox.has(lane) {
			lanes = append(lanes, lane)
		}
	}
	if marked := len(probe); marked > 0 {
		clear(probe)
		defer func() {
			// After the heads found are in memory: Settle sees them, or no more work.
			b.addInflight(-marked)
			b.progressed()
		}()
	}
	if len(lanes) == 0 {
		return 0, false
	}
	heads, err := b.db.ClaimLanes(ctx, lanes, b.owner, now, now.Add(laneLease))
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("claim outbox lanes", "lanes", len(lanes), "err", err)
		}
		for lane, it := range taken {
			b.outbox.retryHead(lane, it.key, struct{}{}, now.Add(b.cfg.RetryBase))
		}
		return 0, false
	}
	for _, h := range heads {
		lane := h.Lane()
		if _, ok := taken[lane]; !ok {
			b.outbox.push(lane, h.Key, h.Seq, struct{}{}, h.NotBefore, h.Created)
			again = true
			continue
		}
		delete(taken, lane)
		workCtx, forget := b.keeper.hold(ctx, claimLane, lane)
		jobs <- queuedMessage{lane: lane, o: h, ctx: workCtx, forget: forget}
		handed++
	}
	for lane, it := range taken {
		b.log.Info("outbox lane not handed out by the store (sent, not due, another replica's, or being claimed by another at that moment); probed once it is empty here, then left to its holder and the scan", "lane", lane, "key", it.key)
		// On PostgreSQL a claim skips a lane another transaction is claiming at that
		// moment, which may not have seen this lane's head yet: the lane is asked again at
		// once rather than left to the next scan.
		b.markProbe(probe, lane)
		b.outbox.done(lane)
	}
	if len(taken) > 0 {
		b.progressed() // the outbox in memory shrank: Settle looks again
	}
	return handed, again || len(taken) > 0
}

// scanOutbox puts the heads of the due lanes no one holds in the in-memory outbox (those it
// has already are skipped).
func (b *Bot) scanOutbox(ctx context.Context) {
	scanStore(ctx, b, "outbox lanes", b.db.DueLanes, func(h Outgoing) bool {
		return b.outbox.push(h.Lane(), h.Key, h.Seq, struct{}{}, h.NotBefore, h.Created)
	})
}

// tell sends v on ch, unless ctx ends first (the loop that reads ch has stopped).
func tell[T any](ctx context.Context, ch chan<- T, v T) {
	select {
	case ch <- v:
	case <-ctx.Done():
	}
}

// queuedMessage is a message handed to a sender, its lane, the context of its sending
// (cancelled if the claim on the lane is lost) and the function that forgets the claim.
type queuedMessage struct {
	lane   string
	o      Outgoing
	ctx    context.Context
	forget func()
}

// sentResult is a sender's report: the message left the outbox (sent or given up) or this
// process's hands (the lane was lost), or stays as o now is, until o.NotBefore.
type sentResult struct {
	lane string
	o    Outgoing
	left bool
}

// readNewOutgoing puts the messages enqueued since the last one known in the in-memory
// outbox. When the store cannot be read, the next wake tries again.
func (b *Bot) readNewOutgoing(ctx context.Context) {
	out, err := b.db.OutboxAfter(ctx, b.outSeq)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("read the new messages of the outbox", "after_seq", b.outSeq, "err", err)
		}
		return
	}
	b.queueOutgoing(out)
}

// queueOutgoing puts messages read from the store in the in-memory outbox.
func (b *Bot) queueOutgoing(out []Outgoing) {
	for _, o := range out {
		b.outbox.push(o.Lane(), o.Key, o.Seq, struct{}{}, o.NotBefore, o.Created)
		b.outSeq = max(b.outSeq, o.Seq)
	}
}

// Lane returns the outbox lane of a message: where it goes (a space, or a person), or, for a
// deletion, the message it deletes. The messages of a lane are sent one at a time, in order.
func (o Outgoing) Lane() string {
	if o.DeleteMessageID != "" {
		return "delete|" + o.DeleteMessageID
	}
	return o.Message.RoomID + "|" + o.Message.ToPersonEmail
}

// wakeOutbox tells the outbox loop that messages were committed to the store: it reads
// them, and Settle waits until it has.
func (b *Bot) wakeOutbox() {
	b.outWakes.Add(1)
	wake(b.wakeOut)
}

// send waits for a slot (calling started once its wait ended, whether the call starts or
// ctx ended first), sends one message, or deletes one (Outgoing.DeleteMessageID), frees the
// slot once Webex answered, and records the outcome. It reports whether the entry left the
// outbox (done or given up), and the entry as it now is (its attempts, when to try again).
func (b *Bot) send(ctx context.Context, o Outgoing, slots callSlots, started func()) (Outgoing, bool) {
	sent, err := b.callInSlot(ctx, o, slots, started)
	now := b.clock.Now()
	if err == nil {
		// Recorded even when the bot is stopping: Webex has the message.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if id, ok := approvalCardRequest(o); ok && sent.ID != "" {
			b.recordApprovalCard(recordCtx, id, sent.ID)
		}
		if err := b.db.FinishLane(recordCtx, o.Key, b.owner, now); err != nil {
			b.log.Error("mark message sent; it may be sent again", "key", o.Key, "err", err)
		}
		return o, true
	}
	if ctx.Err() != nil {
		if !errors.Is(context.Cause(ctx), ErrLeaseLost) {
			b.giveBack(ctx, "the lane of message "+o.Key, func(ctx context.Context) error { return b.db.ReleaseLane(ctx, o, b.owner) })
		}
		return o, false
	}
	o.Attempts++
	o.LastError = err.Error()
	// An unknown outcome is retried: a reply sent twice is better than a reply lost.
	retry := isTemporary(err) || errors.Is(err, ErrOutcomeUnknown)
	if retry && o.Attempts < b.cfg.MaxAttempts {
		o.NotBefore = now.Add(b.backoff(o.Attempts))
		b.log.Warn("message not sent; will retry", "key", o.Key, "attempt", o.Attempts, "retry_at", o.NotBefore, "err", err)
		// Saved even when the bot is stopping meanwhile: its claim must not outlive it.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := b.db.ReleaseLane(recordCtx, o, b.owner); err != nil {
			b.log.Error("save message for retry", "key", o.Key, "err", err)
			// A lane lost is another replica's now.
			return o, errors.Is(err, ErrLeaseLost)
		}
		return o, false
	}
	b.log.Error("message given up", "key", o.Key, "room_id", o.Message.RoomID, "to", o.Message.ToPersonEmail, "attempts", o.Attempts, "err", err)
	notice := b.undelivered(ctx, o, err)
	if err := b.db.DeadLetterLane(ctx, o, b.owner, now, notice); err != nil {
		b.log.Error("dead-letter message", "key", o.Key, "err", err)
	}
	if len(notice) > 0 {
		b.wakeOutbox()
	}
	return o, true
}

// callInSlot makes o's call to Webex in one of slots, taken for the call alone.
func (b *Bot) callInSlot(ctx context.Context, o Outgoing, slots callSlots, started func()) (Message, error) {
	err := slots.take(ctx)
	started()
	if err != nil {
		return Message{}, err
	}
	defer slots.free()
	if o.DeleteMessageID != "" {
		err := b.webex.DeleteMessage(ctx, o.DeleteMessageID)
		if apiStatus(err) == 404 { // deleted already, by an earlier attempt whose answer was lost
			err = nil
		}
		return Message{}, err
	}
	return b.webex.Send(ctx, o.Message)
}

// approvalCardRequest returns the id of the request whose approval card o carries (the
// first one, a reminder or the half-way reminder).
func approvalCardRequest(o Outgoing) (string, bool) {
	if o.Message.Card == nil {
		return "", false
	}
	if what := requestWhat(o); what == whatApproval || what == whatHalfwayAdmin || strings.HasPrefix(what, whatReminder) {
		return o.RequestID, true
	}
	return "", false
}

// recordApprovalCard remembers the message of a request's approval card, so that it is
// deleted when the request no longer waits; when it was decided meanwhile, the card is
// deleted at once.
func (b *Bot) recordApprovalCard(ctx context.Context, requestID, messageID string) {
	decided := false
	_, err := b.db.UpdateRequest(ctx, requestID, func(r *Request) ([]Outgoing, error) {
		if decided = r.State != StateAwaitingApproval; decided {
			return []Outgoing{deleteCard(messageID, b.clock.Now())}, nil
		}
		r.ApprovalCards = append(r.ApprovalCards, messageID)
		return nil, nil
	})
	if err != nil {
		b.log.Error("record an approval card; it will not be deleted when the request ends", "request", requestID, "message_id", messageID, "err", err)
	}
	if decided {
		b.wakeOutbox()
	}
}

// approvalCardDeletions deletes the approval cards of a request that no longer waits.
func approvalCardDeletions(r Request, now time.Time) []Outgoing {
	out := make([]Outgoing, len(r.ApprovalCards))
	for i, id := range r.ApprovalCards {
		out[i] = deleteCard(id, now)
	}
	return out
}

// undelivered returns the notice that tells a request's partner thread that a card about the
// request to someone else (the approval card, its reminder, the Full Admin request) could not
// be delivered, so that the partner does not wait for an answer that cannot come. Plain
// notes (that a request expired or was withdrawn) and messages to the thread get none.
func (b *Bot) undelivered(ctx context.Context, o Outgoing, sendErr error) []Outgoing {
	if o.RequestID == "" || o.Message.ToPersonEmail == "" || o.Message.Card == nil {
		return nil
	}
	r, err := b.db.Request(ctx, o.RequestID)
	if err != nil {
		b.log.Error("find the request of an undelivered message", "key", o.Key, "err", err)
		return nil
	}
	next := fmt.Sprintf("`status %s` shows the request.", r.ID)
	if r.State == StateAwaitingApproval {
		next = fmt.Sprintf("`remind %s` sends the card again, `cancel %s` withdraws the request; to ask another admin, cancel it and attach again with their address.", r.ID, r.ID)
	}
	n := b.notice(r, whatUndelivered+requestWhat(o), fmt.Sprintf(
		"I could not deliver a card about attach **%s** to %s. %s\n\nCheck that this address has a Webex account. %s",
		r.ID, Literal(o.Message.ToPersonEmail), Explain(sendErr), next))
	return []Outgoing{n}
}
