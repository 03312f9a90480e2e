// Editing a message: PUT /v1/messages/{messageId}, as the messaging spec describes it.

package webextest

import (
	"net/http"
)

// maxMessageEdits is how often a message may be edited ("not more than 10 times").
const maxMessageEdits = 10

// editInput is the body of PUT /v1/messages/{messageId}.
type editInput struct {
	RoomID   string `json:"roomId"`
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

// PUT /v1/messages/{messageId}: only the author may edit a message, at most 10 times, and
// never one with files or a card (400, "not currently supported"). The body's roomId must be
// the message's room, and it needs text or markdown. Webex's messages/updated webhook is not
// simulated.
func (s *Sim) handleEditMessage(q *request) reply {
	var in editInput
	if err := decodeJSON(q.body, &in); err != nil {
		return errReply(err)
	}
	m, ok := s.messages[q.params[0]]
	switch {
	case !ok || !s.visibleLocked(q.who.personID, m):
		return errReply(failf(http.StatusNotFound, "Could not find a message with the given ID."))
	case m.PersonID != q.who.personID:
		return errReply(failf(http.StatusForbidden, "Only the author may edit this message."))
	case len(m.Files) > 0 || len(m.Attachments) > 0:
		return errReply(failf(http.StatusBadRequest, "Editing a message with files or attachments is currently unsupported."))
	case s.edits[m.ID] >= maxMessageEdits:
		return errReply(failf(http.StatusBadRequest, "The edit limit of %d edits for this message has been reached.", maxMessageEdits))
	case in.RoomID != m.RoomID:
		return errReply(failf(http.StatusBadRequest, "roomId is not the room of the message."))
	case in.Text == "" && in.Markdown == "":
		return errReply(failf(http.StatusBadRequest, "An edit needs text or markdown."))
	case len(in.Text) > MaxMessageBytes:
		return errReply(failf(http.StatusBadRequest, "text is %d bytes long; the limit is %d.", len(in.Text), MaxMessageBytes))
	case len(in.Markdown) > MaxMessageBytes:
		return errReply(failf(http.StatusBadRequest, "markdown is %d bytes long; the limit is %d.", len(in.Markdown), MaxMessageBytes))
	}
	m.Text, m.Markdown, m.HTML, m.MentionedPeople = in.Text, in.Markdown, "", nil
	if in.Markdown != "" {
		plain, htmlText, mentioned := s.renderMarkdownLocked(in.Markdown)
		if m.Text == "" {
			m.Text = plain
		}
		m.HTML = "<p>" + htmlText + "</p>"
		m.MentionedPeople = mentioned
	}
	s.edits[m.ID]++
	now := q.now
	m.Updated = &now
	s.changedLocked()
	return jsonReply(withContentURLs(m.clone(), q.base))
}
