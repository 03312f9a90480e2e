package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// runInbox feeds due inbox events to a bounded pool of workers until ctx ends. The store is
// the queue: the loop re-reads it whenever an event arrives, a worker finishes, or a delayed
// retry comes due, so nothing waits in memory alone.
func (b *Bot) runInbox(ctx context.Context) {
	jobs := make(chan Event)
	results := make(chan handled, b.cfg.Workers)
	var workers sync.WaitGroup
	for range b.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for ev := range jobs {
				results <- handled{key: ev.Key, holdUntil: b.handle(ctx, ev)}
			}
		}()
	}
	defer func() {
		close(jobs)
		workers.Wait()
	}()

	inflight := map[string]bool{}
	held := map[string]time.Time{} // events whose outcome the store could not record
	for {
		var next time.Time
		events, err := b.db.Events(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Error("read the inbox", "err", err)
			next = b.clock.Now().Add(b.cfg.RetryBase)
		}
		now := b.clock.Now()
		for _, ev := range events {
			if inflight[ev.Key] {
				continue
			}
			notBefore := ev.NotBefore
			if until, ok := held[ev.Key]; ok {
				if !until.After(now) {
					delete(held, ev.Key)
				}
				notBefore = until
			}
			if notBefore.After(now) {
				if next.IsZero() || notBefore.Before(next) {
					next = notBefore
				}
				continue
			}
			if len(inflight) == b.cfg.Workers {
				break
			}
			inflight[ev.Key] = true
			b.addInflight(1)
			jobs <- ev
		}
		select {
		case <-ctx.Done():
			return
		case <-b.wakeInbox:
		case r := <-results:
			delete(inflight, r.key)
			if !r.holdUntil.IsZero() {
				held[r.key] = r.holdUntil
			}
		case <-b.timerFor(next):
		}
	}
}

func (b *Bot) addInflight(n int) {
	b.mu.Lock()
	b.inflight += n
	b.mu.Unlock()
}

// recordTimeout bounds recording the outcome of work that is done, which goes on when the
// bot is stopping (the store closes only after the workers have returned).
const recordTimeout = 5 * time.Second

// handled is a worker's report on one event: holdUntil is set when the store could not
// record the outcome, so that the event is not taken up again at once.
type handled struct {
	key       string
	holdUntil time.Time
}

// handle processes one event and records the outcome: finished with its replies, retried
// later, or given up with a notice to the space. When the store fails to record it, the
// event stays in the inbox and handle returns when to try it again.
func (b *Bot) handle(ctx context.Context, ev Event) (holdUntil time.Time) {
	defer func() {
		b.addInflight(-1)
		b.progressed()
	}()
	t, err := b.process(ctx, ev)
	now := b.clock.Now()
	if err == nil {
		// Recorded even when the bot is stopping: the work is done.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := b.db.FinishEvent(recordCtx, ev.Key, now, t.out); err != nil {
			b.log.Error("finish event; it will be processed again", "event", ev.Key, "err", err)
			return now.Add(b.cfg.RetryBase)
		}
		if len(t.out) > 0 {
			wake(b.wakeOut)
		}
		return time.Time{}
	}
	if ctx.Err() != nil {
		b.log.Info("event left in the inbox for the next start", "event", ev.Key)
		return time.Time{}
	}
	ev.Attempts++
	ev.LastError = err.Error()
	if isTemporary(err) && ev.Attempts < b.cfg.MaxAttempts {
		ev.NotBefore = now.Add(b.backoff(ev.Attempts))
		b.log.Warn("event failed; will retry", "event", ev.Key, "attempt", ev.Attempts, "retry_at", ev.NotBefore, "err", err)
		if err := b.db.SaveEvent(ctx, ev); err != nil {
			b.log.Error("save event for retry", "event", ev.Key, "err", err)
			return ev.NotBefore
		}
		return time.Time{}
	}
	b.log.Error("event given up", "event", ev.Key, "attempts", ev.Attempts, "err", err)
	var out []Outgoing
	if ev.RoomID != "" {
		notice := t.message(OutMessage{RoomID: ev.RoomID, ParentID: t.ThreadID, Markdown: failureNotice(err)})
		notice.Key = failedEventKey(ev.Key)
		out = append(out, notice)
	}
	if err := b.db.DeadLetterEvent(ctx, ev, now, out); err != nil {
		b.log.Error("dead-letter event", "event", ev.Key, "err", err)
		return now.Add(b.cfg.RetryBase)
	}
	if len(out) > 0 {
		wake(b.wakeOut)
	}
	return time.Time{}
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
