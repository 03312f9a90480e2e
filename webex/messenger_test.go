package webex_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/webex"
	"attachbot/webex/webextest"
)

func TestReads(t *testing.T) {
	created := time.Date(2026, 11, 24, 8, 30, 0, 0, time.UTC)
	tests := []struct {
		name     string
		wantPath string // the escaped request path
		answer   string
		call     func(ctx context.Context, c *webex.Client) (any, error)
		want     any
	}{
		{
			name:     "Me",
			wantPath: "/v1/people/me",
			answer:   `{"id":"BOT","emails":["attach@webex.bot"],"displayName":"Attach","orgId":"O1","type":"bot","avatar":"x"}`,
			call:     func(ctx context.Context, c *webex.Client) (any, error) { return c.Me(ctx) },
			want:     bot.Person{ID: "BOT", Emails: []string{"attach@webex.bot"}, DisplayName: "Attach", OrgID: "O1", Type: "bot"},
		},
		{
			name:     "Person with an id to escape",
			wantPath: "/v1/people/Y2lz%2FUEVPUExF",
			answer:   `{"id":"Y2lz/UEVPUExF","emails":["ann@example.com"],"displayName":"Ann","orgId":"O1","type":"person"}`,
			call:     func(ctx context.Context, c *webex.Client) (any, error) { return c.Person(ctx, "Y2lz/UEVPUExF") },
			want:     bot.Person{ID: "Y2lz/UEVPUExF", Emails: []string{"ann@example.com"}, DisplayName: "Ann", OrgID: "O1", Type: "person"},
		},
		{
			name:     "Message",
			wantPath: "/v1/messages/M1",
			answer: `{"id":"M1","roomId":"R1","roomType":"group","parentId":"M0","personId":"P1","personEmail":"ann@example.com",
				"text":"Attach attach O1","html":"<p><spark-mention>Attach</spark-mention> attach O1</p>","markdown":"ignored",
				"mentionedPeople":["BOT"],"created":"2026-11-24T08:30:00.000Z"}`,
			call: func(ctx context.Context, c *webex.Client) (any, error) { return c.Message(ctx, "M1") },
			want: bot.Message{ID: "M1", RoomID: "R1", RoomType: "group", ParentID: "M0", PersonID: "P1", PersonEmail: "ann@example.com",
				Text: "Attach attach O1", HTML: "<p><spark-mention>Attach</spark-mention> attach O1</p>",
				MentionedPeople: []string{"BOT"}, Created: created},
		},
		{
			name:     "AttachmentAction",
			wantPath: "/v1/attachment/actions/A1",
			answer: `{"id":"A1","type":"submit","messageId":"M2","personId":"P2","roomId":"R2",
				"inputs":{"action":"approve","requestId":"K7","agree":"true","n":3},"created":"2026-11-24T08:30:00.000Z"}`,
			call: func(ctx context.Context, c *webex.Client) (any, error) { return c.AttachmentAction(ctx, "A1") },
			want: bot.AttachmentAction{ID: "A1", Type: "submit", MessageID: "M2", PersonID: "P2", RoomID: "R2",
				Inputs:  map[string]any{"action": "approve", "requestId": "K7", "agree": "true", "n": float64(3)},
				Created: created},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.EscapedPath() != tt.wantPath {
					t.Errorf("request %s %s, want GET %s", r.Method, r.URL.EscapedPath(), tt.wantPath)
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tt.answer)
			})
			c := newTestClient(t, h, webex.Options{})
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// recordBodies serves answer for every request and keeps the decoded request bodies.
type recordBodies struct {
	t      *testing.T
	status int
	answer string
	header map[string]string

	mu     sync.Mutex
	bodies []map[string]any
	reqs   []string // method and escaped path
}

func (rb *recordBodies) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		rb.t.Errorf("decode the request body: %v", err)
	}
	rb.mu.Lock()
	rb.bodies = append(rb.bodies, body)
	rb.reqs = append(rb.reqs, r.Method+" "+r.URL.EscapedPath())
	rb.mu.Unlock()
	for k, v := range rb.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	status := rb.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, rb.answer)
}

// only returns the one recorded request and body.
func (rb *recordBodies) only() (string, map[string]any) {
	rb.t.Helper()
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if len(rb.bodies) != 1 {
		rb.t.Fatalf("requests = %d, want 1", len(rb.bodies))
	}
	return rb.reqs[0], rb.bodies[0]
}

func TestSendBody(t *testing.T) {
	card := `{"type":"AdaptiveCard","version":"1.3","body":[{"type":"TextBlock","text":"Approve?"}],"actions":[{"type":"Action.Submit","title":"Approve","data":{"action":"approve"}}]}`
	var cardValue any
	if err := json.Unmarshal([]byte(card), &cardValue); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("€", 3000) // 9000 bytes, 3 per rune
	tests := []struct {
		name string
		msg  bot.OutMessage
		want map[string]any
	}{
		{
			name: "card in a thread",
			msg:  bot.OutMessage{RoomID: "R1", ParentID: "M0", Markdown: "Approve the attach of O1?", Card: json.RawMessage(card)},
			want: map[string]any{
				"roomId":   "R1",
				"parentId": "M0",
				"markdown": "Approve the attach of O1?",
				"attachments": []any{map[string]any{
					"contentType": "application/vnd.microsoft.card.adaptive",
					"content":     cardValue,
				}},
			},
		},
		{
			name: "direct markdown",
			msg:  bot.OutMessage{ToPersonEmail: "admin@customer.example", Markdown: "**hello**"},
			want: map[string]any{"toPersonEmail": "admin@customer.example", "markdown": "**hello**"},
		},
		{
			name: "too long: trimmed at a rune boundary",
			msg:  bot.OutMessage{RoomID: "R1", Markdown: long},
			want: map[string]any{"roomId": "R1", "markdown": strings.Repeat("€", (bot.MaxMessageBytes-3)/3) + "…"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := &recordBodies{t: t, answer: `{"id":"M9","roomId":"R1","roomType":"group","personId":"BOT","created":"2026-11-24T08:30:00Z"}`}
			c := newTestClient(t, rb, webex.Options{})
			got, err := c.Send(t.Context(), tt.msg)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			wantMsg := bot.Message{ID: "M9", RoomID: "R1", RoomType: "group", PersonID: "BOT", Created: time.Date(2026, 11, 24, 8, 30, 0, 0, time.UTC)}
			if diff := cmp.Diff(wantMsg, got); diff != "" {
				t.Errorf("Send() (-want +got):\n%s", diff)
			}
			req, body := rb.only()
			if req != "POST /v1/messages" {
				t.Errorf("request = %s, want POST /v1/messages", req)
			}
			if diff := cmp.Diff(tt.want, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if md, _ := body["markdown"].(string); len(md) > bot.MaxMessageBytes || !utf8.ValidString(md) {
				t.Errorf("markdown is %d bytes (valid UTF-8: %v), want at most %d", len(md), utf8.ValidString(md), bot.MaxMessageBytes)
			}
		})
	}
}

func TestSendRejectsBadMessages(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
	})
	c := newTestClient(t, h, webex.Options{})
	for _, msg := range []bot.OutMessage{
		{Markdown: "nowhere"},
		{RoomID: "R1", ToPersonEmail: "a@example.com", Markdown: "both"},
		{RoomID: "R1", Markdown: "bad card", Card: json.RawMessage(`{"type":`)},
	} {
		if _, err := c.Send(t.Context(), msg); err == nil {
			t.Errorf("Send(%+v) = nil error, want an error", msg)
		}
	}
}

func TestWebhookWrites(t *testing.T) {
	answer := `{"id":"W1","name":"attachbot messages","targetUrl":"https://bot.example/webhooks","resource":"messages","event":"created","filter":"mentionedPeople=me","secret":"s3cret","status":"active","created":"2026-11-24T08:30:00Z"}`
	wantHook := bot.Webhook{ID: "W1", Name: "attachbot messages", TargetURL: "https://bot.example/webhooks", Resource: "messages",
		Event: "created", Filter: "mentionedPeople=me", Secret: "s3cret", Status: "active"}
	tests := []struct {
		name     string
		call     func(ctx context.Context, c *webex.Client) (bot.Webhook, error)
		wantReq  string
		wantBody map[string]any
	}{
		{
			name: "CreateWebhook",
			call: func(ctx context.Context, c *webex.Client) (bot.Webhook, error) {
				return c.CreateWebhook(ctx, bot.Webhook{Name: "attachbot messages", TargetURL: "https://bot.example/webhooks",
					Resource: "messages", Event: "created", Filter: "mentionedPeople=me", Secret: "s3cret", Status: "ignored"})
			},
			wantReq: "POST /v1/webhooks",
			wantBody: map[string]any{"name": "attachbot messages", "targetUrl": "https://bot.example/webhooks",
				"resource": "messages", "event": "created", "filter": "mentionedPeople=me", "secret": "s3cret"},
		},
		{
			name: "UpdateWebhook",
			call: func(ctx context.Context, c *webex.Client) (bot.Webhook, error) {
				return c.UpdateWebhook(ctx, bot.Webhook{ID: "W1", Name: "attachbot messages", TargetURL: "https://bot.example/webhooks",
					Resource: "ignored", Event: "ignored", Secret: "s3cret", Status: "active"})
			},
			wantReq: "PUT /v1/webhooks/W1",
			wantBody: map[string]any{"name": "attachbot messages", "targetUrl": "https://bot.example/webhooks",
				"secret": "s3cret", "status": "active"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := &recordBodies{t: t, answer: answer}
			c := newTestClient(t, rb, webex.Options{})
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if diff := cmp.Diff(wantHook, got); diff != "" {
				t.Errorf("%s() (-want +got):\n%s", tt.name, diff)
			}
			req, body := rb.only()
			if req != tt.wantReq {
				t.Errorf("request = %s, want %s", req, tt.wantReq)
			}
			if diff := cmp.Diff(tt.wantBody, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhooksFollowsLinks(t *testing.T) {
	var mu sync.Mutex
	var got []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.RequestURI()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		base := "http://" + r.Host + "/v1/webhooks"
		switch r.URL.RawQuery {
		case "max=100":
			w.Header().Set("Link", `<`+base+`?cursor=YWJj%3D&max=2>; rel="next", <`+base+`?max=100>; rel="first"`)
			writeJSON(t, w, http.StatusOK, map[string]any{"items": []any{map[string]any{"id": "W1"}, map[string]any{"id": "W2"}}})
		case "cursor=YWJj%3D&max=2":
			w.Header().Add("Link", `<`+base+`?max=100>; rel="first"`)
			w.Header().Add("Link", `<`+base+`?cursor=ZGVm>;rel=next`)
			writeJSON(t, w, http.StatusOK, map[string]any{"items": []any{map[string]any{"id": "W3"}}})
		case "cursor=ZGVm":
			writeJSON(t, w, http.StatusOK, map[string]any{"items": []any{map[string]any{"id": "W4", "status": "inactive"}}})
		default:
			t.Errorf("unexpected query %q", r.URL.RawQuery)
			writeJSON(t, w, http.StatusBadRequest, map[string]any{"message": "bad"})
		}
	})
	c := newTestClient(t, h, webex.Options{})
	hooks, err := c.Webhooks(t.Context())
	if err != nil {
		t.Fatalf("Webhooks: %v", err)
	}
	want := []bot.Webhook{{ID: "W1"}, {ID: "W2"}, {ID: "W3"}, {ID: "W4", Status: "inactive"}}
	if diff := cmp.Diff(want, hooks); diff != "" {
		t.Errorf("Webhooks() (-want +got):\n%s", diff)
	}
	wantReqs := []string{
		"/v1/webhooks?max=100 Bearer test-token",
		"/v1/webhooks?cursor=YWJj%3D&max=2 Bearer test-token",
		"/v1/webhooks?cursor=ZGVm Bearer test-token",
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(wantReqs, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestPagingStaysOnTheAPIHost(t *testing.T) {
	tests := []struct {
		name string
		link string
	}{
		{"another host", `<https://evil.example/v1/webhooks?max=100&page=2>; rel="next"`},
		{"a loop", `<{base}?max=100>; rel="next"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", strings.ReplaceAll(tt.link, "{base}", "http://"+r.Host+"/v1/webhooks"))
				writeJSON(t, w, http.StatusOK, map[string]any{"items": []any{map[string]any{"id": "W1"}}})
			})
			c := newTestClient(t, h, webex.Options{})
			if hooks, err := c.Webhooks(t.Context()); err == nil {
				t.Errorf("Webhooks() = %v, nil; want an error", hooks)
			}
		})
	}
}

// TestDeleteMessage deletes through the simulated Webex: the bot's own message goes (204),
// a second deletion is a 404 *bot.APIError, and another person's message is refused.
func TestDeleteMessage(t *testing.T) {
	sim := webextest.New(webextest.Options{})
	c := newTestClient(t, sim, webex.Options{Token: webextest.DefaultBotToken})
	ctx := t.Context()

	own, err := c.Send(ctx, bot.OutMessage{RoomID: webextest.PartnerSpaceID, Markdown: "a card that can no longer act"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMessage(ctx, own.ID); err != nil {
		t.Fatalf("DeleteMessage of the bot's own message: %v", err)
	}
	if _, ok := sim.Message(own.ID); ok {
		t.Error("the message is still there after DeleteMessage")
	}
	status := func(err error) int {
		var apiErr *bot.APIError
		if errors.As(err, &apiErr) {
			return apiErr.Status
		}
		return 0
	}
	if err := c.DeleteMessage(ctx, own.ID); status(err) != http.StatusNotFound {
		t.Errorf("DeleteMessage of a deleted message = %v, want a 404 *bot.APIError", err)
	}
	anns, err := sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMessage(ctx, anns.ID); status(err) != http.StatusForbidden {
		t.Errorf("DeleteMessage of Ann's message = %v, want a 403 *bot.APIError", err)
	}
	if err := c.DeleteMessage(ctx, ""); err == nil {
		t.Error("DeleteMessage of no id succeeded")
	}
}
