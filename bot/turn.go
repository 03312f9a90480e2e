package bot

import (
	"encoding/json"
	"fmt"
	"time"
)

// Turn is the processing of one event: who acted, where to answer, and the messages the bot
// sends because of it. Messages are not sent directly: they are collected with keys derived
// from the event, and enqueued durably when the event is finished, so that processing an
// event again after a crash never sends its messages twice.
type Turn struct {
	Event    Event
	Actor    Person
	RoomID   string // where the event happened
	ThreadID string // the root message replies go under
	// CardID is the message whose card was submitted, for a card submission.
	CardID string
	// Files are the content URLs of the files on the message, for a message.
	Files []string
	Now   time.Time
	// BatchID is the batch a row's attach belongs to, for the turn of a batch's row.
	BatchID string

	out  []Outgoing
	next int
}

// message returns m as an outbox entry with the turn's next key, without collecting it.
func (t *Turn) message(m OutMessage) Outgoing {
	t.next++
	return Outgoing{Key: turnKey(t.Event.Key, t.next), Message: m, Created: t.Now}
}

// Reply answers in the turn's thread. Long text is split into several messages.
func (t *Turn) Reply(markdown string) {
	for _, part := range splitMarkdown(markdown, MaxMessageBytes) {
		t.out = append(t.out, t.message(OutMessage{RoomID: t.RoomID, ParentID: t.ThreadID, Markdown: part}))
	}
}

// Replyf answers in the turn's thread with a formatted text.
func (t *Turn) Replyf(format string, args ...any) {
	t.Reply(fmt.Sprintf(format, args...))
}

// Tell sends the actor a direct message, for what only they should read; when their email
// is unknown, it answers in the turn's thread instead.
func (t *Turn) Tell(markdown string) {
	email := t.Actor.Email()
	if email == "" {
		t.Reply(markdown)
		return
	}
	for _, part := range splitMarkdown(markdown, MaxMessageBytes) {
		t.out = append(t.out, t.message(OutMessage{ToPersonEmail: email, Markdown: part}))
	}
}

// ReplyFile answers in the turn's thread with a file and a short text.
func (t *Turn) ReplyFile(markdown string, f File) {
	t.out = append(t.out, t.message(OutMessage{
		RoomID: t.RoomID, ParentID: t.ThreadID, Markdown: trimMarkdown(markdown, MaxMessageBytes), File: f,
	}))
}

// ReplyCard answers in the turn's thread with a card; fallback is shown by clients that
// cannot render it.
func (t *Turn) ReplyCard(fallback string, card json.RawMessage) {
	t.out = append(t.out, t.message(OutMessage{
		RoomID: t.RoomID, ParentID: t.ThreadID, Markdown: trimMarkdown(fallback, MaxMessageBytes), Card: card,
	}))
}

// LeaveCardThread makes the turn's replies go to the room rather than under the submitted
// card, when the card is a thread's root: a card that can no longer act is deleted, and a
// reply cannot name a deleted message as its parent.
func (t *Turn) LeaveCardThread() {
	if t.CardID != "" && t.ThreadID == t.CardID {
		t.ThreadID = ""
	}
}

// ReplaceCard deletes the submitted card, which can no longer act (Webex cannot edit a
// card), and posts outcome, one line, in its place, unless outcome is empty. The deletion
// goes through the outbox like a message, so a restart or a Webex error does not lose it.
func (t *Turn) ReplaceCard(outcome string) {
	if t.CardID == "" {
		if outcome != "" {
			t.Reply(outcome)
		}
		return
	}
	t.LeaveCardThread()
	if outcome != "" {
		t.Reply(outcome)
	}
	t.out = append(t.out, deleteCard(t.CardID, t.Now))
}

// deleteCard is the outbox entry that deletes a card message of the bot's. Its key is the
// message's, so that the deletion is enqueued once whatever asks for it.
func deleteCard(messageID string, now time.Time) Outgoing {
	return Outgoing{Key: deleteKey(messageID), DeleteMessageID: messageID, Created: now}
}

// Messages returns what the turn has collected so far (for tests and logs).
func (t *Turn) Messages() []OutMessage {
	msgs := make([]OutMessage, len(t.out))
	for i, o := range t.out {
		msgs[i] = o.Message
	}
	return msgs
}
