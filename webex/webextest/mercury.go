// The websocket ("Mercury") state: the conversation.activity records pushed to the bot's
// devices, their acknowledgements, and the websocket faults a test injects.

package webextest

import (
	"slices"
	"strconv"
	"time"
)

// mercuryState is the Sim's device service and websocket ("Mercury").
type mercuryState struct {
	devices     map[string]*Device
	deviceOrder []string
	registered  map[string]bool // people who registered a device: activities are kept for them
	sockets     map[*wsConn]bool
	activities  []*activityRecord
	acks        []Ack
	holdBuffer  bool
	refuseAuth  int  // authorizations still to refuse
	ignorePings bool // answer no pings
}

func newMercuryState() mercuryState {
	return mercuryState{
		devices: map[string]*Device{}, registered: map[string]bool{}, sockets: map[*wsConn]bool{},
	}
}

// Activity is a conversation.activity the Sim pushed, or keeps for a device that is not
// connected.
type Activity struct {
	EnvelopeID string // the id of the websocket frame, which the client acknowledges
	Verb       string // "post" or "cardAction"
	ActivityID string // the UUID of the message or card submission
	DataID     string // its REST id
	Recipient  string // the person id of the device owner
	Sent       int    // how many times it was written to a websocket
	Acked      bool
}

// Ack is an acknowledgement a client sent.
type Ack struct {
	MessageID string // the acknowledged frame's id
	DataID    string // the REST id of the acknowledged activity's object; "" for other frames
	Time      time.Time
}

// activityRecord is an activity with what it takes to write it.
type activityRecord struct {
	Activity
	actorUUID, actorEmail, convUUID string
	published                       time.Time
}

// frame renders the activity's websocket frame; base is the scheme and host the client
// reached the Sim with, for the conversation URL.
func (a *activityRecord) frame(base string) []byte {
	b, _ := marshal(map[string]any{ // a map of strings and times always encodes
		"id": a.EnvelopeID,
		"data": map[string]any{
			"eventType": "conversation.activity",
			"activity": map[string]any{
				"id": a.ActivityID, "objectType": "activity", "verb": a.Verb,
				"published": a.published.Format(time.RFC3339Nano),
				"actor":     map[string]any{"id": a.actorUUID, "objectType": "person", "emailAddress": a.actorEmail},
				"target": map[string]any{
					"id": a.convUUID, "objectType": "conversation",
					"url": base + "/conversation/api/v1/conversations/" + a.convUUID,
				},
			},
		},
		"timestamp": a.published.UnixMilli(), "trackingId": "WEBEXTEST_" + a.EnvelopeID,
	})
	return b
}

// pushLocked keeps an activity for recipient, when the recipient has registered a device,
// and writes it to the recipient's open websockets. It stays kept until acknowledged.
func (s *Sim) pushLocked(recipient, verb, dataID, actorID, roomID string, published time.Time) {
	if !s.mercury.registered[recipient] {
		return
	}
	_, _, objUUID, _ := splitID(dataID)
	_, _, actorUUID, _ := splitID(actorID)
	_, _, convUUID, _ := splitID(roomID)
	email := ""
	if p, ok := s.people[actorID]; ok && len(p.Emails) > 0 {
		email = p.Emails[0]
	}
	a := &activityRecord{
		Activity: Activity{
			EnvelopeID: derivedUUID("envelope", s.opts.IDSeed, dataID, recipient),
			Verb:       verb, ActivityID: objUUID, DataID: dataID, Recipient: recipient,
		},
		actorUUID: actorUUID, actorEmail: email, convUUID: convUUID, published: published,
	}
	s.mercury.activities = append(s.mercury.activities, a)
	for c := range s.mercury.sockets {
		if c.owner == recipient && c.live {
			a.Sent++
			c.enqueue(a.frame(c.base))
		}
	}
	s.changedLocked()
}

// pushMessageLocked pushes the post activity of a new message to the bot, when the bot may
// see it. Unlike webhooks, the bot's own messages are pushed too: Mercury keeps a person's
// devices in step with what they themselves post (an inference from the peers, which all drop
// their own activities).
func (s *Sim) pushMessageLocked(m *Message, r *Room) {
	switch {
	case !slices.Contains(r.Members, BotID):
	case m.PersonID != BotID && r.Type == RoomTypeGroup && !slices.Contains(m.MentionedPeople, BotID):
	default:
		s.pushLocked(BotID, "post", m.ID, m.PersonID, m.RoomID, m.Created)
	}
}

// Activities returns every activity pushed or kept so far, oldest first.
func (s *Sim) Activities() []Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Activity, 0, len(s.mercury.activities))
	for _, a := range s.mercury.activities {
		out = append(out, a.Activity)
	}
	return out
}

// Acks returns every acknowledgement received, oldest first.
func (s *Sim) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mercury.acks)
}

// Connections returns how many websockets are open and authorized.
func (s *Sim) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.mercury.sockets {
		if c.live {
			n++
		}
	}
	return n
}

// DropConnections closes every websocket abruptly, as a network failure does, and returns how
// many it closed. Unacknowledged activities are written again when the device reconnects.
func (s *Sim) DropConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.mercury.sockets)
	s.closeSocketsLocked(func(*wsConn) bool { return true })
	s.changedLocked()
	return n
}

// HoldBufferState makes new websockets wait for ReleaseBufferState before their
// mercury.buffer_state frame, as a slow Mercury does; a client that gives up meanwhile is
// disconnected.
func (s *Sim) HoldBufferState() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mercury.holdBuffer = true
}

// ReleaseBufferState ends HoldBufferState: waiting websockets get their buffer state.
func (s *Sim) ReleaseBufferState() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mercury.holdBuffer = false
	for c := range s.mercury.sockets {
		if c.authorized && !c.live {
			s.goLiveLocked(c)
		}
	}
}

// RefuseAuthorizations makes the next n authorization frames fail, even with a good token:
// the socket is closed with 4401, as Mercury refuses an authorization.
func (s *Sim) RefuseAuthorizations(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mercury.refuseAuth = n
}

// IgnorePings makes the websockets answer no pings (on) or answer them again (off), as a
// connection that silently died does.
func (s *Sim) IgnorePings(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mercury.ignorePings = on
}

// closeSocketsLocked closes the sockets that match.
func (s *Sim) closeSocketsLocked(match func(*wsConn) bool) {
	for c := range s.mercury.sockets {
		if match(c) {
			delete(s.mercury.sockets, c)
			// Closing the network connection makes the socket's reader stop.
			_ = c.conn.NetConn().Close()
		}
	}
}

// newFrameIDLocked returns a new id for a frame that is not an activity.
func (s *Sim) newFrameIDLocked() string {
	s.seq++
	return derivedUUID("frame", s.opts.IDSeed, strconv.Itoa(s.seq))
}

// mustMarshal encodes a value made of strings and maps, which always encodes.
func mustMarshal(v any) []byte {
	b, _ := marshal(v)
	return b
}
