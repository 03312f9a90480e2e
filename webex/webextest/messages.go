package webextest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The types of a Room.
const (
	RoomTypeDirect = "direct"
	RoomTypeGroup  = "group"
)

// MaxMessageBytes is the most text, and the most markdown, Webex accepts in one message.
const MaxMessageBytes = 7439

// CardContentType is the content type of an Adaptive Card attachment.
const CardContentType = "application/vnd.microsoft.card.adaptive"

// Room is a Webex space: a group room, or the direct room of two people.
type Room struct {
	ID      string
	Title   string
	Type    string // RoomTypeDirect or RoomTypeGroup
	Members []string
	Created time.Time
}

func (r Room) clone() Room {
	r.Members = slices.Clone(r.Members)
	return r
}

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

// AddRoom adds a group room with the given members and returns it.
func (s *Sim) AddRoom(title string, memberIDs ...string) (Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.addRoomLocked("", title, RoomTypeGroup, memberIDs)
	if err != nil {
		return Room{}, err
	}
	s.changedLocked()
	return r.clone(), nil
}

func (s *Sim) addRoomLocked(id, title, typ string, memberIDs []string) (*Room, error) {
	if id == "" {
		id = s.newIDLocked(KindRoom)
	}
	if _, ok := s.rooms[id]; ok {
		return nil, fmt.Errorf("room %s exists", id)
	}
	for _, m := range memberIDs {
		if _, ok := s.people[m]; !ok {
			return nil, fmt.Errorf("room %q: no person %s", title, m)
		}
	}
	r := &Room{ID: id, Title: title, Type: typ, Members: slices.Compact(slices.Clone(memberIDs)), Created: s.nowLocked()}
	s.rooms[id] = r
	s.roomOrder = append(s.roomOrder, id)
	return r, nil
}

// AddMember adds a person to a group room.
func (s *Sim) AddMember(roomID, personID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[roomID]
	switch {
	case !ok:
		return fmt.Errorf("no room %s", roomID)
	case r.Type != RoomTypeGroup:
		return fmt.Errorf("room %s is a direct room", roomID)
	}
	if _, ok := s.people[personID]; !ok {
		return fmt.Errorf("no person %s", personID)
	}
	if !slices.Contains(r.Members, personID) {
		r.Members = append(r.Members, personID)
		s.changedLocked()
	}
	return nil
}

// Room returns a room by id.
func (s *Sim) Room(id string) (Room, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[id]
	if !ok {
		return Room{}, false
	}
	return r.clone(), true
}

// Rooms returns every room, in the order they were created.
func (s *Sim) Rooms() []Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	rooms := make([]Room, 0, len(s.roomOrder))
	for _, id := range s.roomOrder {
		rooms = append(rooms, s.rooms[id].clone())
	}
	return rooms
}

func directKey(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// DirectRoom returns the id of the direct room of two people, if they have one.
func (s *Sim) DirectRoom(a, b string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.direct[directKey(a, b)]
	return id, ok
}

// EnsureDirectRoom returns the id of the direct room of two people, creating it if needed (as
// a message with toPersonEmail would).
func (s *Sim) EnsureDirectRoom(a, b string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pa, okA := s.people[a]
	pb, okB := s.people[b]
	switch {
	case !okA:
		return "", fmt.Errorf("no person %s", a)
	case !okB:
		return "", fmt.Errorf("no person %s", b)
	case a == b:
		return "", fmt.Errorf("a direct room needs two people")
	}
	r, err := s.ensureDirectLocked(pa, pb)
	if err != nil {
		return "", err
	}
	s.changedLocked()
	return r.ID, nil
}

func (s *Sim) ensureDirectLocked(a, b *Person) (*Room, error) {
	if id, ok := s.direct[directKey(a.ID, b.ID)]; ok {
		return s.rooms[id], nil
	}
	r, err := s.addRoomLocked("", b.DisplayName, RoomTypeDirect, []string{a.ID, b.ID})
	if err != nil {
		return nil, err
	}
	s.direct[directKey(a.ID, b.ID)] = r.ID
	return r, nil
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
	m, ok := s.messages[id]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// AttachmentAction returns a card submission by id.
func (s *Sim) AttachmentAction(id string) (AttachmentAction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.actions[id]
	if !ok {
		return AttachmentAction{}, false
	}
	return a.clone(), true
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
	m, pend, err := s.sayLocked(personID, roomID, parentID, text)
	s.mu.Unlock()
	if err != nil {
		return Message{}, err
	}
	return m, deliveryError(s.deliver(ctx, pend))
}

func (s *Sim) sayLocked(personID, roomID, parentID, text string) (Message, []pending, error) {
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
	s.storeMessageLocked(m)
	return m.clone(), s.messageEventsLocked(m, r), nil
}

// sparkMention returns the html of a person mention, as Webex clients write it.
func sparkMention(personID, name string) string {
	return `<spark-mention data-object-type="person" data-object-id="` + html.EscapeString(personID) + `">` +
		html.EscapeString(name) + `</spark-mention>`
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

// messageInput is the body of POST /v1/messages.
type messageInput struct {
	RoomID        string       `json:"roomId"`
	ToPersonID    string       `json:"toPersonId"`
	ToPersonEmail string       `json:"toPersonEmail"`
	ParentID      string       `json:"parentId"`
	Text          string       `json:"text"`
	Markdown      string       `json:"markdown"`
	Files         []string     `json:"files"`
	Attachments   []Attachment `json:"attachments"`
}

// decodeMessageInput reads a message body: JSON, or a form (multipart or urlencoded, as some
// SDKs send text-only messages).
func decodeMessageInput(q *request) (messageInput, error) {
	var in messageInput
	mediaType, params, err := mime.ParseMediaType(q.header.Get("Content-Type"))
	if err != nil {
		mediaType = "application/json"
	}
	var form url.Values
	switch mediaType {
	case "multipart/form-data":
		mf, err := multipart.NewReader(bytes.NewReader(q.body), params["boundary"]).ReadForm(maxBody)
		if err != nil {
			return in, failf(http.StatusBadRequest, "The multipart body could not be read: %v", err)
		}
		defer func() {
			// ReadForm keeps at most maxBody in memory; temporary files are unlikely but
			// removed here. A failure to remove one is of no concern to the caller.
			_ = mf.RemoveAll()
		}()
		form = url.Values(mf.Value)
		for _, fhs := range mf.File {
			for _, fh := range fhs {
				in.Files = append(in.Files, fh.Filename)
			}
		}
	case "application/x-www-form-urlencoded":
		if form, err = url.ParseQuery(string(q.body)); err != nil {
			return in, failf(http.StatusBadRequest, "The form body could not be read: %v", err)
		}
	default:
		err := decodeJSON(q.body, &in)
		return in, err
	}
	in.RoomID, in.ToPersonID, in.ToPersonEmail = form.Get("roomId"), form.Get("toPersonId"), form.Get("toPersonEmail")
	in.ParentID, in.Text, in.Markdown = form.Get("parentId"), form.Get("text"), form.Get("markdown")
	in.Files = append(in.Files, form["files"]...)
	return in, nil
}

// mentionPattern matches the markdown mentions <@personId:ID|Name> and <@personEmail:EMAIL|Name>.
var mentionPattern = regexp.MustCompile(`<@(personId|personEmail):([^|>]+)(?:\|([^>]*))?>`)

// createMessageLocked creates a message from the API, as the person author.
func (s *Sim) createMessageLocked(author *Person, in messageInput) (Message, []pending, error) {
	targets := 0
	for _, v := range []string{in.RoomID, in.ToPersonID, in.ToPersonEmail} {
		if v != "" {
			targets++
		}
	}
	if targets != 1 {
		return Message{}, nil, failf(http.StatusBadRequest, "Exactly one of roomId, toPersonId and toPersonEmail must be given.")
	}
	var r *Room
	if in.RoomID != "" {
		r = s.rooms[in.RoomID]
		if r == nil || !slices.Contains(r.Members, author.ID) {
			return Message{}, nil, failf(http.StatusNotFound, "Could not find a room with provided ID.")
		}
	} else {
		to, ok := s.people[in.ToPersonID]
		if in.ToPersonEmail != "" {
			to, ok = s.personByEmailLocked(in.ToPersonEmail)
		}
		switch {
		case !ok:
			// Simulated: Webex's answer for an unknown recipient is UNCONFIRMED.
			return Message{}, nil, failf(http.StatusNotFound, "Could not find a person with the given toPersonId or toPersonEmail.")
		case to.ID == author.ID:
			return Message{}, nil, failf(http.StatusBadRequest, "Cannot send a direct message to yourself.")
		}
		var err error
		if r, err = s.ensureDirectLocked(author, to); err != nil {
			return Message{}, nil, err
		}
	}
	switch {
	case len(in.Text) > MaxMessageBytes:
		return Message{}, nil, failf(http.StatusBadRequest, "text is %d bytes long; the limit is %d.", len(in.Text), MaxMessageBytes)
	case len(in.Markdown) > MaxMessageBytes:
		return Message{}, nil, failf(http.StatusBadRequest, "markdown is %d bytes long; the limit is %d.", len(in.Markdown), MaxMessageBytes)
	case in.Text == "" && in.Markdown == "" && len(in.Files) == 0 && len(in.Attachments) == 0:
		return Message{}, nil, failf(http.StatusBadRequest, "A message needs text, markdown, files or attachments.")
	case len(in.Files) > 1:
		return Message{}, nil, failf(http.StatusBadRequest, "Only one file may be included in a message.")
	case len(in.Attachments) > 1:
		return Message{}, nil, failf(http.StatusBadRequest, "Only one card per message is supported.")
	}
	for _, a := range in.Attachments {
		var content map[string]any
		if a.ContentType != CardContentType {
			return Message{}, nil, failf(http.StatusBadRequest, "Unsupported attachment contentType %q.", a.ContentType)
		}
		if err := json.Unmarshal(a.Content, &content); err != nil || content == nil {
			return Message{}, nil, failf(http.StatusBadRequest, "The attachment's content must be an Adaptive Card object.")
		}
	}
	if err := s.checkParentLocked(in.ParentID, r.ID); err != nil {
		return Message{}, nil, err
	}
	m := &Message{
		RoomID:        r.ID,
		RoomType:      r.Type,
		ParentID:      in.ParentID,
		ToPersonID:    in.ToPersonID,
		ToPersonEmail: in.ToPersonEmail,
		PersonID:      author.ID,
		PersonEmail:   author.Emails[0],
		Text:          in.Text,
		Markdown:      in.Markdown,
		Files:         slices.Clone(in.Files),
		Attachments:   slices.Clone(in.Attachments),
	}
	if in.Markdown != "" {
		// Webex renders markdown to text and html; this rendering is deliberately naive: it
		// only resolves mentions.
		plain, htmlText, mentioned := s.renderMarkdownLocked(in.Markdown)
		if m.Text == "" {
			m.Text = plain
		}
		m.HTML = "<p>" + htmlText + "</p>"
		m.MentionedPeople = mentioned
	}
	s.storeMessageLocked(m)
	return m.clone(), s.messageEventsLocked(m, r), nil
}

// renderMarkdownLocked resolves the mentions of markdown into plain text, html and the ids of
// the people mentioned.
func (s *Sim) renderMarkdownLocked(md string) (plain, htmlText string, mentioned []string) {
	var p, h strings.Builder
	last := 0
	for _, loc := range mentionPattern.FindAllStringSubmatchIndex(md, -1) {
		p.WriteString(md[last:loc[0]])
		h.WriteString(html.EscapeString(md[last:loc[0]]))
		last = loc[1]
		kind, value := md[loc[2]:loc[3]], md[loc[4]:loc[5]]
		name := ""
		if loc[6] >= 0 {
			name = md[loc[6]:loc[7]]
		}
		person, ok := s.people[value]
		if kind == "personEmail" {
			person, ok = s.personByEmailLocked(value)
		}
		if !ok {
			// An unknown person is no mention; Webex shows the text.
			p.WriteString(md[loc[0]:loc[1]])
			h.WriteString(html.EscapeString(md[loc[0]:loc[1]]))
			continue
		}
		if name == "" {
			name = person.DisplayName
		}
		p.WriteString(name)
		h.WriteString(sparkMention(person.ID, name))
		if !slices.Contains(mentioned, person.ID) {
			mentioned = append(mentioned, person.ID)
		}
	}
	p.WriteString(md[last:])
	h.WriteString(html.EscapeString(md[last:]))
	return p.String(), h.String(), mentioned
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
	rep := jsonReply(m)
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
	return jsonReply(m.clone())
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
