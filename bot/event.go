package bot

import "time"

// Event is a verified Webex webhook delivery, as kept in the durable inbox until it has been
// processed. Key identifies the underlying change (resource, event and data id), so that a
// redelivery of the same change is recognised.
type Event struct {
	Key string `json:"key"`
	// Seq is the event's place in the inbox, assigned by the store when it is added: the
	// order of arrival (zero for an event kept by a version before it).
	Seq      uint64 `json:"seq,omitempty"`
	Resource string `json:"resource"`
	Event    string `json:"event"`
	DataID   string `json:"dataId"`
	ActorID  string `json:"actorId"`
	RoomID   string `json:"roomId"`
	// Created is when the change happened, as the signed delivery's data.created says
	// (zero when it did not say).
	Created   time.Time `json:"created,omitempty"`
	Received  time.Time `json:"received"`
	Attempts  int       `json:"attempts"`
	NotBefore time.Time `json:"notBefore,omitempty"`
	LastError string    `json:"lastError,omitempty"`
}

// EventRef is what the bot keeps in memory of an event waiting in the inbox: the fields of
// its Event that place it in its lane and in time.
type EventRef struct {
	Key       string
	Seq       uint64
	RoomID    string
	Received  time.Time
	NotBefore time.Time
}

// EventLane returns the inbox lane of the event with key about space roomID: its space, so
// that the events of one space are processed one at a time in arrival order. An event that
// names no space has a lane of its own. It is the one definition of an event's lane: the bot's
// in-memory inbox and the stores (which hand out only the head of a lane) both use it.
func EventLane(key, roomID string) string {
	if roomID == "" {
		return "event|" + key
	}
	return "room|" + roomID
}

// Lane returns the event's inbox lane (EventLane).
func (ev Event) Lane() string { return EventLane(ev.Key, ev.RoomID) }

// Lane returns the inbox lane of the event ref points at (EventLane).
func (ref EventRef) Lane() string { return EventLane(ref.Key, ref.RoomID) }

// MaxEventAge is how old a change may be when its delivery comes in. Webex delivers at once
// and retries for minutes, not days; an older delivery is a replay of captured bytes (whose
// key may have been forgotten once Config.Retention passed), and is acknowledged without being
// acted on.
const MaxEventAge = 24 * time.Hour

// stale reports whether a change created at created is too old to act on when it was
// received at received. An unknown creation time is not stale here; the resource read from
// Webex tells it.
func stale(created, received time.Time) bool {
	return !created.IsZero() && received.Sub(created) > MaxEventAge
}

// EventKey returns the deduplication key of a webhook delivery.
func EventKey(resource, event, dataID string) string {
	return resource + "/" + event + "/" + dataID
}

// Outgoing is a message waiting in the durable outbox. Key makes enqueueing idempotent: a
// message with a key already enqueued (or already sent) is not enqueued again, so work that
// is redone after a crash does not send its messages twice.
type Outgoing struct {
	Key string `json:"key"`
	// RequestID is the request the message is about, for a message about one: a notice to
	// the partner's thread, a card or a note to the customer admin.
	RequestID string     `json:"requestId,omitempty"`
	Seq       uint64     `json:"seq"` // assigned by the store; the send order
	Message   OutMessage `json:"message"`
	// DeleteMessageID, when set, makes the entry the deletion of that message of the bot's
	// (a card that can no longer act) instead of a message to send: Message is then empty.
	DeleteMessageID string    `json:"deleteMessageId,omitempty"`
	Created         time.Time `json:"created"`
	Attempts        int       `json:"attempts"`
	NotBefore       time.Time `json:"notBefore,omitempty"`
	LastError       string    `json:"lastError,omitempty"`
}
