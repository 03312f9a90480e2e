package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// runOutbox sends what waits in the durable outbox, in order, until ctx ends. A message that
// fails for a while holds back the later messages of the same space, so replies never
// arrive out of order.
func (b *Bot) runOutbox(ctx context.Context) {
	for {
		var next time.Time
		out, err := b.db.Outbox(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Error("read the outbox", "err", err)
			next = b.clock.Now().Add(b.cfg.RetryBase)
		}
		held := map[string]bool{}
		for _, o := range out {
			if ctx.Err() != nil {
				return
			}
			dest := o.Message.RoomID + "|" + o.Message.ToPersonEmail
			if held[dest] {
				continue
			}
			if now := b.clock.Now(); o.NotBefore.After(now) {
				held[dest] = true
				if next.IsZero() || o.NotBefore.Before(next) {
					next = o.NotBefore
				}
				continue
			}
			if !b.send(ctx, o) {
				held[dest] = true
				next = b.clock.Now() // look again: its retry time is in the store now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-b.wakeOut:
		case <-b.timerFor(next):
		}
	}
}

// send sends one message and records the outcome. It reports whether the message left the
// outbox (sent or given up).
func (b *Bot) send(ctx context.Context, o Outgoing) bool {
	defer b.progressed()
	_, err := b.webex.Send(ctx, o.Message)
	now := b.clock.Now()
	if err == nil {
		// Recorded even when the bot is stopping: Webex has the message.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := b.db.MarkSent(recordCtx, o.Key, now); err != nil {
			b.log.Error("mark message sent; it may be sent again", "key", o.Key, "err", err)
		}
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	o.Attempts++
	o.LastError = err.Error()
	// An unknown outcome is retried: a reply sent twice is better than a reply lost.
	retry := isTemporary(err) || errors.Is(err, ErrOutcomeUnknown)
	if retry && o.Attempts < b.cfg.MaxAttempts {
		o.NotBefore = now.Add(b.backoff(o.Attempts))
		b.log.Warn("message not sent; will retry", "key", o.Key, "attempt", o.Attempts, "retry_at", o.NotBefore, "err", err)
		if err := b.db.SaveOutgoing(ctx, o); err != nil {
			b.log.Error("save message for retry", "key", o.Key, "err", err)
		}
		return false
	}
	b.log.Error("message given up", "key", o.Key, "room_id", o.Message.RoomID, "to", o.Message.ToPersonEmail, "attempts", o.Attempts, "err", err)
	notice := b.undelivered(ctx, o, err)
	if err := b.db.DeadLetterOutgoing(ctx, o, now, notice); err != nil {
		b.log.Error("dead-letter message", "key", o.Key, "err", err)
	}
	if len(notice) > 0 {
		wake(b.wakeOut)
	}
	return true
}

// undelivered returns the notice that tells a request's partner thread that a card about the
// request to someone else (the approval card, its reminder, the Full Admin request) could not
// be delivered, so that the partner does not wait for an answer that cannot come. Plain
// notes (that a request expired or was withdrawn) and messages to the thread get none.
func (b *Bot) undelivered(ctx context.Context, o Outgoing, sendErr error) []Outgoing {
	rest, ok := strings.CutPrefix(o.Key, "req/")
	if !ok || o.Message.ToPersonEmail == "" || o.Message.Card == nil {
		return nil
	}
	id, _, _ := strings.Cut(rest, "/")
	r, err := b.db.Request(ctx, id)
	if err != nil {
		b.log.Error("find the request of an undelivered message", "key", o.Key, "err", err)
		return nil
	}
	next := fmt.Sprintf("`status %s` shows the request.", r.ID)
	if r.State == StateAwaitingApproval {
		next = fmt.Sprintf("`remind %s` sends the card again, `cancel %s` withdraws the request; to ask another admin, cancel it and attach again with their address.", r.ID, r.ID)
	}
	n := b.notice(r, "undelivered/"+strings.TrimPrefix(rest, id+"/"), fmt.Sprintf(
		"I could not deliver a card about attach **%s** to %s. %s\n\nCheck that this address has a Webex account. %s",
		r.ID, o.Message.ToPersonEmail, Explain(sendErr), next))
	return []Outgoing{n}
}
