// Composing a message: decoding POST /v1/messages (JSON or multipart), checking it as Webex
// does, and rendering its markdown and mentions into text and html.

package webextest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

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
	// uploads are the files of a multipart body, with their bytes; Files names them.
	uploads []upload
}

// decodeMessageInput reads a message body: JSON, or a form (multipart or urlencoded, as some
// SDKs send text-only messages).
func decodeMessageInput(q *request) (messageInput, error) {
	var in messageInput
	form, uploads, isForm, err := readForm(q)
	if err != nil {
		return in, failf(http.StatusBadRequest, "%v", err)
	}
	if !isForm {
		err := decodeJSON(q.body, &in)
		return in, err
	}
	in.RoomID, in.ToPersonID, in.ToPersonEmail = form.Get("roomId"), form.Get("toPersonId"), form.Get("toPersonEmail")
	in.ParentID, in.Text, in.Markdown = form.Get("parentId"), form.Get("text"), form.Get("markdown")
	in.Files = form["files"]
	in.uploads = uploads
	return in, nil
}

// readForm reads a form body (multipart or urlencoded, by the Content-Type), with the names of
// uploaded files first under "files", and the uploaded files with their bytes; isForm is
// false for any other body, which is JSON.
func readForm(q *request) (form url.Values, uploads []upload, isForm bool, err error) {
	mediaType, params, err := mime.ParseMediaType(q.header.Get("Content-Type"))
	if err != nil {
		mediaType = "application/json"
	}
	switch mediaType {
	case "multipart/form-data":
		mf, err := multipart.NewReader(bytes.NewReader(q.body), params["boundary"]).ReadForm(maxBody)
		if err != nil {
			return nil, nil, true, fmt.Errorf("The multipart body could not be read: %v", err)
		}
		// ReadForm keeps at most maxBody in memory, so temporary files are unlikely. A
		// failure to remove one is of no concern to the caller.
		defer func() { _ = mf.RemoveAll() }()
		form = url.Values(mf.Value)
		var files []string
		for _, fhs := range mf.File {
			for _, fh := range fhs {
				up, err := readUpload(fh)
				if err != nil {
					return nil, nil, true, err
				}
				files = append(files, fh.Filename)
				uploads = append(uploads, up)
			}
		}
		if files = append(files, form["files"]...); len(files) > 0 {
			form["files"] = files
		}
		return form, uploads, true, nil
	case "application/x-www-form-urlencoded":
		if form, err = url.ParseQuery(string(q.body)); err != nil {
			return nil, nil, true, fmt.Errorf("The form body could not be read: %v", err)
		}
		return form, nil, true, nil
	default:
		return nil, nil, false, nil
	}
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
	case len(in.uploads) > 0 && len(in.uploads) != len(in.Files):
		return Message{}, nil, failf(http.StatusBadRequest, "A message with an uploaded file may not name a file URL too.")
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
	if len(in.uploads) > 0 {
		m.Files = []string{s.storeContentLocked(r.ID, in.uploads[0])}
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

// sparkMention returns the html of a person mention, as Webex clients write it.
func sparkMention(personID, name string) string {
	return `<spark-mention data-object-type="person" data-object-id="` + html.EscapeString(personID) + `">` +
		html.EscapeString(name) + `</spark-mention>`
}
