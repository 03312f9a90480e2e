// Files on messages: a multipart upload or a person's SayFile stores the file's bytes, the
// message's files[] names its content URL (GET /v1/contents/{contentId}), and only the
// members of the message's room may read it: any other token gets 401.

package webextest

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// KindContent is the kind of a file's content id.
const KindContent = "CONTENT"

// contentPath is the path of the content URLs, which the Sim keeps relative and renders
// absolute, with the caller's scheme and host, in its answers.
const contentPath = "/v1/contents/"

// File is a file a person attaches to a message with SayFile.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// upload is a file of a multipart body.
type upload File

// content is a stored file and the room whose members may read it.
type content struct {
	roomID string
	file   File
}

// readUpload reads a multipart file part.
func readUpload(fh *multipart.FileHeader) (upload, error) {
	f, err := fh.Open()
	if err != nil {
		return upload{}, fmt.Errorf("The multipart file %q could not be read: %v", fh.Filename, err)
	}
	defer func() { _ = f.Close() }() // a read-only part: nothing to lose on close
	data, err := io.ReadAll(f)
	if err != nil {
		return upload{}, fmt.Errorf("The multipart file %q could not be read: %v", fh.Filename, err)
	}
	ct := fh.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	return upload{Name: fh.Filename, ContentType: ct, Data: data}, nil
}

// storeContentLocked keeps an uploaded file for the room and returns its content URL,
// relative to the Sim's root.
func (s *Sim) storeContentLocked(roomID string, up upload) string {
	id := s.newIDLocked(KindContent)
	s.contents[id] = &content{roomID: roomID, file: File{Name: up.Name, ContentType: up.ContentType, Data: slices.Clone(up.Data)}}
	return contentPath + id
}

// withContentURLs returns m with its stored files' content URLs made absolute under base.
func withContentURLs(m Message, base string) Message {
	m.Files = slices.Clone(m.Files)
	for i, f := range m.Files {
		if strings.HasPrefix(f, contentPath) {
			m.Files[i] = base + f
		}
	}
	return m
}

// GET /v1/contents/{contentId}: the file's bytes, with its content type and name. A token of
// someone who is not a member of the file's room gets 401, as the bot is told for a file it
// may not read (Webex's exact answer there is UNCONFIRMED; 401 is what the bot must handle).
func (s *Sim) handleGetContent(q *request) reply {
	c, ok := s.contents[q.params[0]]
	switch {
	case !ok:
		return errReply(failf(http.StatusNotFound, msgNotFound))
	case !slices.Contains(s.rooms[c.roomID].Members, q.who.personID):
		return errReply(failf(http.StatusUnauthorized, msgUnauthorized))
	}
	h := http.Header{}
	h.Set("Content-Type", c.file.ContentType)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", c.file.Name))
	h.Set("Content-Length", strconv.Itoa(len(c.file.Data)))
	return reply{status: http.StatusOK, header: h, raw: slices.Clone(c.file.Data)}
}

// SayFile is Say with a file attached, as a Webex client posts it: the message's files holds
// the file's content URL (relative to the Sim's root in what this method returns; absolute
// in the API's answers).
func (s *Sim) SayFile(ctx context.Context, personID, roomID, text string, f File) (Message, error) {
	s.mu.Lock()
	m, pend, err := s.sayLocked(personID, roomID, "", text, &f)
	s.mu.Unlock()
	if err != nil {
		return Message{}, err
	}
	return m, deliveryError(s.deliver(ctx, pend))
}

// FileContent returns the file of a content URL (absolute or relative), as stored.
func (s *Sim) FileContent(contentURL string) (File, bool) {
	_, id, ok := strings.Cut(contentURL, contentPath)
	if !ok {
		return File{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contents[id]
	if !ok {
		return File{}, false
	}
	f := c.file
	f.Data = slices.Clone(f.Data)
	return f, true
}
