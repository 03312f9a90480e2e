package handlers

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"attachbot/bot"
)

// MaxWebhookBody is the largest webhook body accepted; a Webex envelope is a few hundred
// bytes.
const MaxWebhookBody = 1 << 20

// envelope is the part of a Webex webhook delivery the bot reads.
type envelope struct {
	Resource string `json:"resource"`
	Event    string `json:"event"`
	ActorID  string `json:"actorId"`
	Data     struct {
		ID      string `json:"id"`
		RoomID  string `json:"roomId"`
		Created string `json:"created"`
	} `json:"data"`
}

// The outcomes of a webhook delivery, as DeliveryCounter counts them.
const (
	accepted = "accepted"
	refused  = "refused"
)

// handleWebhook verifies a Webex webhook delivery and stores it in the bot's durable inbox
// before answering 200. The signature is checked over the raw bytes before anything is
// parsed; a missing or wrong one gets 401 and nothing else happens.
func handleWebhook(inbox Inbox, secret []byte, deliveries DeliveryCounter, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			deliveries.Delivery(refused, "body_too_large")
			http.Error(w, "body larger than 1 MiB", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			deliveries.Delivery(refused, "unreadable_body")
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if !validSignature(secret, body, r.Header) {
			logger.Warn("webhook refused: bad or missing signature", "remote", r.RemoteAddr)
			deliveries.Delivery(refused, "bad_signature")
			http.Error(w, "bad or missing X-Spark-Signature", http.StatusUnauthorized)
			return
		}
		var env envelope
		if err := json.Unmarshal(body, &env); err != nil {
			deliveries.Delivery(refused, "not_json")
			http.Error(w, "body is not JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		if env.Resource == "" || env.Event == "" || env.Data.ID == "" {
			deliveries.Delivery(refused, "missing_fields")
			http.Error(w, "resource, event and data.id are required", http.StatusBadRequest)
			return
		}
		ev := bot.Event{
			Key:      bot.EventKey(env.Resource, env.Event, env.Data.ID),
			Resource: env.Resource, Event: env.Event, DataID: env.Data.ID,
			ActorID: env.ActorID, RoomID: env.Data.RoomID,
			// data.created is part of the signed bytes, so a replay carries the original
			// time; the bot refuses what is too old. Unparseable, it is left to the check of
			// the resource Webex returns.
			Created: parseCreated(env.Data.Created),
		}
		if err := inbox.Accept(r.Context(), ev); err != nil {
			logger.Error("webhook not stored; Webex may deliver it again", "event", ev.Key, "err", err)
			deliveries.Delivery(refused, "store_failed")
			// 503: the store (a database that is down, a full disk) is unavailable, not the
			// delivery wrong; Webex delivers a refused event again.
			http.Error(w, "could not store the event; deliver it again", http.StatusServiceUnavailable)
			return
		}
		deliveries.Delivery(accepted, "acknowledged")
		w.WriteHeader(http.StatusOK)
	})
}

// parseCreated reads a Webex timestamp (RFC 3339, such as 2015-10-18T14:26:16.000Z), or
// returns the zero time.
func parseCreated(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// validSignature checks X-Spark-Signature (and X-Webex-Signature, which some Webex
// documentation names): the hex HMAC-SHA1 of the raw body keyed with the secret, compared in
// constant time.
func validSignature(secret, body []byte, h http.Header) bool {
	mac := hmac.New(sha1.New, secret)
	mac.Write(body)
	want := mac.Sum(nil)
	for _, name := range []string{"X-Spark-Signature", "X-Webex-Signature"} {
		got, err := hex.DecodeString(strings.TrimSpace(h.Get(name)))
		if err == nil && len(got) > 0 && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

// Sign returns the X-Spark-Signature of body, as Webex computes it.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
