// Messages: Say and Reply as a person, POST/GET/DELETE /v1/messages as the bot, who sees
// which message, and the webhook and websocket events a new message raises.

package webextest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxMessageBytes is the most text, and the most markdown, Webex accepts in one message.
const MaxMessageBytes = 7439

// CardContentType is the content type of an Adaptive Card attachment.
const CardContentType = "application/vnd.microsoft.card.adaptive"

// Message is a Webex message as GET /v1/messages/{messageId} answers it.
type Message struct {
	ID              string       `json:"id"`
	RoomID          string       `json:"roomId"`
	RoomType        string       `json:"roomType"`
	ParentID        string       `json:"parentId,omitempty"`
	ToPersonID      string       `json:"toPersonId,omitempty"`
	ToPersonEmail   string       `json:"toPersonEmail,omitempty"`
	PersonID        string       `json:"personId"`
	PersonEmail     string       `json:"personEmail"`
	Text            string       `json:"text"`
	Markdown        string       `json:"markdown,omitempty"`
	HTML            string       `json:"html,omitempty"`
	Files           []string     `json:"files,omitempty"`
	MentionedPeople []string     `json:"mentionedPeople,omitempty"`
	Attachments     []Attachment `json:"attachments,omitempty"`
	Created         time.Time    `json:"created"`
	Updated         *time.Time   `json:"updated,omitempty"` // the last edit
}

func (m Message) clone() Message {
	m.Files = slices.Clone(m.Files)
	m.MentionedPeople = slices.Clone(m.MentionedPeople)
	m.Attachments = slices.Clone(m.Attachments)
	for i := range m.Attachments {
		m.Attachments[i].Content = bytes.Clone(m.Attachments[i].Content)
	}
	return m
}

// Attachment is a message's card: contentType CardContentType and the card's JSON.
type Attachment struct {
	ContentType string          `json:"contentType"`
	Content     json.RawMessage `json:"content"`
}

// Messages returns the messages of a room, oldest first (deleted ones excluded).
func (s *Sim) Messages(roomID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var msgs []Message
	for _, id := range s.messageOrder {
		if m, ok := s.messages[id]; ok && m.RoomID == roomID {
			msgs = append(msgs, m.clone())
		}
	}
	return msgs
}

// DirectMessages returns the messages of the direct room of two people, oldest first; none
// when they have no direct room.
func (s *Sim) DirectMessages(a, b string) []Message {
	id, ok := s.DirectRoom(a, b)
	if !ok {
		return nil
	}
	return s.Messages(id)
}

// Message returns a message by id.
func (s *Sim) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneOf(s.messages, id)
}

// Say posts text as the person personID in roomID, as a Webex client would, and delivers the
// resulting messages/created event to the bot's webhooks. In a group room (unless the person
// is the bot) the message mentions the bot: its text starts with the bot's display name,
// mentionedPeople holds the bot, and its html has the spark-mention. Pass text without the
// mention.
//
// The message is created even when a delivery fails; the error then says which delivery
// failed (a transport error or a non-2xx answer). See Deliveries for every delivery.
func (s *Sim) Say(ctx context.Context, personID, roomID, text string) (Message, error) {
	return s.say(ctx, personID, roomID, "", text)
}

// Reply is Say in the thread of parentID, a root message.
func (s *Sim) Reply(ctx context.Context, personID, parentID, text string) (Message, error) {
	s.mu.Lock()
	parent, ok := s.messages[parentID]
	roomID := ""
	if ok {
		roomID = parent.RoomID
	}
	s.mu.Unlock()
	if !ok {
		return Message{}, fmt.Errorf("no message %s", parentID)
	}
	return s.say(ctx, personID, roomID, parentID, text)
}

func (s *Sim) say(ctx context.Context, personID, roomID, parentID, text string) (Message, error) {
	s.mu.Lock()
	m, pend, err := s.sayLocked(personID, roomID, parentID, text, nil)
	s.mu.Unlock()
	if err != nil {
		return Message{}, err
	}
	return m, deliveryError(s.deliver(ctx, pend))
}

// sayLocked creates a person's message, with the file f attached unless it is nil.
func (s *Sim) sayLocked(personID, roomID, parentID, text string, f *File) (Message, []pending, error) {
	p, ok := s.people[personID]
	if !ok {
		return Message{}, nil, fmt.Errorf("no person %s", personID)
	}
	r, ok := s.rooms[roomID]
	switch {
	case !ok:
		return Message{}, nil, fmt.Errorf("no room %s", roomID)
	case !slices.Contains(r.Members, personID):
		return Message{}, nil, fmt.Errorf("%s is not in the room %q", p.DisplayName, r.Title)
	}
	if err := s.checkParentLocked(parentID, r.ID); err != nil {
		return Message{}, nil, err
	}
	m := &Message{
		RoomID:      r.ID,
		RoomType:    r.Type,
		ParentID:    parentID,
		PersonID:    p.ID,
		PersonEmail: p.Emails[0],
		Text:        text,
	}
	if bot := s.people[BotID]; r.Type == RoomTypeGroup && personID != BotID && bot != nil {
		m.Text = bot.DisplayName + " " + text
		m.MentionedPeople = []string{BotID}
		m.HTML = "<p>" + sparkMention(BotID, bot.DisplayName) + " " + html.EscapeString(text) + "</p>"
	}
	if f != nil {
		m.Files = []string{s.storeContentLocked(r.ID, upload(*f))}
	}
	s.storeMessageLocked(m)
	return m.clone(), s.messageEventsLocked(m, r), nil
}

// checkParentLocked checks a parentId: a root message of the same room ("" is no parent).
func (s *Sim) checkParentLocked(parentID, roomID string) error {
	if parentID == "" {
		return nil
	}
	parent, ok := s.messages[parentID]
	switch {
	case !ok || parent.RoomID != roomID:
		return failf(http.StatusBadRequest, "Invalid parentId: no message %s in this room.", parentID)
	case parent.ParentID != "":
		// Webex wants a root message as the parent, never a reply.
		return failf(http.StatusBadRequest, "Invalid parentId: message %s is a reply, not a root message.", parentID)
	}
	return nil
}

// storeMessageLocked gives m an id and a creation time and keeps it.
func (s *Sim) storeMessageLocked(m *Message) {
	m.ID = s.newIDInLocked(clusterOf(m.RoomID), KindMessage)
	m.Created = s.nowLocked()
	s.messages[m.ID] = m
	s.messageOrder = append(s.messageOrder, m.ID)
	s.changedLocked()
}

// messageEventsLocked returns the messages/created deliveries of a new message: to the bot's
// webhooks when the bot may see it (a direct room with the bot, or a group room where it is
// mentioned) and someone else wrote it, or the bot did and Options.DeliverOwnMessages is set.
// It also pushes the message's activity to the bot's websockets (see pushMessageLocked).
func (s *Sim) messageEventsLocked(m *Message, r *Room) []pending {
	s.pushMessageLocked(m, r)
	switch {
	case !slices.Contains(r.Members, BotID):
		return nil
	case m.PersonID == BotID && !s.opts.DeliverOwnMessages:
		return nil
	case m.PersonID != BotID && r.Type == RoomTypeGroup && !slices.Contains(m.MentionedPeople, BotID):
		return nil
	}
	data := EventData{
		ID: m.ID, RoomID: m.RoomID, RoomType: m.RoomType,
		PersonID: m.PersonID, PersonEmail: m.PersonEmail, Created: m.Created,
	}
	match := func(key, value string) bool {
		switch key {
		case "roomId":
			return value == m.RoomID
		case "roomType":
			return value == m.RoomType
		case "personId":
			return value == m.PersonID
		case "personEmail":
			return strings.EqualFold(value, m.PersonEmail)
		case "mentionedPeople":
			for id := range strings.SplitSeq(value, ",") {
				if id == "me" {
					id = BotID
				}
				if slices.Contains(m.MentionedPeople, id) {
					return true
				}
			}
			return false
		case "hasFiles":
			return value == strconv.FormatBool(len(m.Files) > 0)
		case "hasAttachments":
			return value == strconv.FormatBool(len(m.Attachments) > 0)
		}
		return false
	}
	return s.eventsLocked(BotID, "messages", "created", m.PersonID, data, match)
}

// POST /v1/messages
func (s *Sim) handleCreateMessage(q *request) reply {
	in, err := decodeMessageInput(q)
	if err != nil {
		return errReply(err)
	}
	m, pend, err := s.createMessageLocked(s.people[q.who.personID], in)
	if err != nil {
		return errReply(err)
	}
	rep := jsonReply(withContentURLs(m, q.base))
	rep.deliveries = pend
	return rep
}

// visibleLocked reports whether a person may read a message: it must be in the room, and a
// bot sees a group room's messages only when it wrote them or is mentioned.
func (s *Sim) visibleLocked(personID string, m *Message) bool {
	r, ok := s.rooms[m.RoomID]
	if !ok || !slices.Contains(r.Members, personID) {
		return false
	}
	p := s.people[personID]
	if p != nil && p.Type == PersonTypeBot && r.Type == RoomTypeGroup {
		return m.PersonID == personID || slices.Contains(m.MentionedPeople, personID)
	}
	return true
}

// GET /v1/messages/{messageId}: 404 unless the caller may see the message.
func (s *Sim) handleGetMessage(q *request) reply {
	m, ok := s.messages[q.params[0]]
	if !ok || !s.visibleLocked(q.who.personID, m) {
		return errReply(failf(http.StatusNotFound, "Could not find a message with the given ID."))
	}
	return jsonReply(withContentURLs(m.clone(), q.base))
}

// DELETE /v1/messages/{messageId}: 204; only the author may delete a message.
func (s *Sim) handleDeleteMessage(q *request) reply {
	m, ok := s.messages[q.params[0]]
	switch {
	case !ok || !s.visibleLocked(q.who.personID, m):
		return errReply(failf(http.StatusNotFound, "Could not find a message with the given ID."))
	case m.PersonID != q.who.personID:
		return errReply(failf(http.StatusForbidden, "Only the author may delete this message."))
	}
	delete(s.messages, m.ID)
	s.changedLocked()
	return reply{status: http.StatusNoContent}
}
