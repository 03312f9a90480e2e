package webex_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/webex"
	"attachbot/webex/webextest"
)

// simClients returns clients of one simulated Webex, one per token, all on the same host (so
// content URLs are the API's own for each of them).
func simClients(t *testing.T, sim *webextest.Sim, tokens ...string) []*webex.Client {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	var clients []*webex.Client
	for _, token := range tokens {
		c, err := webex.New(webex.Options{BaseURL: srv.URL + "/v1", Token: token, HTTPClient: srv.Client(),
			Clock: newFakeClock(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("webex.New: %v", err)
		}
		clients = append(clients, c)
	}
	return clients
}

func apiStatus(err error) int {
	var apiErr *bot.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status
	}
	return 0
}

// TestDownload reads a file a person attached: the bot reads it with its token, someone
// outside the room gets 401, a file over the limit is refused, and the token never goes to
// another host.
func TestDownload(t *testing.T) {
	sim := webextest.New(webextest.Options{})
	const eveToken = "eve-token"
	if err := sim.AddToken(eveToken, webextest.EveID); err != nil {
		t.Fatal(err)
	}
	clients := simClients(t, sim, webextest.DefaultBotToken, eveToken)
	botClient, eve := clients[0], clients[1]
	ctx := t.Context()
	data := []byte("org,admin\nA,b@example.com\n")
	said, err := sim.SayFile(ctx, webextest.AnnID, webextest.PartnerSpaceID, "check",
		webextest.File{Name: "orgs.csv", ContentType: "text/csv", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := botClient.Message(ctx, said.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Files) != 1 || !strings.HasPrefix(msg.Files[0], "http") {
		t.Fatalf("the message's files = %q, want one absolute content URL", msg.Files)
	}
	got, err := botClient.Download(ctx, msg.Files[0], 1<<20)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	if diff := cmp.Diff(bot.File{Name: "orgs.csv", ContentType: "text/csv", Data: data}, got); diff != "" {
		t.Errorf("Download (-want +got):\n%s", diff)
	}
	if _, err := eve.Download(ctx, msg.Files[0], 1<<20); apiStatus(err) != http.StatusUnauthorized {
		t.Errorf("Download by someone outside the room = %v, want a 401 *bot.APIError", err)
	}
	if _, err := botClient.Download(ctx, msg.Files[0], int64(len(data)-1)); !errors.Is(err, bot.ErrFileTooLarge) {
		t.Errorf("Download over the limit = %v, want bot.ErrFileTooLarge", err)
	}
	if _, err := botClient.Download(ctx, "https://elsewhere.example/v1/contents/x", 1<<20); err == nil || apiStatus(err) != 0 {
		t.Errorf("Download from another host = %v, want a refusal before any request", err)
	}
	if _, err := botClient.Download(ctx, msg.Files[0], int64(len(data))); err != nil {
		t.Errorf("Download of exactly the limit: %v", err)
	}
}

// TestSendFileAndEdit sends a message with a file (multipart, checked against the spec by
// the simulated Webex), reads the file back, and edits messages: a text message can be
// edited by its author, a message with a file cannot, nor can another person's.
func TestSendFileAndEdit(t *testing.T) {
	sim := webextest.New(webextest.Options{})
	c := simClients(t, sim, webextest.DefaultBotToken)[0]
	ctx := t.Context()
	csv := []byte("id,state\nK7QM2X,provisioned\n")
	sent, err := c.Send(ctx, bot.OutMessage{RoomID: webextest.PartnerSpaceID, Markdown: "Your export",
		File: bot.File{Name: "export.csv", ContentType: "text/csv", Data: csv}})
	if err != nil {
		t.Fatalf("Send with a file: %v", err)
	}
	if len(sent.Files) != 1 {
		t.Fatalf("the sent message's files = %q, want one", sent.Files)
	}
	f, ok := sim.FileContent(sent.Files[0])
	if !ok || !bytes.Equal(f.Data, csv) || f.Name != "export.csv" || f.ContentType != "text/csv" {
		t.Errorf("the stored file = %+v, %v; want export.csv, text/csv, %q", f, ok, csv)
	}
	if refusals := sim.ShapeRefusals(); len(refusals) > 0 {
		t.Errorf("the simulated Webex refused the shape of a request: %+v", refusals)
	}

	if _, err := c.EditMessage(ctx, sent.ID, webextest.PartnerSpaceID, "changed"); apiStatus(err) != http.StatusBadRequest {
		t.Errorf("EditMessage of a message with a file = %v, want a 400 *bot.APIError", err)
	}
	text, err := c.Send(ctx, bot.OutMessage{RoomID: webextest.PartnerSpaceID, Markdown: "Progress: 0 of 3"})
	if err != nil {
		t.Fatal(err)
	}
	edited, err := c.EditMessage(ctx, text.ID, webextest.PartnerSpaceID, "Progress: **3 of 3**")
	if err != nil {
		t.Fatalf("EditMessage: %v", err)
	}
	if stored, _ := sim.Message(text.ID); stored.Markdown != "Progress: **3 of 3**" || edited.ID != text.ID {
		t.Errorf("after EditMessage the message's markdown is %q (answer id %s), want the new text on %s", stored.Markdown, edited.ID, text.ID)
	}
	for range 9 {
		if _, err := c.EditMessage(ctx, text.ID, webextest.PartnerSpaceID, "again"); err != nil {
			t.Fatalf("EditMessage within the 10 edits: %v", err)
		}
	}
	if _, err := c.EditMessage(ctx, text.ID, webextest.PartnerSpaceID, "eleventh"); apiStatus(err) != http.StatusBadRequest {
		t.Errorf("an eleventh edit = %v, want a 400 *bot.APIError", err)
	}
	anns, err := sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EditMessage(ctx, anns.ID, webextest.PartnerSpaceID, "hijacked"); apiStatus(err) != http.StatusForbidden {
		t.Errorf("EditMessage of Ann's message = %v, want a 403 *bot.APIError", err)
	}
}
