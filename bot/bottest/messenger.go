package bottest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"attachbot/bot"
)

// Messenger is a fake bot.Messenger that keeps everything in memory: the people and
// messages a test puts in, and what the bot sends and deletes. What it does not know is a
// 404 *bot.APIError, as Webex answers.
type Messenger struct {
	mu       sync.Mutex
	me       bot.Person
	people   map[string]bot.Person
	messages map[string]bot.Message
	actions  map[string]bot.AttachmentAction
	sent     []bot.OutMessage
	deleted  []string
	files    map[string]bot.File
	webhooks []bot.Webhook
}

var _ bot.Messenger = (*Messenger)(nil)

// NewMessenger returns a fake Messenger whose bot is me.
func NewMessenger(me bot.Person) *Messenger {
	return &Messenger{me: me, people: map[string]bot.Person{me.ID: me},
		messages: map[string]bot.Message{}, actions: map[string]bot.AttachmentAction{}, files: map[string]bot.File{}}
}

// AddPerson makes p known to Person.
func (m *Messenger) AddPerson(p bot.Person) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.people[p.ID] = p
}

// Sent returns what the bot sent, in order.
func (m *Messenger) Sent() []bot.OutMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent)
}

// Deleted returns the ids of the messages the bot deleted, in order.
func (m *Messenger) Deleted() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.deleted)
}

// Me returns the bot's person.
func (m *Messenger) Me(context.Context) (bot.Person, error) { return m.me, nil }

// Person returns a person added with AddPerson.
func (m *Messenger) Person(_ context.Context, id string) (bot.Person, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.people[id]; ok {
		return p, nil
	}
	return bot.Person{}, notFound("GET", "people/"+id)
}

// Message returns a message the bot sent.
func (m *Messenger) Message(_ context.Context, id string) (bot.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if msg, ok := m.messages[id]; ok {
		return msg, nil
	}
	return bot.Message{}, notFound("GET", "messages/"+id)
}

// AttachmentAction returns no card submission: the fake knows none.
func (m *Messenger) AttachmentAction(_ context.Context, id string) (bot.AttachmentAction, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.actions[id]; ok {
		return a, nil
	}
	return bot.AttachmentAction{}, notFound("GET", "attachment/actions/"+id)
}

// Send records msg and returns it as a message with the next id.
func (m *Messenger) Send(_ context.Context, msg bot.OutMessage) (bot.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	sent := bot.Message{ID: fmt.Sprintf("message-%d", len(m.sent)), RoomID: msg.RoomID, ParentID: msg.ParentID,
		PersonID: m.me.ID, PersonEmail: m.me.Email(), Text: msg.Markdown}
	m.messages[sent.ID] = sent
	return sent, nil
}

// EditMessage replaces the text of a message the bot sent (a file or card message cannot be
// edited, as in Webex).
func (m *Messenger) EditMessage(_ context.Context, id, roomID, markdown string) (bot.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, ok := m.messages[id]
	if !ok || msg.RoomID != roomID {
		return bot.Message{}, notFound("PUT", "messages/"+id)
	}
	if len(msg.Files) > 0 {
		return bot.Message{}, &bot.APIError{Method: "PUT", Path: "messages/" + id, Status: 400, Message: "Editing a message with files or attachments is currently unsupported."}
	}
	msg.Text = markdown
	m.messages[id] = msg
	return msg, nil
}

// AddFile makes f the file of contentURL for Download.
func (m *Messenger) AddFile(contentURL string, f bot.File) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[contentURL] = f
}

// Download returns a file added with AddFile; an unknown URL is a 401, as Webex answers a
// token that may not read the file.
func (m *Messenger) Download(_ context.Context, contentURL string, maxBytes int64) (bot.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[contentURL]
	switch {
	case !ok:
		return bot.File{}, &bot.APIError{Method: "GET", Path: contentURL, Status: 401, Message: "Unauthorized"}
	case int64(len(f.Data)) > maxBytes:
		return bot.File{}, fmt.Errorf("download %s: %w", contentURL, bot.ErrFileTooLarge)
	}
	f.Data = slices.Clone(f.Data)
	return f, nil
}

// DeleteMessage records the deletion of a message the bot sent.
func (m *Messenger) DeleteMessage(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.messages[id]; !ok {
		return notFound("DELETE", "messages/"+id)
	}
	delete(m.messages, id)
	m.deleted = append(m.deleted, id)
	return nil
}

// Webhooks returns the webhooks created.
func (m *Messenger) Webhooks(context.Context) ([]bot.Webhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.webhooks), nil
}

// CreateWebhook records hook with the next id, active.
func (m *Messenger) CreateWebhook(_ context.Context, hook bot.Webhook) (bot.Webhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	hook.ID, hook.Status = fmt.Sprintf("webhook-%d", len(m.webhooks)+1), "active"
	m.webhooks = append(m.webhooks, hook)
	return hook, nil
}

// UpdateWebhook replaces the webhook with hook's id.
func (m *Messenger) UpdateWebhook(_ context.Context, hook bot.Webhook) (bot.Webhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, h := range m.webhooks {
		if h.ID == hook.ID {
			m.webhooks[i] = hook
			return hook, nil
		}
	}
	return bot.Webhook{}, notFound("PUT", "webhooks/"+hook.ID)
}

// notFound is Webex's 404 as the bot sees it.
func notFound(method, path string) error {
	return &bot.APIError{Method: method, Path: path, Status: 404, Message: "The requested resource could not be found."}
}

// AddMessage makes msg known to Message, as if someone had posted it.
func (m *Messenger) AddMessage(msg bot.Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.messages[msg.ID] = msg
}

// AddAction makes a card submission known to AttachmentAction, as if someone had clicked.
func (m *Messenger) AddAction(a bot.AttachmentAction) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.actions[a.ID] = a
}
