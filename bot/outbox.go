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
			if o.DeleteMessageID != "" {
				dest = "delete|" + o.DeleteMessageID
			}
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

// send sends one message, or deletes one (Outgoing.DeleteMessageID), and records the
// outcome. It reports whether the entry left the outbox (done or given up).
func (b *Bot) send(ctx context.Context, o Outgoing) bool {
	defer b.progressed()
	var err error
	var sent Message
	if o.DeleteMessageID != "" {
		err = b.webex.DeleteMessage(ctx, o.DeleteMessageID)
		if apiStatus(err) == 404 { // deleted already, by an earlier attempt whose answer was lost
			err = nil
		}
	} else {
		sent, err = b.webex.Send(ctx, o.Message)
	}
	now := b.clock.Now()
	if err == nil {
		// Recorded even when the bot is stopping: Webex has the message.
		recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if id, ok := approvalCardRequest(o); ok && sent.ID != "" {
			b.recordApprovalCard(recordCtx, id, sent.ID)
		}
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
		wake(b.wakeOut)
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
