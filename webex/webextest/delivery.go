// Webhook delivery: the events a change raises, which webhooks they match, and the signed
// POSTs to each target (with Webex's disabling after repeated failures).

package webextest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// SignatureHeader is the header carrying a delivery's signature.
const SignatureHeader = "X-Spark-Signature"

// Webex disables a webhook after 100 failed deliveries within five minutes.
const (
	disableAfterFailures = 100
	failureWindow        = 5 * time.Minute
)

// Envelope is the body of a webhook delivery.
type Envelope struct {
	ID        string    `json:"id"` // the webhook's id
	Name      string    `json:"name"`
	Resource  string    `json:"resource"`
	Event     string    `json:"event"`
	Filter    string    `json:"filter,omitempty"`
	OrgID     string    `json:"orgId"`
	CreatedBy string    `json:"createdBy"`
	AppID     string    `json:"appId"`
	OwnedBy   string    `json:"ownedBy"`
	Status    string    `json:"status"`
	ActorID   string    `json:"actorId"`
	Data      EventData `json:"data"`
}

// EventData is an envelope's data: the id of what changed and some metadata, never a
// message's text.
type EventData struct {
	ID          string    `json:"id"`
	Type        string    `json:"type,omitempty"` // attachment actions: "submit"
	RoomID      string    `json:"roomId,omitempty"`
	RoomType    string    `json:"roomType,omitempty"`
	MessageID   string    `json:"messageId,omitempty"`
	PersonID    string    `json:"personId,omitempty"`
	PersonEmail string    `json:"personEmail,omitempty"`
	Created     time.Time `json:"created"`
}

// Delivery is one POST of an event to a webhook's target URL.
type Delivery struct {
	WebhookID string // "" for SendSigned
	TargetURL string
	Resource  string
	Event     string
	DataID    string
	ActorID   string
	Body      []byte // the raw envelope
	Signature string // the X-Spark-Signature header; "" without a secret
	// Status is the target's HTTP status; 0 when it could not be reached (see Err).
	Status int
	Err    error
	Time   time.Time
}

func (d Delivery) clone() Delivery {
	d.Body = bytes.Clone(d.Body)
	return d
}

// OK reports whether the target accepted the delivery (a 2xx answer).
func (d Delivery) OK() bool {
	return d.Err == nil && d.Status >= 200 && d.Status < 300
}

// pending is a delivery decided under the lock and sent after it is released.
type pending struct {
	hookID    string
	targetURL string
	secret    string
	resource  string
	event     string
	dataID    string
	actorID   string
	body      []byte
}

// Sign returns the X-Spark-Signature of a body: hex(HMAC-SHA1(secret, body)).
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// firehose reports whether the resource "all" covers resource: only memberships, messages
// and rooms (attachmentActions need their own webhook).
func firehose(resource string) bool {
	return resource == "memberships" || resource == "messages" || resource == "rooms"
}

// eventsLocked returns the deliveries of an event to the active webhooks owner created whose
// resource, event and filter match. match answers one filter key=value.
func (s *Sim) eventsLocked(owner, resource, event, actorID string, data EventData, match func(key, value string) bool) []pending {
	var out []pending
	for _, id := range s.hookOrder {
		h := s.hooks[id]
		switch {
		case h.CreatedBy != owner, h.Status != WebhookActive,
			h.Resource != resource && (h.Resource != "all" || !firehose(resource)),
			h.Event != event && h.Event != "all",
			!filterMatches(h.Filter, match):
			continue
		}
		env := Envelope{
			ID: h.ID, Name: h.Name, Resource: resource, Event: event, Filter: h.Filter,
			OrgID: h.OrgID, CreatedBy: h.CreatedBy, AppID: h.AppID, OwnedBy: h.OwnedBy,
			Status: WebhookActive, ActorID: actorID, Data: data,
		}
		body, err := marshal(env)
		if err != nil {
			// An Envelope always encodes; this would be a bug in this package.
			panic(fmt.Sprintf("webextest: encode an envelope: %v", err))
		}
		out = append(out, pending{
			hookID: h.ID, targetURL: h.TargetURL, secret: h.Secret, resource: resource, event: event,
			dataID: data.ID, actorID: actorID, body: body,
		})
	}
	return out
}

// filterMatches reports whether every key=value of a webhook filter matches.
func filterMatches(filter string, match func(key, value string) bool) bool {
	if filter == "" {
		return true
	}
	values, err := url.ParseQuery(filter)
	if err != nil {
		return false
	}
	for k, vs := range values {
		for _, v := range vs {
			if !match(k, v) {
				return false
			}
		}
	}
	return true
}

// filterKeys are the filter keys the Sim understands per resource ([WH-GUIDE]).
func filterKeys(resource string) []string {
	switch resource {
	case "messages":
		return []string{"roomId", "roomType", "personId", "personEmail", "mentionedPeople", "hasFiles", "hasAttachments"}
	case "attachmentActions":
		return []string{"messageId", "personId", "roomId"}
	}
	return nil
}

// deliver sends pending deliveries, in order, and records them. It must be called without
// the lock held: the target may call back into the Sim.
func (s *Sim) deliver(ctx context.Context, ps []pending) []Delivery {
	var out []Delivery
	for _, p := range ps {
		sig := ""
		if p.secret != "" {
			sig = Sign(p.secret, p.body)
		}
		d := Delivery{
			WebhookID: p.hookID, TargetURL: p.targetURL, Resource: p.resource, Event: p.event,
			DataID: p.dataID, ActorID: p.actorID, Body: p.body, Signature: sig,
		}
		out = append(out, s.send(ctx, d))
	}
	return out
}

// send POSTs d and records it.
func (s *Sim) send(ctx context.Context, d Delivery) Delivery {
	d.Status, d.Err = s.post(ctx, d.TargetURL, d.Signature, d.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	d.Time = s.nowLocked()
	s.deliveries = append(s.deliveries, d.clone())
	if h, ok := s.hooks[d.WebhookID]; ok && !d.OK() {
		// Webex disables a webhook after 100 failures within five minutes.
		fails := slices.DeleteFunc(s.hookFailures[h.ID], func(t time.Time) bool { return d.Time.Sub(t) > failureWindow })
		fails = append(fails, d.Time)
		s.hookFailures[h.ID] = fails
		if len(fails) >= disableAfterFailures {
			h.Status = WebhookInactive
		}
	}
	s.changedLocked()
	return d
}

// post sends a delivery and returns the target's status.
func (s *Sim) post(ctx context.Context, target, sig string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("deliver to %s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver to %s: %w", target, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, fmt.Errorf("deliver to %s: read the answer: %w", target, err)
	}
	return resp.StatusCode, nil
}

// deliveryError reports the failed deliveries among ds, or nil.
func deliveryError(ds []Delivery) error {
	var errs []error
	for _, d := range ds {
		switch {
		case d.Err != nil:
			errs = append(errs, fmt.Errorf("%s/%s event %s: %w", d.Resource, d.Event, d.DataID, d.Err))
		case !d.OK():
			errs = append(errs, fmt.Errorf("%s/%s event %s: %s answered %d", d.Resource, d.Event, d.DataID, d.TargetURL, d.Status))
		}
	}
	return errors.Join(errs...)
}

// Deliveries returns every delivery so far, oldest first.
func (s *Sim) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneAll(s.deliveries)
}

// LastDelivery returns the latest delivery, if any.
func (s *Sim) LastDelivery() (Delivery, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.deliveries) == 0 {
		return Delivery{}, false
	}
	return s.deliveries[len(s.deliveries)-1].clone(), true
}

// Redeliver sends an earlier delivery again, byte for byte with its signature, as Webex may
// deliver an event twice, and records it. The error is a transport error only; the target's
// answer is in the returned Delivery's Status.
func (s *Sim) Redeliver(ctx context.Context, d Delivery) (Delivery, error) {
	d = d.clone()
	d.Status, d.Err, d.Time = 0, nil, time.Time{}
	d = s.send(ctx, d)
	return d, d.Err
}

// SendSigned POSTs an arbitrary body to targetURL, signed with secret (unsigned when secret
// is ""), and records it. Use it for envelopes Webex would not send, or with a wrong secret.
// The error is a transport error only.
func (s *Sim) SendSigned(ctx context.Context, targetURL, secret string, body []byte) (Delivery, error) {
	d := Delivery{TargetURL: targetURL, Body: bytes.Clone(body)}
	if secret != "" {
		d.Signature = Sign(secret, body)
	}
	d = s.send(ctx, d)
	return d, d.Err
}
