package sandbox

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"attachbot/bot"
	"attachbot/webex/webextest"
)

// Files in the sandbox: a person drops a CSV file in the partner space and sends it with
// `check` or `attach`, as a Webex client posts a message with a file (the simulated Webex
// keeps it under a content URL that the bot downloads with its token); the files of every
// message, the bot's answers included, are offered for download; and a sample file covering
// the seeded organizations is offered too.

// sandboxMaxFile is the largest file the sandbox posts. It is above the bot's own limit
// (bot.MaxBulkFileBytes, 5 MiB), so that the bot's refusal of a larger file can be seen.
const sandboxMaxFile = bot.MaxBulkFileBytes + 1<<20

// sandboxMaxFileBody is the most a POST /sandbox/api/sayfile body may hold: the file in
// base64 (4 bytes for every 3) and the rest of the request.
const sandboxMaxFileBody = sandboxMaxFile/3*4 + 4 + sandboxMaxBody

// sandboxMaxFileName is the longest file name taken, in bytes, as most file systems allow.
const sandboxMaxFileName = 255

// sampleFileName is the name of the sample file the page offers.
const sampleFileName = "attachbot-sample.csv"

// fileView is a file of a message, as the page offers it for download. Name comes from
// whoever posted the file: the page shows it as text, never as markup.
type fileView struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
	// URL downloads the file through the sandbox: GET /sandbox/api/files/{messageId}/{index}.
	URL string `json:"url"`
}

// uploadedFile is the file of POST /sandbox/api/sayfile.
type uploadedFile struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	// Data is the file's bytes, in base64 in the JSON.
	Data []byte `json:"data"`
}

// sayFileRequest is the body of POST /sandbox/api/sayfile.
type sayFileRequest struct {
	PersonID string       `json:"personId"`
	RoomID   string       `json:"roomId"`
	Text     string       `json:"text"`
	File     uploadedFile `json:"file"`
}

// handleSayFile answers POST /sandbox/api/sayfile: it posts text with a file attached as a
// person in a space, as a Webex client would (mentioning the bot in a group space).
func (e *sandboxEnv) handleSayFile(w http.ResponseWriter, r *http.Request) {
	var in sayFileRequest
	const shape = `{"personId": "...", "roomId": "...", "text": "check", "file": {"name": "orgs.csv", "contentType": "text/csv", "data": "(the file in base64)"}}`
	if !decodeBodyUpTo(w, r, &in, shape, sandboxMaxFileBody) {
		return
	}
	text, ok := checkText(w, in.Text, "check")
	if !ok {
		return
	}
	f, ok := checkUpload(w, in.File)
	if !ok {
		return
	}
	p, room, ok := e.actorIn(w, in.PersonID, in.RoomID)
	if !ok {
		return
	}
	m, err := e.sim.SayFile(r.Context(), p.ID, room.ID, text, f)
	if err != nil {
		e.deliveryFailed(w, m.ID, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"messageId": m.ID})
}

// checkUpload checks the file of POST /sandbox/api/sayfile and returns it as the simulated
// Webex takes it; on a problem it answers 400 or 413 saying what to fix.
func checkUpload(w http.ResponseWriter, in uploadedFile) (webextest.File, bool) {
	name := in.Name
	switch {
	case strings.TrimSpace(name) == "":
		writeError(w, http.StatusBadRequest, "file.name is missing: the file's name, such as orgs.csv")
		return webextest.File{}, false
	case len(name) > sandboxMaxFileName:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("file.name is %d bytes long; give a name of at most %d", len(name), sandboxMaxFileName))
		return webextest.File{}, false
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == '/' || r == '\\' }):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("file.name %q holds a control character or a path separator; give the file's own name, such as orgs.csv", name))
		return webextest.File{}, false
	case len(in.Data) > sandboxMaxFile:
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is %d bytes; the sandbox posts files of at most %d bytes (6 MiB: attachbot itself reads at most 5 MiB)", len(in.Data), sandboxMaxFile))
		return webextest.File{}, false
	}
	ct := strings.TrimSpace(in.ContentType)
	if ct == "" {
		// A browser gives no type for a file it does not know; Webex then stores it as bytes.
		ct = "application/octet-stream"
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("file.contentType %q is not a media type such as text/csv", in.ContentType))
		return webextest.File{}, false
	}
	return webextest.File{Name: name, ContentType: ct, Data: in.Data}, true
}

// handleFile answers GET /sandbox/api/files/{messageId}/{index}: the file of a message, as
// an attachment to save, never a page to show: its name and bytes come from whoever posted it.
func (e *sandboxEnv) handleFile(w http.ResponseWriter, r *http.Request) {
	m, found := e.sim.Message(r.PathValue("messageId"))
	i, err := strconv.Atoi(r.PathValue("index"))
	switch {
	case !found:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no message %q", r.PathValue("messageId")))
		return
	case err != nil || i < 0 || i >= len(m.Files):
		writeError(w, http.StatusNotFound, fmt.Sprintf("message %q has no file %q: it has %d", m.ID, r.PathValue("index"), len(m.Files)))
		return
	}
	f, ok := e.sim.FileContent(m.Files[i])
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("the file %d of message %q is not in the simulated Webex", i, m.ID))
		return
	}
	serveAttachment(w, f)
}

// handleSample answers GET /sandbox/api/sample.csv: a CSV file with a row for each seeded
// organization, a bad row and a duplicate organization.
func (e *sandboxEnv) handleSample(w http.ResponseWriter, r *http.Request) {
	serveAttachment(w, webextest.File{Name: sampleFileName, ContentType: "text/csv; charset=utf-8", Data: sampleCSV()})
}

// serveAttachment answers with a file to save. Its content type is kept only when it parses
// (and text/html would still not be shown: nosniff, an attachment, and a policy that lets
// nothing run).
func serveAttachment(w http.ResponseWriter, f webextest.File) {
	ct := f.ContentType
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		ct = "application/octet-stream"
	}
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": f.Name})
	if disposition == "" {
		disposition = "attachment"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Length", strconv.Itoa(len(f.Data)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// A failed write means the page is gone; there is nobody left to tell.
	_, _ = w.Write(f.Data)
}

// sampleColumns are the columns of the sample file: the keys of the scenarios' attach lines.
var sampleColumns = []string{"org", "admin", "template", "packages", "name", "street", "city", "zip", "country", "verified-domain", "claimed-domain", "trial"}

// sampleCSV is the sample file: every scenario's attach as a row (an automatic attach, an
// approval, a trial, an existing customer, …), then a bad row (no organization id, an
// address without a country) and the first organization again, which the bot refuses as a
// duplicate.
func sampleCSV() []byte {
	scenarios := sandboxScenarios()
	rows := make([][]attachKey, 0, len(scenarios)+2)
	for _, s := range scenarios {
		rows = append(rows, s.Keys)
	}
	rows = append(rows,
		[]attachKey{{"org", "not-an-org-id"}, {"admin", "it@typo.example"}, {"template", "Standard"}, {"packages", "webex_meetings"},
			{"name", "Typo Traders"}, {"street", "1 Typo Lane"}, {"city", "Oslo"}},
		scenarios[0].Keys)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	// Writing to a bytes.Buffer cannot fail.
	_ = w.Write(sampleColumns)
	for _, keys := range rows {
		values := map[string]string{}
		for _, k := range keys {
			values[k.Key] = k.Value
		}
		record := make([]string, len(sampleColumns))
		for i, c := range sampleColumns {
			record[i] = values[c]
		}
		_ = w.Write(record)
	}
	w.Flush()
	return buf.Bytes()
}

// filesOf returns the views of a message's files, as far as the simulated Webex keeps them.
func (e *sandboxEnv) filesOf(m webextest.Message) []fileView {
	var out []fileView
	for i, contentURL := range m.Files {
		f, ok := e.fileInfo(contentURL)
		if !ok {
			continue
		}
		f.URL = fmt.Sprintf("/sandbox/api/files/%s/%d", m.ID, i)
		out = append(out, f)
	}
	return out
}

// fileInfo returns a stored file's name, type and size, remembered after the first look: a
// file never changes, and the state is built for every poll of the page.
func (e *sandboxEnv) fileInfo(contentURL string) (fileView, bool) {
	e.mu.Lock()
	v, ok := e.fileInfos[contentURL]
	e.mu.Unlock()
	if ok {
		return v, true
	}
	f, ok := e.sim.FileContent(contentURL)
	if !ok {
		return fileView{}, false
	}
	v = fileView{Name: f.Name, ContentType: f.ContentType, Size: len(f.Data)}
	e.mu.Lock()
	e.fileInfos[contentURL] = v
	e.mu.Unlock()
	return v, true
}
