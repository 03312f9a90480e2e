package webextest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
)

const secret = "s3cret"

// receiver is a webhook target that verifies X-Spark-Signature itself and keeps what it got.
type receiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	status int // what to answer a valid delivery
	bodies [][]byte
	envs   []webextest.Envelope
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{status: http.StatusOK}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("receiver: read body: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha1.New, []byte(secret))
		mac.Write(raw)
		got, err := hex.DecodeString(req.Header.Get("X-Spark-Signature"))
		if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var env webextest.Envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Errorf("receiver: decode %s: %v", raw, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.bodies = append(r.bodies, raw)
		r.envs = append(r.envs, env)
		w.WriteHeader(r.status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() ([]webextest.Envelope, [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webextest.Envelope(nil), r.envs...), append([][]byte(nil), r.bodies...)
}

func (r *receiver) answer(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// hook registers a webhook with the bot's token.
func (e *env) hook(t *testing.T, target, resource, event, filter string) webextest.Webhook {
	t.Helper()
	a := e.call(t, webextest.DefaultBotToken, "POST", "/v1/webhooks", body{
		"name": resource + " " + event, "targetUrl": target, "resource": resource, "event": event,
		"filter": filter, "secret": secret,
	})
	if a.status != 200 {
		t.Fatalf("POST /v1/webhooks = %d %s", a.status, a.body)
	}
	return decode[webextest.Webhook](t, a)
}

func TestSayDeliversSignedEvents(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	r := newReceiver(t)
	ctx := context.Background()
	msgHook := e.hook(t, r.srv.URL, "messages", "created", "")
	e.hook(t, r.srv.URL, "attachmentActions", "created", "")

	said, err := e.sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "attach smallville")
	if err != nil {
		t.Fatalf("Say: %v", err)
	}
	envs, _ := r.received()
	want := []webextest.Envelope{{
		ID: msgHook.ID, Name: "messages created", Resource: "messages", Event: "created",
		OrgID: webextest.PartnerOrgID, CreatedBy: webextest.BotID, AppID: webextest.AppID,
		OwnedBy: "creator", Status: "active", ActorID: webextest.AnnID,
		Data: webextest.EventData{
			ID: said.ID, RoomID: webextest.PartnerSpaceID, RoomType: "group",
			PersonID: webextest.AnnID, PersonEmail: webextest.AnnEmail, Created: said.Created,
		},
	}}
	if diff := cmp.Diff(want, envs); diff != "" {
		t.Errorf("delivered envelopes (-want +got):\n%s", diff)
	}
	got := decode[webextest.Message](t, e.call(t, webextest.DefaultBotToken, "GET", "/v1/messages/"+said.ID, nil))
	wantMsg := webextest.Message{
		ID: said.ID, RoomID: webextest.PartnerSpaceID, RoomType: "group", PersonID: webextest.AnnID,
		PersonEmail: webextest.AnnEmail, Text: "attachbot attach smallville",
		HTML:            `<p><spark-mention data-object-type="person" data-object-id="` + webextest.BotID + `">attachbot</spark-mention> attach smallville</p>`,
		MentionedPeople: []string{webextest.BotID}, Created: said.Created,
	}
	if diff := cmp.Diff(wantMsg, got); diff != "" {
		t.Errorf("GET the said message (-want +got):\n%s", diff)
	}

	// The bot answers with a card; its own message is not delivered; Ann clicks.
	cardMsg := e.post(t, webextest.DefaultBotToken, body{"roomId": webextest.PartnerSpaceID, "parentId": said.ID, "markdown": "Approve?", "attachments": card()})
	if envs, _ := r.received(); len(envs) != 1 {
		t.Errorf("deliveries after the bot's own message = %d, want still 1", len(envs))
	}
	action, err := e.sim.Click(ctx, webextest.AnnID, cardMsg.ID, map[string]any{"action": "approve", "count": 2})
	if err != nil {
		t.Fatalf("Click: %v", err)
	}
	envs, _ = r.received()
	last := envs[len(envs)-1]
	wantData := webextest.EventData{
		ID: action.ID, Type: "submit", MessageID: cardMsg.ID, PersonID: webextest.AnnID,
		RoomID: webextest.PartnerSpaceID, Created: action.Created,
	}
	if last.Resource != "attachmentActions" || last.ActorID != webextest.AnnID || !cmp.Equal(wantData, last.Data) {
		t.Errorf("attachmentActions envelope = %+v, want data %+v", last, wantData)
	}
	gotAction := decode[webextest.AttachmentAction](t, e.call(t, webextest.DefaultBotToken, "GET", "/v1/attachment/actions/"+action.ID, nil))
	wantAction := webextest.AttachmentAction{
		ID: action.ID, Type: "submit", MessageID: cardMsg.ID, PersonID: webextest.AnnID, RoomID: webextest.PartnerSpaceID,
		Inputs: map[string]any{"action": "approve", "count": float64(2)}, Created: action.Created,
	}
	if diff := cmp.Diff(wantAction, gotAction); diff != "" {
		t.Errorf("GET attachment action (-want +got):\n%s", diff)
	}
	if _, err := e.sim.Click(ctx, webextest.EveID, cardMsg.ID, nil); err == nil {
		t.Error("Click by someone not in the room succeeded")
	}

	// In a direct room there is no mention, and every message is delivered.
	dm, err := e.sim.EnsureDirectRoom(webextest.BobID, webextest.BotID)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := e.sim.Say(ctx, webextest.BobID, dm, "help")
	if err != nil {
		t.Fatalf("Say in a direct room: %v", err)
	}
	if direct.Text != "help" || direct.MentionedPeople != nil || direct.RoomType != "direct" {
		t.Errorf("direct message = %+v, want plain text without mention", direct)
	}
	if d, ok := e.sim.LastDelivery(); !ok || d.DataID != direct.ID || d.Status != 200 || d.Signature == "" {
		t.Errorf("LastDelivery = %+v, want the direct message delivered with 200 and signed", d)
	}
	if _, err := e.sim.Say(ctx, webextest.EveID, webextest.PartnerSpaceID, "hi"); err == nil {
		t.Error("Say by someone not in the room succeeded")
	}
}

func TestDeliveryRules(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		opts     webextest.Options
		resource string
		event    string
		filter   string
		act      func(*testing.T, *env) string // returns the data id expected, or "" for none
	}{
		{
			name: "group message without mention", resource: "messages", event: "created",
			act: func(t *testing.T, e *env) string {
				if err := e.sim.AddToken("ann-token", webextest.AnnID); err != nil {
					t.Fatal(err)
				}
				e.post(t, "ann-token", body{"roomId": webextest.PartnerSpaceID, "text": "no mention"})
				return ""
			},
		},
		{
			name: "markdown mention by a person token", resource: "messages", event: "created",
			act: func(t *testing.T, e *env) string {
				if err := e.sim.AddToken("ann-token", webextest.AnnID); err != nil {
					t.Fatal(err)
				}
				return e.post(t, "ann-token", body{"roomId": webextest.PartnerSpaceID, "markdown": "<@personEmail:" + webextest.BotEmail + "> help"}).ID
			},
		},
		{
			name: "own message", resource: "messages", event: "created",
			act: func(t *testing.T, e *env) string {
				e.post(t, webextest.DefaultBotToken, body{"roomId": webextest.PartnerSpaceID, "text": "mine"})
				return ""
			},
		},
		{
			name: "own message with DeliverOwnMessages", opts: webextest.Options{DeliverOwnMessages: true},
			resource: "messages", event: "created",
			act: func(t *testing.T, e *env) string {
				return e.post(t, webextest.DefaultBotToken, body{"roomId": webextest.PartnerSpaceID, "text": "mine"}).ID
			},
		},
		{
			name: "firehose gets messages", resource: "all", event: "all",
			act: func(t *testing.T, e *env) string {
				m, err := e.sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "hi")
				if err != nil {
					t.Fatal(err)
				}
				return m.ID
			},
		},
		{
			name: "firehose misses card actions", resource: "all", event: "all",
			act: func(t *testing.T, e *env) string {
				m := e.post(t, webextest.DefaultBotToken, body{"roomId": webextest.PartnerSpaceID, "markdown": "card", "attachments": card()})
				if _, err := e.sim.Click(ctx, webextest.AnnID, m.ID, nil); err != nil {
					t.Fatal(err)
				}
				return ""
			},
		},
		{
			name: "filter roomType=direct misses a group message", resource: "messages", event: "created", filter: "roomType=direct",
			act: func(t *testing.T, e *env) string {
				if _, err := e.sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "hi"); err != nil {
					t.Fatal(err)
				}
				return ""
			},
		},
		{
			name: "filter mentionedPeople=me", resource: "messages", event: "created", filter: "mentionedPeople=me",
			act: func(t *testing.T, e *env) string {
				m, err := e.sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "hi")
				if err != nil {
					t.Fatal(err)
				}
				return m.ID
			},
		},
		{
			name: "inactive webhook", resource: "messages", event: "created",
			act: func(t *testing.T, e *env) string {
				for _, h := range e.sim.Webhooks() {
					if err := e.sim.DeactivateWebhook(h.ID); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := e.sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "hi"); err != nil {
					t.Fatal(err)
				}
				return ""
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			r := newReceiver(t)
			e.hook(t, r.srv.URL, tc.resource, tc.event, tc.filter)
			wantID := tc.act(t, e)
			var got []string
			for _, env := range func() []webextest.Envelope { envs, _ := r.received(); return envs }() {
				got = append(got, env.Data.ID)
			}
			var want []string
			if wantID != "" {
				want = []string{wantID}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("delivered data ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookCRUD(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	r := newReceiver(t)
	bot := webextest.DefaultBotToken
	h := e.hook(t, r.srv.URL, "messages", "created", "")
	if a := e.call(t, webextest.DefaultPartnerToken, "GET", "/v1/webhooks/"+h.ID, nil); a.status != 404 {
		t.Errorf("GET someone else's webhook = %d, want 404", a.status)
	}
	list := decode[struct{ Items []webextest.Webhook }](t, e.call(t, bot, "GET", "/v1/webhooks", nil)).Items
	if diff := cmp.Diff([]webextest.Webhook{h}, list); diff != "" {
		t.Errorf("GET /v1/webhooks (-want +got):\n%s", diff)
	}
	if n := len(decode[struct{ Items []webextest.Webhook }](t, e.call(t, webextest.DefaultPartnerToken, "GET", "/v1/webhooks", nil)).Items); n != 0 {
		t.Errorf("the partner lists %d webhooks, want its own: 0", n)
	}

	bad := []body{
		{"name": "x", "targetUrl": r.srv.URL, "resource": "messages"},
		{"name": "x", "targetUrl": "not a url", "resource": "messages", "event": "created"},
		{"name": "x", "targetUrl": r.srv.URL, "resource": "gossip", "event": "created"},
		{"name": "x", "targetUrl": r.srv.URL, "resource": "messages", "event": "created", "filter": "colour=red"},
	}
	for _, b := range bad {
		if a := e.call(t, bot, "POST", "/v1/webhooks", b); a.status != 400 {
			t.Errorf("POST /v1/webhooks %v = %d, want 400", b, a.status)
		}
	}

	if err := e.sim.DeactivateWebhook(h.ID); err != nil {
		t.Fatal(err)
	}
	if got := decode[webextest.Webhook](t, e.call(t, bot, "GET", "/v1/webhooks/"+h.ID, nil)).Status; got != "inactive" {
		t.Errorf("status after DeactivateWebhook = %q, want inactive", got)
	}
	// The spec's PUT body has no resource, and its status can only be active.
	if a := e.call(t, bot, "PUT", "/v1/webhooks/"+h.ID, body{"name": "renamed", "targetUrl": r.srv.URL, "status": "active", "resource": "rooms"}); a.status != 400 {
		t.Errorf("PUT with a resource = %d %s, want 400", a.status, a.body)
	}
	if a := e.call(t, bot, "PUT", "/v1/webhooks/"+h.ID, body{"name": "renamed", "targetUrl": r.srv.URL, "status": "inactive"}); a.status != 400 {
		t.Errorf("PUT status inactive = %d %s, want 400 (Webex cannot deactivate by PUT)", a.status, a.body)
	}
	a := e.call(t, bot, "PUT", "/v1/webhooks/"+h.ID, body{"name": "renamed", "targetUrl": r.srv.URL, "status": "active"})
	updated := decode[webextest.Webhook](t, a)
	if a.status != 200 || updated.Status != "active" || updated.Name != "renamed" || updated.Resource != "messages" || updated.Secret != secret {
		t.Errorf("PUT = %d %s, want active, renamed, resource and secret unchanged", a.status, a.body)
	}
	if _, err := e.sim.Say(context.Background(), webextest.AnnID, webextest.PartnerSpaceID, "hi"); err != nil {
		t.Errorf("Say after reactivation: %v", err)
	}
	if a := e.call(t, bot, "DELETE", "/v1/webhooks/"+h.ID, nil); a.status != 204 {
		t.Errorf("DELETE = %d, want 204", a.status)
	}
	if a := e.call(t, bot, "GET", "/v1/webhooks/"+h.ID, nil); a.status != 404 {
		t.Errorf("GET a deleted webhook = %d, want 404", a.status)
	}
}

func TestRedeliverAndSendSigned(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	r := newReceiver(t)
	ctx := context.Background()
	e.hook(t, r.srv.URL, "messages", "created", "")
	if _, err := e.sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "once"); err != nil {
		t.Fatal(err)
	}
	first, ok := e.sim.LastDelivery()
	if !ok {
		t.Fatal("no delivery")
	}
	again, err := e.sim.Redeliver(ctx, first)
	if err != nil || again.Status != 200 {
		t.Fatalf("Redeliver = %+v, %v; want 200", again, err)
	}
	_, bodies := r.received()
	if len(bodies) != 2 || !bytes.Equal(bodies[0], bodies[1]) {
		t.Errorf("receiver got %q, want the same body twice", bodies)
	}

	d, err := e.sim.SendSigned(ctx, r.srv.URL, "wrong secret", first.Body)
	if err != nil || d.Status != 401 {
		t.Errorf("SendSigned with a wrong secret = %+v, %v; want 401 from the receiver", d, err)
	}
	if n := len(e.sim.Deliveries()); n != 3 {
		t.Errorf("Deliveries = %d, want 3", n)
	}

	r.answer(http.StatusInternalServerError)
	if _, err := e.sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "fails"); err == nil {
		t.Error("Say with a receiver answering 500 returned no error")
	}
	if d, _ := e.sim.LastDelivery(); d.Status != 500 || d.OK() {
		t.Errorf("LastDelivery = %+v, want status 500", d)
	}
}

func TestWebhookDisabledAfterFailures(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	r := newReceiver(t)
	r.answer(http.StatusServiceUnavailable)
	h := e.hook(t, r.srv.URL, "messages", "created", "")
	ctx := context.Background()
	for i := range 100 {
		if _, err := e.sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "hi"); err == nil {
			t.Fatalf("Say %d: no error from a failing receiver", i)
		}
		e.clock.Advance(time.Second)
	}
	got := decode[webextest.Webhook](t, e.call(t, webextest.DefaultBotToken, "GET", "/v1/webhooks/"+h.ID, nil))
	if got.Status != "inactive" {
		t.Errorf("status after 100 failures in 100s = %q, want inactive", got.Status)
	}
}
