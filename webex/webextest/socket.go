// The websocket connection of one device: authorization, pings, and writing activities.

package webextest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsConn is an accepted websocket. A writer goroutine sends its queued frames, so that the
// Sim never writes to a network connection with its lock held.
type wsConn struct {
	conn   *websocket.Conn
	device string // registration id
	owner  string // person id
	base   string
	// authorized and live are guarded by the Sim's lock: live sockets have had their buffer
	// state and get every new activity.
	authorized, live bool

	mu    sync.Mutex
	queue [][]byte
	wake  chan struct{}
	// closing, once set, is the close frame the writer sends before it closes the socket.
	closing []byte
}

// enqueueClose makes the writer send a close frame after the queued frames, then close.
func (c *wsConn) enqueueClose(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = msg
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// enqueue queues a frame for the writer.
func (c *wsConn) enqueue(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue = append(c.queue, b)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// writeLoop writes queued frames until the connection fails or stop closes.
func (c *wsConn) writeLoop(stop <-chan struct{}) {
	for {
		c.mu.Lock()
		q, closing := c.queue, c.closing
		c.queue = nil
		c.mu.Unlock()
		for _, b := range q {
			if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
		}
		if closing != nil {
			// The peer may be gone; the socket is closed either way.
			_ = c.conn.WriteControl(websocket.CloseMessage, closing, time.Now().Add(time.Second))
			_ = c.conn.Close()
			return
		}
		select {
		case <-c.wake:
		case <-stop:
			return
		}
	}
}

// authToken returns the token of an authorization frame's data.token ("Bearer x", as the
// Webex JavaScript SDK and webex_bot send it, or the bare token, as the Webex Go SDK does).
func authToken(token string) string {
	if scheme, rest, ok := strings.Cut(token, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(token)
}

// serveMercury answers GET /mercury/api/v1/apps/wx2/registrations/{id}/messages: the
// websocket of a device. A device that is unknown or expired answers 404 at the handshake;
// the first frame must be the authorization with a token of the device's owner, or the
// socket is closed with 4401; then mercury.buffer_state comes (see HoldBufferState), the
// activities not yet acknowledged, and every new one. Pings are answered with pongs.
func (s *Sim) serveMercury(w http.ResponseWriter, r *http.Request) {
	path := normalizePath(r.URL.Path)
	s.mu.Lock()
	call := s.openCallLocked(r, path)
	fault := s.takeFaultLocked(r.Method, path, nil)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var dev *Device
	if len(segs) == 8 && segs[1] == "api" && segs[5] == "registrations" && segs[7] == "messages" {
		dev = s.mercury.devices[segs[6]]
	}
	s.mu.Unlock()
	w.Header().Set("Trackingid", call.TrackingID)
	switch {
	case fault != nil && fault.Status != 0:
		call.Status = fault.Status
		s.record(call)
		s.write(w, call.TrackingID, fault.reply())
		return
	case dev == nil || dev.expired:
		call.Status = http.StatusNotFound
		s.record(call)
		s.write(w, call.TrackingID, errReply(failf(http.StatusNotFound, "Registration not found.")))
		return
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		call.Status = http.StatusBadRequest // Upgrade has answered already
		s.record(call)
		return
	}
	call.Status = http.StatusSwitchingProtocols
	s.record(call)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	c := &wsConn{conn: conn, device: dev.id, owner: dev.owner, base: scheme + "://" + r.Host, wake: make(chan struct{}, 1)}
	s.mu.Lock()
	s.mercury.sockets[c] = true
	s.mu.Unlock()
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop(stop)
	}()
	defer func() {
		close(stop)
		<-writerDone
		_ = conn.Close()
		s.mu.Lock()
		delete(s.mercury.sockets, c)
		s.changedLocked()
		s.mu.Unlock()
	}()
	if s.mercuryAuthorize(c) {
		s.mercuryRead(c)
		return
	}
	// Wait for the writer to send the close frame, or for the peer to go.
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			return
		}
	}
}

// openCallLocked starts the record of a websocket handshake.
func (s *Sim) openCallLocked(r *http.Request, path string) Call {
	s.tracking++
	now := s.nowLocked()
	c := Call{Method: r.Method, Path: path, Query: cloneValues(r.URL.Query()), TrackingID: "WEBEXTEST_" + strconv.Itoa(s.tracking), Time: now}
	if who := s.authenticateLocked(r.Header, now); who != nil {
		c.Identity = who.identity
	}
	return c
}

// mercuryAuthorize reads the authorization frame; it reports whether the socket may stay.
func (s *Sim) mercuryAuthorize(c *wsConn) bool {
	var auth struct {
		Type string `json:"type"`
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	_, b, err := c.conn.ReadMessage()
	if err != nil {
		return false
	}
	parseErr := json.Unmarshal(b, &auth)
	s.mu.Lock()
	defer s.mu.Unlock()
	who := s.tokens[authToken(auth.Data.Token)]
	refused := s.mercury.refuseAuth > 0
	if refused {
		s.mercury.refuseAuth--
	}
	if refused || parseErr != nil || auth.Type != "authorization" || who == nil || who.revoked || who.personID != c.owner {
		msg := websocket.FormatCloseMessage(4401, "authentication failed")
		c.enqueueClose(msg)
		return false
	}
	if _, open := s.mercury.sockets[c]; !open {
		return false // dropped meanwhile
	}
	c.authorized = true
	if !s.mercury.holdBuffer {
		s.goLiveLocked(c)
	}
	return true
}

// goLiveLocked sends an authorized socket its buffer state and the activities its owner has
// not acknowledged, and makes it receive new ones.
func (s *Sim) goLiveLocked(c *wsConn) {
	c.enqueue(mustMarshal(map[string]any{
		"id":   s.newFrameIDLocked(),
		"data": map[string]string{"eventType": "mercury.buffer_state"},
	}))
	for _, a := range s.mercury.activities {
		if a.Recipient == c.owner && !a.Acked {
			a.Sent++
			c.enqueue(a.frame(c.base))
		}
	}
	c.live = true
	s.changedLocked()
}

// mercuryRead answers pings and records acknowledgements until the socket closes.
func (s *Sim) mercuryRead(c *wsConn) {
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var f struct {
			ID        string `json:"id"`
			Type      string `json:"type"`
			MessageID string `json:"messageId"`
		}
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		switch f.Type {
		case "ping":
			s.mu.Lock()
			ignore := s.mercury.ignorePings
			s.mu.Unlock()
			if !ignore {
				c.enqueue(mustMarshal(map[string]string{"id": f.ID, "type": "pong"}))
			}
		case "ack":
			s.mu.Lock()
			ack := Ack{MessageID: f.MessageID, Time: s.nowLocked()}
			for _, a := range s.mercury.activities {
				if a.EnvelopeID == f.MessageID && a.Recipient == c.owner {
					a.Acked, ack.DataID = true, a.DataID
				}
			}
			s.mercury.acks = append(s.mercury.acks, ack)
			s.changedLocked()
			s.mu.Unlock()
		}
	}
}
