package webextest_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// card returns an Adaptive Card attachment list.
func card() []body {
	return []body{{
		"contentType": webextest.CardContentType,
		"content": body{
			"type": "AdaptiveCard", "version": "1.3",
			"body":    []body{{"type": "TextBlock", "text": "Approve?"}},
			"actions": []body{{"type": "Action.Submit", "title": "Approve", "data": body{"action": "approve"}}},
		},
	}}
}

// post sends a message and returns it, failing the test unless the answer is 200.
func (e *env) post(t *testing.T, token string, b body) webextest.Message {
	t.Helper()
	a := e.call(t, token, "POST", "/v1/messages", b)
	if a.status != 200 {
		t.Fatalf("POST /v1/messages %v = %d %s, want 200", b, a.status, a.body)
	}
	return decode[webextest.Message](t, a)
}

func TestCreateMessage(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	bot := webextest.DefaultBotToken
	root := e.post(t, bot, body{"roomId": webextest.PartnerSpaceID, "markdown": "root"})
	reply := e.post(t, bot, body{"roomId": webextest.PartnerSpaceID, "parentId": root.ID, "markdown": "reply"})
	other, err := e.sim.AddRoom("Other space", webextest.BotID, webextest.BobID)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := e.sim.AddRoom("Eve's space", webextest.EveID)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", webextest.MaxMessageBytes/2+1) // 7440 bytes
	tests := []struct {
		name string
		path string
		body any
		want int
	}{
		{"markdown", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "markdown": "**hi**"}, 200},
		{"trailing slash", "/v1/messages/", body{"roomId": webextest.PartnerSpaceID, "text": "hi"}, 200},
		{"card", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "markdown": "fallback", "attachments": card()}, 200},
		{"exactly the limit", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "markdown": strings.Repeat("x", webextest.MaxMessageBytes)}, 200},
		{"text too long", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "text": long}, 400},
		{"markdown too long", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "markdown": long}, 400},
		{"two cards", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "markdown": "x", "attachments": append(card(), card()...)}, 400},
		{"not a card", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "markdown": "x", "attachments": []body{{"contentType": "text/plain", "content": body{}}}}, 400},
		{"empty", "/v1/messages", body{"roomId": webextest.PartnerSpaceID}, 400},
		{"no target", "/v1/messages", body{"markdown": "x"}, 400},
		{"two targets", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "toPersonEmail": webextest.AnnEmail, "markdown": "x"}, 400},
		{"parent is a reply", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "parentId": reply.ID, "markdown": "x"}, 400},
		{"parent in another room", "/v1/messages", body{"roomId": other.ID, "parentId": root.ID, "markdown": "x"}, 400},
		{"unknown parent", "/v1/messages", body{"roomId": webextest.PartnerSpaceID, "parentId": "nope", "markdown": "x"}, 400},
		{"room the bot is not in", "/v1/messages", body{"roomId": elsewhere.ID, "markdown": "x"}, 404},
		{"unknown recipient", "/v1/messages", body{"toPersonEmail": "nobody@nowhere.example", "markdown": "x"}, 404},
		{"not JSON", "/v1/messages", []byte("{"), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := e.call(t, bot, "POST", tc.path, tc.body)
			if a.status != tc.want {
				t.Fatalf("POST %s = %d %s, want %d", tc.path, a.status, a.body, tc.want)
			}
		})
	}

	got := decode[webextest.Message](t, e.call(t, bot, "GET", "/v1/messages/"+reply.ID, nil))
	want := webextest.Message{
		ID: reply.ID, RoomID: webextest.PartnerSpaceID, RoomType: "group", ParentID: root.ID,
		PersonID: webextest.BotID, PersonEmail: webextest.BotEmail, Text: "reply", Markdown: "reply",
		HTML: "<p>reply</p>", Created: reply.Created,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GET message (-want +got):\n%s", diff)
	}
}

func TestDirectMessages(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	for _, tok := range []struct{ token, person string }{{"ann-token", webextest.AnnID}, {"eve-token", webextest.EveID}} {
		if err := e.sim.AddToken(tok.token, tok.person); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := e.sim.DirectRoom(webextest.BotID, webextest.SmallAdminID); ok {
		t.Fatal("a direct room exists before any message")
	}
	first := e.post(t, webextest.DefaultBotToken, body{"toPersonEmail": strings.ToUpper(webextest.SmallAdminEmail), "markdown": "please approve", "attachments": card()})
	second := e.post(t, webextest.DefaultBotToken, body{"toPersonEmail": webextest.SmallAdminEmail, "markdown": "reminder"})
	room, ok := e.sim.DirectRoom(webextest.SmallAdminID, webextest.BotID)
	if !ok || first.RoomID != room || second.RoomID != room || first.RoomType != "direct" {
		t.Fatalf("messages in rooms %s and %s (%s), direct room %s (%v): want both in the one direct room", first.RoomID, second.RoomID, first.RoomType, room, ok)
	}
	var ids []string
	for _, m := range e.sim.DirectMessages(webextest.BotID, webextest.SmallAdminID) {
		ids = append(ids, m.ID)
	}
	if diff := cmp.Diff([]string{first.ID, second.ID}, ids); diff != "" {
		t.Errorf("DirectMessages (-want +got):\n%s", diff)
	}
	if a := e.call(t, "eve-token", "GET", "/v1/messages/"+first.ID, nil); a.status != 404 {
		t.Errorf("GET by someone not in the room = %d, want 404", a.status)
	}

	// A bot sees a group room's messages only when mentioned.
	plain := e.post(t, "ann-token", body{"roomId": webextest.PartnerSpaceID, "text": "just chatting"})
	mention := e.post(t, "ann-token", body{"roomId": webextest.PartnerSpaceID, "markdown": "<@personId:" + webextest.BotID + "|attachbot> status"})
	if a := e.call(t, webextest.DefaultBotToken, "GET", "/v1/messages/"+plain.ID, nil); a.status != 404 {
		t.Errorf("bot GET of a message not mentioning it = %d, want 404", a.status)
	}
	got := decode[webextest.Message](t, e.call(t, webextest.DefaultBotToken, "GET", "/v1/messages/"+mention.ID, nil))
	if got.Text != "attachbot status" || !cmp.Equal(got.MentionedPeople, []string{webextest.BotID}) || !strings.Contains(got.HTML, `data-object-id="`+webextest.BotID+`"`) {
		t.Errorf("mention message = %+v, want text %q, the bot mentioned, a spark-mention", got, "attachbot status")
	}

	// Only the author deletes.
	if a := e.call(t, "ann-token", "DELETE", "/v1/messages/"+mention.ID, nil); a.status != 204 {
		t.Errorf("DELETE own message = %d %s, want 204", a.status, a.body)
	}
	if a := e.call(t, webextest.DefaultBotToken, "GET", "/v1/messages/"+mention.ID, nil); a.status != 404 {
		t.Errorf("GET a deleted message = %d, want 404", a.status)
	}
	if _, ok := e.sim.Message(mention.ID); ok {
		t.Error("Message() finds a deleted message")
	}
	botMsg := e.post(t, webextest.DefaultBotToken, body{"roomId": webextest.PartnerSpaceID, "text": "mine"})
	if a := e.call(t, "ann-token", "DELETE", "/v1/messages/"+botMsg.ID, nil); a.status != 403 {
		t.Errorf("DELETE someone else's message = %d, want 403", a.status)
	}
}

func TestMultipartMessage(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"roomId": webextest.PartnerSpaceID, "text": "form text"} {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/messages/", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+webextest.DefaultBotToken)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("multipart POST = %d, want 200", resp.StatusCode)
	}
	msgs := e.sim.Messages(webextest.PartnerSpaceID)
	want := []webextest.Message{{
		RoomID: webextest.PartnerSpaceID, RoomType: "group", PersonID: webextest.BotID,
		PersonEmail: webextest.BotEmail, Text: "form text",
	}}
	if diff := cmp.Diff(want, msgs, cmpopts.IgnoreFields(webextest.Message{}, "ID", "Created")); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
}
