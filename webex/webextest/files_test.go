package webextest_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"attachbot/webex/webextest"
)

// postFiles sends a multipart message with the named files, as the bot, and returns the status.
func (e *env) postFiles(t *testing.T, names ...string) int {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("roomId", webextest.PartnerSpaceID); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		part, err := w.CreateFormFile("files", n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := part.Write([]byte("a,b\n1,2\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", e.srv.URL+"/v1/messages", &buf)
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
	return resp.StatusCode
}

func TestMessageFiles(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	if got := e.postFiles(t, "one.csv"); got != 200 {
		t.Fatalf("a multipart message with one file = %d, want 200", got)
	}
	if got := e.postFiles(t, "one.csv", "two.csv"); got != 400 {
		t.Errorf("a multipart message with two files = %d, want 400", got)
	}
	msgs := e.sim.Messages(webextest.PartnerSpaceID)
	last := msgs[len(msgs)-1]
	if len(last.Files) != 1 {
		t.Fatalf("the message's files = %q, want one", last.Files)
	}
	got := e.call(t, webextest.DefaultBotToken, "GET", "/v1/messages/"+last.ID, nil)
	m := decode[webextest.Message](t, got)
	if len(m.Files) != 1 || !strings.HasPrefix(m.Files[0], e.srv.URL+"/v1/contents/") {
		t.Fatalf("GET's files = %q, want one absolute content URL", m.Files)
	}
	tests := []struct {
		name, token string
		want        int
	}{
		{"the bot, a member", webextest.DefaultBotToken, 200},
		{"no token", "", 401},
		{"a token of someone outside the room", "eve-token", 401},
	}
	if err := e.sim.AddToken("eve-token", webextest.EveID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if a := e.call(t, tt.token, "GET", m.Files[0], nil); a.status != tt.want {
			t.Errorf("%s: GET the content = %d, want %d", tt.name, a.status, tt.want)
		}
	}
}

func TestEditMessageShape(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	m := e.post(t, webextest.DefaultBotToken, body{"roomId": webextest.PartnerSpaceID, "markdown": "Progress: 0"})
	tests := []struct {
		name  string
		token string
		body  body
		want  int
	}{
		{"html is not part of an edit", webextest.DefaultBotToken, body{"roomId": webextest.PartnerSpaceID, "markdown": "x", "html": "<p>x</p>"}, 400},
		{"roomId is required", webextest.DefaultBotToken, body{"markdown": "x"}, 400},
		{"another room", webextest.DefaultBotToken, body{"roomId": "elsewhere", "markdown": "x"}, 400},
		{"no text", webextest.DefaultBotToken, body{"roomId": webextest.PartnerSpaceID}, 400},
		{"by the author", webextest.DefaultBotToken, body{"roomId": webextest.PartnerSpaceID, "markdown": "Progress: **1**"}, 200},
	}
	for _, tt := range tests {
		if a := e.call(t, tt.token, "PUT", "/v1/messages/"+m.ID, tt.body); a.status != tt.want {
			t.Errorf("%s: PUT = %d %s, want %d", tt.name, a.status, a.body, tt.want)
		}
	}
	got, _ := e.sim.Message(m.ID)
	if got.Markdown != "Progress: **1**" || got.Text != "Progress: **1**" || got.Updated == nil {
		t.Errorf("after the edit: markdown %q, text %q, updated %v", got.Markdown, got.Text, got.Updated)
	}
}
