package bot

import (
	"fmt"
	"strings"
	"time"
)

// The outbox keys. A key names a message so that enqueueing it again (an event processed
// again after a crash, a sweep that runs twice) sends it once; every key is built here, and
// none is parsed back: an Outgoing about a request carries its RequestID.

// requestKeyPrefix starts the key of every message about a request.
const requestKeyPrefix = "req/"

// What a message about a request is, the part of its key after the request's id.
const (
	whatApproval       = "approval"        // the approval card to the customer admin
	whatHalfwayAdmin   = "halfway-admin"   // the approval card again, half-way to expiry
	whatExpiredAdmin   = "expired-admin"   // the note that the request expired
	whatWithdrawnAdmin = "withdrawn-admin" // the note that the partner withdrew it
	whatDecidedAck     = "decided-ack"     // the thanks to the customer admin who decided
	whatHalfway        = "halfway"         // the partner's notice that the approval is half-way to expiry
	whatReminder       = "reminder/"       // + the event key: the approval card sent again by `remind`
	whatFullAdmin      = "fulladmin/"      // + the event key: the Full Admin request card
	whatUndelivered    = "undelivered/"    // + the undelivered message's what: the partner is told
)

// requestKey returns the key of a message about request id; what says which message.
func requestKey(id, what string) string { return requestKeyPrefix + id + "/" + what }

// requestMessage returns an outbox entry about request id, keyed by what.
func requestMessage(id, what string, created time.Time, m OutMessage) Outgoing {
	return Outgoing{Key: requestKey(id, what), RequestID: id, Created: created, Message: m}
}

// requestWhat returns what an entry about a request is (the key after the request's id), or
// "" for an entry about no request.
func requestWhat(o Outgoing) string {
	if o.RequestID == "" {
		return ""
	}
	return strings.TrimPrefix(o.Key, requestKey(o.RequestID, ""))
}

// RequestIDOfKey returns the request an outbox key built by requestKey is about, or "". The
// store uses it once, to fill in Outgoing.RequestID in entries stored before the field was.
func RequestIDOfKey(key string) string {
	rest, ok := strings.CutPrefix(key, requestKeyPrefix)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// turnKey returns the key of the nth message a turn sends because of an event.
func turnKey(eventKey string, n int) string { return fmt.Sprintf("%s#%d", eventKey, n) }

// partnerNoteKey returns the key of the note to the partner's thread about a refused click.
func partnerNoteKey(eventKey string) string { return eventKey + "#partner" }

// failedEventKey returns the key of the notice that an event was given up on.
func failedEventKey(eventKey string) string { return eventKey + "#failed" }

// deleteKey returns the key of the deletion of one of the bot's messages.
func deleteKey(messageID string) string { return "delete/" + messageID }

// digestKey returns the key of part i of a space's digest due at due.
func digestKey(roomID string, due time.Time, i int) string {
	return fmt.Sprintf("digest/%s/%d/%d", roomID, due.Unix(), i)
}

// webhooksKey returns the key of a space's note about the bot's webhooks at now.
func webhooksKey(roomID string, now time.Time) string {
	return fmt.Sprintf("webhooks/%s/%d", roomID, now.Unix())
}
