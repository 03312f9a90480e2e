package webex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"attachbot/bot"
)

// Download reads the file of a message's content URL with the bot's token. The URL must be
// on the API's own host: the token is never sent anywhere else. A file of more than maxBytes
// is cut there and refused with an error wrapping bot.ErrFileTooLarge.
func (c *Client) Download(ctx context.Context, contentURL string, maxBytes int64) (bot.File, error) {
	u, err := url.Parse(contentURL)
	if err != nil || u.Scheme != c.baseURL.Scheme || u.Host != c.baseURL.Host {
		return bot.File{}, fmt.Errorf("download %q: not a content URL of %s, so the bot's token is not sent there", contentURL, c.baseURL.Host)
	}
	resp, err := c.call(ctx, request{method: http.MethodGet, url: u.String(), limit: maxBytes}, nil)
	if err != nil {
		return bot.File{}, fmt.Errorf("download %s: %w", contentURL, err)
	}
	if int64(len(resp.body)) > maxBytes {
		return bot.File{}, fmt.Errorf("download %s: more than %d bytes: %w", contentURL, maxBytes, bot.ErrFileTooLarge)
	}
	f := bot.File{ContentType: resp.header.Get("Content-Type"), Data: resp.body}
	if _, params, err := mime.ParseMediaType(resp.header.Get("Content-Disposition")); err == nil {
		f.Name = params["filename"]
	}
	return f, nil
}

// sendFile posts a message with a file (multipart POST /messages): the message's markdown and
// the file as the "files" part. A card cannot go with a file.
func (c *Client) sendFile(ctx context.Context, body wireNewMessage, f bot.File) (wireMessage, error) {
	if len(body.Attachments) > 0 {
		return wireMessage{}, errors.New("a message cannot carry a card and a file")
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, field := range []struct{ name, value string }{
		{"roomId", body.RoomID}, {"toPersonEmail", body.ToPersonEmail}, {"parentId", body.ParentID}, {"markdown", body.Markdown},
	} {
		if field.value == "" {
			continue
		}
		if err := w.WriteField(field.name, field.value); err != nil {
			return wireMessage{}, fmt.Errorf("encode the multipart body: %w", err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "files", "filename": fileName(f.Name)}))
	ct := f.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := w.CreatePart(h)
	if err != nil {
		return wireMessage{}, fmt.Errorf("encode the multipart body: %w", err)
	}
	if _, err := part.Write(f.Data); err != nil {
		return wireMessage{}, fmt.Errorf("encode the multipart body: %w", err)
	}
	if err := w.Close(); err != nil {
		return wireMessage{}, fmt.Errorf("encode the multipart body: %w", err)
	}
	var m wireMessage
	_, err = c.call(ctx, request{method: http.MethodPost, path: "messages", raw: buf.Bytes(), rawType: w.FormDataContentType()}, &m)
	return m, err
}

// wireEdit is the body of PUT /messages/{id}.
type wireEdit struct {
	RoomID   string `json:"roomId"`
	Markdown string `json:"markdown"`
}

// EditMessage replaces the markdown of one of the bot's messages (PUT /messages/{id}).
// Markdown longer than bot.MaxMessageBytes is cut as Send cuts it.
func (c *Client) EditMessage(ctx context.Context, messageID, roomID, markdown string) (bot.Message, error) {
	seg, err := segment(messageID)
	if err != nil {
		return bot.Message{}, fmt.Errorf("edit message: %w", err)
	}
	if len(markdown) > bot.MaxMessageBytes {
		markdown = bot.TrimUTF8(markdown, bot.MaxMessageBytes-len(trimMarker)) + trimMarker
	}
	var m wireMessage
	if _, err := c.withBody(ctx, http.MethodPut, "messages/"+seg, false, wireEdit{RoomID: roomID, Markdown: markdown}, &m); err != nil {
		return bot.Message{}, fmt.Errorf("edit message %s: %w", messageID, err)
	}
	return m.message(), nil
}

// fileName is a file name safe for a multipart header: its last path element, without
// control characters.
func fileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
}
