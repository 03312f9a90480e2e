package webex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"attachbot/bot"
)

// adaptiveCardType is the content type of an Adaptive Card attachment.
const adaptiveCardType = "application/vnd.microsoft.card.adaptive"

// trimMarker ends markdown that was cut to fit bot.MaxMessageBytes.
const trimMarker = "…"

// call sends one request and decodes a 2xx JSON body into v (unless v is nil). When the
// request is not idempotent, a body that cannot be decoded makes the outcome unknown: Webex
// acted on the request, but its result is lost.
func (c *Client) call(ctx context.Context, r request, v any) (*response, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return resp, nil
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		err = fmt.Errorf("webex %s %s: decode the %d answer: %w", r.method, c.displayPath(r), resp.status, err)
		if !r.idempotent() {
			return nil, fmt.Errorf("%w: %w", bot.ErrOutcomeUnknown, err)
		}
		return nil, err
	}
	return resp, nil
}

// get is call for GET path?query.
func (c *Client) get(ctx context.Context, path string, query url.Values, v any) (*response, error) {
	return c.call(ctx, request{method: http.MethodGet, path: path, query: query}, v)
}

// withBody is call for a request with a JSON body.
func (c *Client) withBody(ctx context.Context, method, path string, safe bool, body, v any) (*response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("webex %s /%s: encode the body: %w", method, path, err)
	}
	return c.call(ctx, request{method: method, path: path, body: b, safe: safe}, v)
}

// segment escapes an id for use as one path segment.
func segment(id string) (string, error) {
	if id == "" {
		return "", errors.New("the id is empty")
	}
	return url.PathEscape(id), nil
}

// wirePerson is a Webex person.
type wirePerson struct {
	ID          string   `json:"id"`
	Emails      []string `json:"emails"`
	DisplayName string   `json:"displayName"`
	OrgID       string   `json:"orgId"`
	Type        string   `json:"type"`
}

func (p wirePerson) person() bot.Person {
	return bot.Person{ID: p.ID, Emails: p.Emails, DisplayName: p.DisplayName, OrgID: p.OrgID, Type: p.Type}
}

// Me returns the token owner's own person (GET /people/me).
func (c *Client) Me(ctx context.Context) (bot.Person, error) {
	var p wirePerson
	if _, err := c.get(ctx, "people/me", nil, &p); err != nil {
		return bot.Person{}, fmt.Errorf("get my person: %w", err)
	}
	return p.person(), nil
}

// Person returns a person by id (GET /people/{id}).
func (c *Client) Person(ctx context.Context, personID string) (bot.Person, error) {
	seg, err := segment(personID)
	if err != nil {
		return bot.Person{}, fmt.Errorf("get person: %w", err)
	}
	var p wirePerson
	if _, err := c.get(ctx, "people/"+seg, nil, &p); err != nil {
		return bot.Person{}, fmt.Errorf("get person %s: %w", personID, err)
	}
	return p.person(), nil
}

// wireMessage is a Webex message as GET /messages/{id} and POST /messages return it.
type wireMessage struct {
	ID              string    `json:"id"`
	RoomID          string    `json:"roomId"`
	RoomType        string    `json:"roomType"`
	ParentID        string    `json:"parentId"`
	PersonID        string    `json:"personId"`
	PersonEmail     string    `json:"personEmail"`
	Text            string    `json:"text"`
	HTML            string    `json:"html"`
	MentionedPeople []string  `json:"mentionedPeople"`
	Files           []string  `json:"files"`
	Created         time.Time `json:"created"`
}

func (m wireMessage) message() bot.Message {
	return bot.Message{
		ID:              m.ID,
		RoomID:          m.RoomID,
		RoomType:        m.RoomType,
		ParentID:        m.ParentID,
		PersonID:        m.PersonID,
		PersonEmail:     m.PersonEmail,
		Text:            m.Text,
		HTML:            m.HTML,
		MentionedPeople: m.MentionedPeople,
		Files:           m.Files,
		Created:         m.Created,
	}
}

// Message returns a message by id, with its decrypted text (GET /messages/{id}).
func (c *Client) Message(ctx context.Context, messageID string) (bot.Message, error) {
	seg, err := segment(messageID)
	if err != nil {
		return bot.Message{}, fmt.Errorf("get message: %w", err)
	}
	var m wireMessage
	if _, err := c.get(ctx, "messages/"+seg, nil, &m); err != nil {
		return bot.Message{}, fmt.Errorf("get message %s: %w", messageID, err)
	}
	return m.message(), nil
}

// wireAttachmentAction is a card submission.
type wireAttachmentAction struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	MessageID string         `json:"messageId"`
	PersonID  string         `json:"personId"`
	RoomID    string         `json:"roomId"`
	Inputs    map[string]any `json:"inputs"`
	Created   time.Time      `json:"created"`
}

// AttachmentAction returns a card submission by id (GET /attachment/actions/{id}).
func (c *Client) AttachmentAction(ctx context.Context, actionID string) (bot.AttachmentAction, error) {
	seg, err := segment(actionID)
	if err != nil {
		return bot.AttachmentAction{}, fmt.Errorf("get attachment action: %w", err)
	}
	var a wireAttachmentAction
	if _, err := c.get(ctx, "attachment/actions/"+seg, nil, &a); err != nil {
		return bot.AttachmentAction{}, fmt.Errorf("get attachment action %s: %w", actionID, err)
	}
	return bot.AttachmentAction{
		ID:        a.ID,
		Type:      a.Type,
		MessageID: a.MessageID,
		PersonID:  a.PersonID,
		RoomID:    a.RoomID,
		Inputs:    a.Inputs,
		Created:   a.Created,
	}, nil
}

// wireAttachment is one message attachment.
type wireAttachment struct {
	ContentType string          `json:"contentType"`
	Content     json.RawMessage `json:"content"`
}

// wireNewMessage is the body of POST /messages.
type wireNewMessage struct {
	RoomID        string           `json:"roomId,omitempty"`
	ToPersonEmail string           `json:"toPersonEmail,omitempty"`
	ParentID      string           `json:"parentId,omitempty"`
	Markdown      string           `json:"markdown,omitempty"`
	Attachments   []wireAttachment `json:"attachments,omitempty"`
}

// Send posts a message (POST /messages) and returns it as Webex created it. The markdown is
// also the fallback text of a card. Markdown longer than bot.MaxMessageBytes is cut at a UTF-8
// boundary and ends with "…". Send is never retried after the request may have reached Webex:
// an unknown outcome comes back as an error wrapping bot.ErrOutcomeUnknown.
func (c *Client) Send(ctx context.Context, msg bot.OutMessage) (bot.Message, error) {
	if (msg.RoomID == "") == (msg.ToPersonEmail == "") {
		return bot.Message{}, errors.New("send message: exactly one of a room id and a person email is required")
	}
	body := wireNewMessage{
		RoomID:        msg.RoomID,
		ToPersonEmail: msg.ToPersonEmail,
		ParentID:      msg.ParentID,
		Markdown:      msg.Markdown,
	}
	if len(body.Markdown) > bot.MaxMessageBytes {
		c.log.Warn("webex message markdown trimmed", "bytes", len(body.Markdown), "max", bot.MaxMessageBytes)
		body.Markdown = bot.TrimUTF8(body.Markdown, bot.MaxMessageBytes-len(trimMarker)) + trimMarker
	}
	if msg.Card != nil {
		if !json.Valid(msg.Card) {
			return bot.Message{}, errors.New("send message: the card is not valid JSON")
		}
		body.Attachments = []wireAttachment{{ContentType: adaptiveCardType, Content: msg.Card}}
	}
	dest := "room " + msg.RoomID
	if msg.RoomID == "" {
		dest = msg.ToPersonEmail
	}
	var m wireMessage
	var err error
	if !msg.File.IsZero() {
		m, err = c.sendFile(ctx, body, msg.File)
	} else {
		_, err = c.withBody(ctx, http.MethodPost, "messages", false, body, &m)
	}
	if err != nil {
		return bot.Message{}, fmt.Errorf("send message to %s: %w", dest, err)
	}
	return m.message(), nil
}

// wireWebhook is a Webex webhook.
type wireWebhook struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	TargetURL string `json:"targetUrl"`
	Resource  string `json:"resource"`
	Event     string `json:"event"`
	Filter    string `json:"filter"`
	Secret    string `json:"secret"`
	Status    string `json:"status"`
}

func (w wireWebhook) webhook() bot.Webhook {
	return bot.Webhook{
		ID:        w.ID,
		Name:      w.Name,
		TargetURL: w.TargetURL,
		Resource:  w.Resource,
		Event:     w.Event,
		Filter:    w.Filter,
		Secret:    w.Secret,
		Status:    w.Status,
	}
}

// Webhooks lists the webhooks the token owns (GET /webhooks, every page).
func (c *Client) Webhooks(ctx context.Context) ([]bot.Webhook, error) {
	items, err := list[wireWebhook](ctx, c, "webhooks", url.Values{"max": {"100"}})
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	out := make([]bot.Webhook, len(items))
	for i, w := range items {
		out[i] = w.webhook()
	}
	return out, nil
}

// wireNewWebhook is the body of POST /webhooks.
type wireNewWebhook struct {
	Name      string `json:"name"`
	TargetURL string `json:"targetUrl"`
	Resource  string `json:"resource"`
	Event     string `json:"event"`
	Filter    string `json:"filter,omitempty"`
	Secret    string `json:"secret,omitempty"`
}

// CreateWebhook creates a webhook (POST /webhooks). Like every POST that changes something, it
// is not re-sent after an unknown outcome.
func (c *Client) CreateWebhook(ctx context.Context, hook bot.Webhook) (bot.Webhook, error) {
	body := wireNewWebhook{
		Name:      hook.Name,
		TargetURL: hook.TargetURL,
		Resource:  hook.Resource,
		Event:     hook.Event,
		Filter:    hook.Filter,
		Secret:    hook.Secret,
	}
	var w wireWebhook
	if _, err := c.withBody(ctx, http.MethodPost, "webhooks", false, body, &w); err != nil {
		return bot.Webhook{}, fmt.Errorf("create webhook %q: %w", hook.Name, err)
	}
	return w.webhook(), nil
}

// wireWebhookUpdate is the body of PUT /webhooks/{id}: the fields Webex lets change.
type wireWebhookUpdate struct {
	Name      string `json:"name"`
	TargetURL string `json:"targetUrl"`
	Secret    string `json:"secret,omitempty"`
	Status    string `json:"status,omitempty"`
}

// UpdateWebhook changes a webhook's name, target URL, secret and status (PUT /webhooks/{id}).
// An empty secret or status is not sent.
func (c *Client) UpdateWebhook(ctx context.Context, hook bot.Webhook) (bot.Webhook, error) {
	seg, err := segment(hook.ID)
	if err != nil {
		return bot.Webhook{}, fmt.Errorf("update webhook: %w", err)
	}
	body := wireWebhookUpdate{Name: hook.Name, TargetURL: hook.TargetURL, Secret: hook.Secret, Status: hook.Status}
	var w wireWebhook
	if _, err := c.withBody(ctx, http.MethodPut, "webhooks/"+seg, false, body, &w); err != nil {
		return bot.Webhook{}, fmt.Errorf("update webhook %s: %w", hook.ID, err)
	}
	return w.webhook(), nil
}

// DeleteMessage deletes one of the bot's own messages (DELETE /messages/{id}, 204). Webex
// cannot edit a message that carries a card, so a card that can no longer act is deleted and
// its outcome posted in its place. A message that is already gone answers 404, returned as an
// *bot.APIError like any other refusal.
func (c *Client) DeleteMessage(ctx context.Context, messageID string) error {
	seg, err := segment(messageID)
	if err != nil {
		return fmt.Errorf("delete message: %w", err)
	}
	if _, err := c.call(ctx, request{method: http.MethodDelete, path: "messages/" + seg}, nil); err != nil {
		return fmt.Errorf("delete message %s: %w", messageID, err)
	}
	return nil
}
