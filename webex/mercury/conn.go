package mercury

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// frame is a message the websocket server sends: an event envelope, or a pong.
type frame struct {
	ID   string `json:"id"`
	Type string `json:"type"` // "pong" for a pong; empty for an event
	Data struct {
		EventType string          `json:"eventType"`
		Activity  json.RawMessage `json:"activity"`
	} `json:"data"`
}

// The event types the transport reads.
const (
	eventBufferState        = "mercury.buffer_state"
	eventRegistrationStatus = "mercury.registration_status"
	eventActivity           = "conversation.activity"
)

// Close codes with which the server refuses the authorization (the Webex JavaScript SDK reads
// them so); the transport then registers a new device.
const (
	closeBadRequest   = 4400
	closeUnauthorized = 4401
	closeForbidden    = 4403
)

// errStaleDevice marks failures after which the device is replaced.
var errStaleDevice = errors.New("the device registration is stale or refused")

// newID returns a random UUID for frame ids.
func newID() string {
	var b [16]byte
	// crypto/rand.Read never fails (it panics instead).
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// socketURL adds the query parameters the Webex SDKs send to a device's webSocketUrl.
func (t *Transport) socketURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("the device's webSocketUrl %q: %w", raw, err)
	}
	q := u.Query()
	q.Set("outboundWireFormat", "text")
	q.Set("bufferStates", "true")
	q.Set("aliasHttpStatus", "true")
	q.Set("clientTimestamp", strconv.FormatInt(t.clock.Now().UnixMilli(), 10))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// connect dials the device's websocket, authorizes, and serves the connection until it fails
// or ctx ends.
func (t *Transport) connect(ctx context.Context, d *device) error {
	target, err := t.socketURL(d.WebSocketURL)
	if err != nil {
		t.replaceDevice(err.Error())
		return err
	}
	// The handshake's own timeout is wall-clock time, a bound against a server that never
	// answers; the authorization's timeout below runs on the transport's clock.
	tr := clientTransport(t.client)
	dialer := websocket.Dialer{
		Proxy: t.opts.Proxy, HandshakeTimeout: t.opts.AuthTimeout,
		TLSClientConfig: tr.TLSClientConfig, NetDialContext: tr.DialContext,
	}
	header := http.Header{"Authorization": {"Bearer " + t.opts.Token}}
	conn, resp, err := dialer.DialContext(ctx, target, header)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
				t.replaceDevice(fmt.Sprintf("the websocket handshake answered %d", resp.StatusCode))
				return fmt.Errorf("websocket handshake: HTTP %d: %w", resp.StatusCode, errStaleDevice)
			}
			return fmt.Errorf("websocket handshake: HTTP %d: %w", resp.StatusCode, err)
		}
		return fmt.Errorf("websocket dial: %w", err)
	}
	c := &socket{conn: conn, frames: make(chan frame), pongs: make(chan string, 1), quit: make(chan struct{}), done: make(chan struct{})}
	defer c.close()
	go c.read()
	return t.serve(ctx, c, d)
}

// socket is an open websocket: a reader goroutine feeds frames and pongs to the serving
// goroutine, which alone writes.
type socket struct {
	conn   *websocket.Conn
	frames chan frame
	pongs  chan string
	quit   chan struct{} // closed when the serving goroutine is done with the socket
	done   chan struct{} // closed when the reader stops; err then holds why

	err  error
	once sync.Once
}

// read reads frames until the connection fails.
func (c *socket) read() {
	defer close(c.done)
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			c.err = err
			return
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			// Not an envelope; nothing in it can be acknowledged or processed.
			continue
		}
		if f.Type == "pong" {
			select {
			case c.pongs <- f.ID:
			default:
			}
			continue
		}
		select {
		case c.frames <- f:
		case <-c.quit:
			return
		}
	}
}

// send writes v as a JSON text frame.
func (c *socket) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.conn.WriteMessage(websocket.TextMessage, b)
}

// close closes the connection, with a normal close frame first, and waits for the reader.
func (c *socket) close() {
	c.once.Do(func() {
		close(c.quit)
		// The peer may be gone already; the connection is closed either way. The deadline
		// only bounds a write to a peer that stopped reading.
		_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
		_ = c.conn.Close()
	})
	<-c.done
}

// readErr turns the reader's error into the session's, replacing the device when the server
// refused the authorization.
func (t *Transport) readErr(c *socket) error {
	var ce *websocket.CloseError
	if errors.As(c.err, &ce) {
		switch ce.Code {
		case closeBadRequest, closeUnauthorized, closeForbidden:
			t.replaceDevice(fmt.Sprintf("the websocket was closed with %d %s", ce.Code, ce.Text))
			return fmt.Errorf("websocket closed: %d %s: %w", ce.Code, ce.Text, errStaleDevice)
		}
	}
	return fmt.Errorf("websocket read: %w", c.err)
}

// serve authorizes the connection, then handles frames and keeps the connection alive.
func (t *Transport) serve(ctx context.Context, c *socket, d *device) error {
	auth := map[string]any{"id": newID(), "type": "authorization", "data": map[string]string{"token": "Bearer " + t.opts.Token}}
	if err := c.send(auth); err != nil {
		return fmt.Errorf("send the authorization: %w", err)
	}
	timeout := t.clock.After(t.opts.AuthTimeout)
	for authorized := false; !authorized; {
		select {
		case f := <-c.frames:
			switch f.Data.EventType {
			case eventBufferState, eventRegistrationStatus:
				authorized = true
				// Connected before the acknowledgement, so that whoever sees the
				// acknowledgement sees the status too.
				t.setConnected(true)
			default:
				if f.Type == "error" {
					t.replaceDevice("the server answered the authorization with an error")
					return fmt.Errorf("authorization refused: %w", errStaleDevice)
				}
			}
			t.ack(c, f)
		case <-c.done:
			return t.readErr(c)
		case <-timeout:
			return fmt.Errorf("no %s within %s of the authorization", eventBufferState, t.opts.AuthTimeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	t.log.Info("websocket connected", "device", d.URL)

	pingID := newID()
	if err := c.send(map[string]string{"id": pingID, "type": "ping"}); err != nil {
		return fmt.Errorf("send a ping: %w", err)
	}
	pongDue := t.clock.After(t.opts.PongTimeout)
	var nextPing <-chan time.Time
	for {
		select {
		case id := <-c.pongs:
			if id == pingID {
				pongDue, nextPing = nil, t.clock.After(t.opts.PingInterval)
			}
		case <-nextPing:
			pingID = newID()
			if err := c.send(map[string]string{"id": pingID, "type": "ping"}); err != nil {
				return fmt.Errorf("send a ping: %w", err)
			}
			nextPing, pongDue = nil, t.clock.After(t.opts.PongTimeout)
		case <-pongDue:
			return fmt.Errorf("no pong within %s", t.opts.PongTimeout)
		case f := <-c.frames:
			if err := t.handle(ctx, c, f, d); err != nil {
				return err
			}
		case <-c.done:
			return t.readErr(c)
		case <-ctx.Done():
			return nil
		}
	}
}

// ack acknowledges a frame, as the Webex JavaScript SDK does with every frame it has an id
// for; unacknowledged frames are delivered again after a reconnect.
func (t *Transport) ack(c *socket, f frame) {
	if f.ID == "" {
		return
	}
	if err := c.send(map[string]string{"type": "ack", "messageId": f.ID}); err != nil {
		// The connection is failing; the reader reports it, and the frame comes again.
		t.log.Warn("could not acknowledge a frame", "id", f.ID, "err", err)
	}
}
