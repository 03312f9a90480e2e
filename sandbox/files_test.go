package sandbox

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// Files through the sandbox API: the sample file, a file dropped with `check`, the bot's
// answer file offered for download, and the refusals.

// sayFile posts text with a file through the API as a person, and waits for the bot.
func (s *testSandbox) sayFile(personID, roomID, text string, f uploadedFile) {
	s.t.Helper()
	s.post("/sandbox/api/sayfile", sayFileRequest{PersonID: personID, RoomID: roomID, Text: text, File: f}, nil)
	s.settle()
}

// download gets a file through the API and returns its headers and bytes.
func (s *testSandbox) download(path string) (http.Header, []byte) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), http.MethodGet, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		s.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, b.Bytes())
	}
	return resp.Header, b.Bytes()
}

// partnerMessages returns the partner space's messages as the state shows them.
func (s *testSandbox) partnerMessages() []messageView {
	s.t.Helper()
	for _, sp := range s.state().Spaces {
		if sp.ID == webextest.PartnerSpaceID {
			return sp.Messages
		}
	}
	s.t.Fatal("no partner space in the state")
	return nil
}

// TestSandboxSampleFileChecked holds over both transports (SANDBOX_EVENTS): the bot gets the
// file's content URL from the message either way.
func TestSandboxSampleFileChecked(t *testing.T) {
	for _, events := range []string{app.EventsWebhook, app.EventsWebsocket} {
		t.Run(events, func(t *testing.T) { checkSampleFile(t, newTestSandboxOver(t, events)) })
	}
}

// checkSampleFile downloads the sample file from the sandbox, posts it with check as the
// partner admin, and checks the bot's summary and answer file as the page shows them.
func checkSampleFile(t *testing.T, s *testSandbox) {
	var sc scenariosView
	status, body := s.do(http.MethodGet, "/sandbox/api/scenarios", "")
	if err := json.Unmarshal(body, &sc); status != http.StatusOK || err != nil {
		t.Fatalf("GET scenarios = %d %s (%v)", status, body, err)
	}
	header, sample := s.download(sc.Sample.URL)
	if _, params, err := mime.ParseMediaType(header.Get("Content-Disposition")); err != nil || params["filename"] != sampleFileName {
		t.Errorf("the sample's Content-Disposition = %q, want an attachment named %s", header.Get("Content-Disposition"), sampleFileName)
	}
	orgs := apptest.CSVColumn(t, apptest.ParseCSV(t, sample), "org")
	for _, scenario := range sandboxScenarios() {
		if !strings.Contains(strings.Join(orgs, " "), scenario.OrgID) {
			t.Errorf("the sample has no row for %s", scenario.OrgID)
		}
	}

	s.sayFile(webextest.AnnID, webextest.PartnerSpaceID, "check", uploadedFile{Name: sc.Sample.Name, ContentType: "text/csv", Data: sample})

	messages := s.partnerMessages()
	if len(messages) < 3 {
		t.Fatalf("the partner space shows %d messages, want the file and the bot's two answers", len(messages))
	}
	dropped := messages[0]
	if diff := cmp.Diff([]fileView{{Name: sampleFileName, ContentType: "text/csv", Size: len(sample), URL: "/sandbox/api/files/" + dropped.ID + "/0"}}, dropped.Files); diff != "" {
		t.Errorf("the dropped file as the page shows it (-want +got):\n%s", diff)
	}
	var summary string
	var answer *fileView
	for _, m := range messages[1:] {
		if m.PersonID != webextest.BotID || m.ParentID != dropped.ID {
			continue
		}
		summary += m.Markdown + "\n"
		for i := range m.Files {
			answer = &m.Files[i]
		}
	}
	for _, want := range []string{"Check of 9 rows", "would attach automatically: 3", "need the customer admin's approval: 2", "refused: 4",
		"already a wholesale customer: 1", "the organization is on line 2 already"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
	if answer == nil {
		t.Fatalf("no file in the bot's answers:\n%s", summary)
	}
	if answer.Name != "check-results.csv" {
		t.Errorf("the answer file is named %q, want check-results.csv", answer.Name)
	}
	header, results := s.download(answer.URL)
	if got := header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("the answer file's X-Content-Type-Options = %q, want nosniff", got)
	}
	wantVerdicts := []string{"automatic", "approval", "automatic", "refused", "refused", "automatic", "approval", "refused", "refused"}
	if diff := cmp.Diff(wantVerdicts, apptest.CSVColumn(t, apptest.ParseCSV(t, results), "verdict")); diff != "" {
		t.Errorf("the answer file's verdicts, a row per sample row (-want +got):\n%s", diff)
	}
	if n := len(s.env.sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")); n != 0 {
		t.Errorf("check with a file provisioned %d customers", n)
	}
}

func TestSandboxFileNameIsText(t *testing.T) {
	s := newTestSandbox(t)
	const name = `<img src=x onerror="alert(1)">"; filename=evil.html.csv`
	s.sayFile(webextest.AnnID, webextest.PartnerSpaceID, "check", uploadedFile{Name: name, ContentType: "text/html", Data: []byte("<script>alert(1)</script>")})
	dropped := s.partnerMessages()[0]
	if len(dropped.Files) != 1 || dropped.Files[0].Name != name {
		t.Fatalf("the state shows the files %+v, want the name as sent, as text", dropped.Files)
	}
	header, body := s.download(dropped.Files[0].URL)
	disposition, params, err := mime.ParseMediaType(header.Get("Content-Disposition"))
	if err != nil || disposition != "attachment" || params["filename"] != name {
		t.Errorf("Content-Disposition = %q (%v), want an attachment with the name as sent", header.Get("Content-Disposition"), err)
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"} {
		if got := header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if string(body) != "<script>alert(1)</script>" {
		t.Errorf("the download = %q, want the bytes as posted", body)
	}

	// Another site may not link to the files: only the sandbox's page downloads them.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+dropped.Files[0].URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET a file from a cross-site page = %d, want 403", resp.StatusCode)
	}
}

func TestSandboxSayFileRejectsBadRequests(t *testing.T) {
	s := newTestSandbox(t)
	body := func(person, text string, f uploadedFile) string {
		b, err := json.Marshal(sayFileRequest{PersonID: person, RoomID: webextest.PartnerSpaceID, Text: text, File: f})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	csvFile := uploadedFile{Name: "orgs.csv", ContentType: "text/csv", Data: []byte("org\n")}
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantError  string
	}{
		{"no text", body(webextest.AnnID, " ", csvFile), 400, "text is empty: type a message, such as check"},
		{"no file", body(webextest.AnnID, "check", uploadedFile{}), 400, "file.name is missing"},
		{"a path for a name", body(webextest.AnnID, "check", uploadedFile{Name: "../orgs.csv", Data: []byte("org\n")}), 400, "holds a control character or a path separator"},
		{"a line break in the name", body(webextest.AnnID, "check", uploadedFile{Name: "a\nb.csv", Data: []byte("org\n")}), 400, "holds a control character"},
		{"a long name", body(webextest.AnnID, "check", uploadedFile{Name: strings.Repeat("x", 256), Data: []byte("org\n")}), 400, "give a name of at most 255"},
		{"no media type", body(webextest.AnnID, "check", uploadedFile{Name: "orgs.csv", ContentType: "csv please", Data: []byte("org\n")}), 400, `file.contentType "csv please" is not a media type`},
		{"too large for the sandbox", body(webextest.AnnID, "check", uploadedFile{Name: "big.csv", Data: make([]byte, sandboxMaxFile+1)}), 413, "the sandbox posts files of at most"},
		{"not base64", `{"personId": "` + webextest.AnnID + `", "roomId": "` + webextest.PartnerSpaceID + `", "text": "check", "file": {"name": "a.csv", "data": "%%%"}}`, 400, "is not the JSON object expected"},
		{"in a thread", `{"personId": "` + webextest.AnnID + `", "roomId": "` + webextest.PartnerSpaceID + `", "parentId": "x", "text": "check", "file": {"name": "a.csv"}}`, 400, `unknown field "parentId"`},
		{"not a member", body(webextest.BigAdminID, "check", csvFile), 403, "Bill Big is not a member of Partner space"},
	}
	for _, tt := range tests {
		status, got := s.do(http.MethodPost, "/sandbox/api/sayfile", tt.body)
		var answer struct{ Error string }
		if err := json.Unmarshal(got, &answer); err != nil || status != tt.wantStatus || !strings.Contains(answer.Error, tt.wantError) {
			t.Errorf("%s: POST sayfile = %d %s; want %d with %q", tt.name, status, got, tt.wantStatus, tt.wantError)
		}
	}
	for _, path := range []string{"/sandbox/api/files/nope/0", "/sandbox/api/files/" + webextest.PartnerSpaceID + "/x"} {
		if status, _ := s.do(http.MethodGet, path, ""); status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, status)
		}
	}
	if n := len(s.env.sim.Messages(webextest.PartnerSpaceID)); n != 0 {
		t.Errorf("the bad requests posted %d messages", n)
	}
}

func TestSandboxFileTooLargeForTheBot(t *testing.T) {
	s := newTestSandbox(t)
	data := append([]byte("org\n"), bytes.Repeat([]byte("x"), sandboxMaxFile-4)...)
	s.sayFile(webextest.AnnID, webextest.PartnerSpaceID, "check", uploadedFile{Name: "big.csv", ContentType: "text/csv", Data: data})
	if !s.botSaid(webextest.PartnerSpaceID, "larger than 5 MiB") {
		t.Errorf("the bot did not refuse a 6 MiB file; the space shows:\n%+v", s.partnerMessages())
	}
}
