// Card actions: the attachment actions a person submits on an Adaptive Card (Click, POST
// /v1/attachment/actions) and reading them back (GET /v1/attachment/actions/{id}).

package webextest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// AttachmentAction is a card submission as GET /v1/attachment/actions/{id} answers it.
type AttachmentAction struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"` // always "submit"
	MessageID string         `json:"messageId"`
	PersonID  string         `json:"personId"`
	RoomID    string         `json:"roomId"`
	Inputs    map[string]any `json:"inputs"`
	Created   time.Time      `json:"created"`
}

func (a AttachmentAction) clone() AttachmentAction {
	a.Inputs = cloneJSON(a.Inputs).(map[string]any)
	return a
}

// cloneJSON deep-copies a decoded JSON value.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}

// cloneInputs copies a caller's inputs through JSON, which also gives them the types a client
// decoding Webex's answer sees (numbers are float64).
func cloneInputs(in map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if len(in) == 0 {
		return out, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("inputs are not JSON: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("inputs are not JSON: %w", err)
	}
	return out, nil
}

// AttachmentAction returns a card submission by id.
func (s *Sim) AttachmentAction(id string) (AttachmentAction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneOf(s.actions, id)
}

// Click submits the card of message messageID as the person personID, with the given inputs
// (the card's inputs merged with the Submit action's data), and delivers the
// attachmentActions/created event to the webhooks of the card's author. The person must be in
// the message's room. Delivery failures are reported as for Say.
func (s *Sim) Click(ctx context.Context, personID, messageID string, inputs map[string]any) (AttachmentAction, error) {
	return s.click(ctx, personID, messageID, inputs, false)
}

// ClickUnseen is Click by a person who is not in the message's room, such as an outsider
// pressing Approve on the card sent to a customer admin. Webex itself would not let them;
// ClickUnseen exists to show that the bot checks who clicked instead of relying on that.
func (s *Sim) ClickUnseen(ctx context.Context, personID, messageID string, inputs map[string]any) (AttachmentAction, error) {
	return s.click(ctx, personID, messageID, inputs, true)
}

// click is Click, or ClickUnseen when unseen is true.
func (s *Sim) click(ctx context.Context, personID, messageID string, inputs map[string]any, unseen bool) (AttachmentAction, error) {
	inputs, err := cloneInputs(inputs)
	if err != nil {
		return AttachmentAction{}, err
	}
	s.mu.Lock()
	a, pend, err := s.createActionLocked(personID, messageID, inputs, unseen)
	s.mu.Unlock()
	if err != nil {
		return AttachmentAction{}, err
	}
	return a, deliveryError(s.deliver(ctx, pend))
}

// createActionLocked creates a card submission. inputs must be the Sim's own copy. unseen
// lets a person who cannot see the message submit it (ClickUnseen).
func (s *Sim) createActionLocked(personID, messageID string, inputs map[string]any, unseen bool) (AttachmentAction, []pending, error) {
	p, ok := s.people[personID]
	if !ok {
		return AttachmentAction{}, nil, failf(http.StatusNotFound, "No person %s.", personID)
	}
	m, ok := s.messages[messageID]
	switch {
	case !ok || (!unseen && !s.visibleLocked(personID, m)):
		return AttachmentAction{}, nil, failf(http.StatusNotFound, "Could not find a message with the given ID.")
	case len(m.Attachments) == 0:
		return AttachmentAction{}, nil, failf(http.StatusBadRequest, "Message %s has no card.", messageID)
	}
	a := &AttachmentAction{
		ID:        s.newIDInLocked(clusterOf(m.RoomID), KindAttachmentAction),
		Type:      "submit",
		MessageID: m.ID,
		PersonID:  p.ID,
		RoomID:    m.RoomID,
		Inputs:    inputs,
		Created:   s.nowLocked(),
	}
	s.actions[a.ID] = a
	s.pushLocked(m.PersonID, "cardAction", a.ID, p.ID, a.RoomID, a.Created)
	s.changedLocked()
	data := EventData{ID: a.ID, Type: a.Type, MessageID: a.MessageID, PersonID: a.PersonID, RoomID: a.RoomID, Created: a.Created}
	match := func(key, value string) bool {
		switch key {
		case "messageId":
			return value == a.MessageID
		case "personId":
			return value == a.PersonID
		case "roomId":
			return value == a.RoomID
		}
		return false
	}
	return a.clone(), s.eventsLocked(m.PersonID, "attachmentActions", "created", p.ID, data, match), nil
}

// POST /v1/attachment/actions {type:"submit", messageId, inputs}
func (s *Sim) handleCreateAction(q *request) reply {
	var in struct {
		Type      string         `json:"type"`
		MessageID string         `json:"messageId"`
		Inputs    map[string]any `json:"inputs"`
	}
	if err := decodeJSON(q.body, &in); err != nil {
		return errReply(err)
	}
	if in.Type != "submit" {
		return errReply(failf(http.StatusBadRequest, "type must be submit."))
	}
	if in.Inputs == nil {
		in.Inputs = map[string]any{}
	}
	a, pend, err := s.createActionLocked(q.who.personID, in.MessageID, in.Inputs, false)
	if err != nil {
		return errReply(err)
	}
	rep := jsonReply(a)
	rep.deliveries = pend
	return rep
}

// GET /v1/attachment/actions/{id}: 404 unless the caller is in the action's room.
func (s *Sim) handleGetAction(q *request) reply {
	a, ok := s.actions[q.params[0]]
	if ok {
		r := s.rooms[a.RoomID]
		ok = r != nil && slices.Contains(r.Members, q.who.personID)
	}
	if !ok {
		return errReply(failf(http.StatusNotFound, "Could not find an attachment action with the given ID."))
	}
	return jsonReply(a.clone())
}
