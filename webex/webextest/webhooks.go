// Webhook registrations: POST, GET, PUT and DELETE /v1/webhooks, and the registrations a
// test reads or deactivates. Deliveries are in delivery.go.

package webextest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// The statuses of a Webhook.
const (
	WebhookActive   = "active"
	WebhookInactive = "inactive"
)

// Webhook is a webhook registration as GET /v1/webhooks/{webhookId} answers it.
type Webhook struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TargetURL string    `json:"targetUrl"`
	Resource  string    `json:"resource"`
	Event     string    `json:"event"`
	Filter    string    `json:"filter,omitempty"`
	Secret    string    `json:"secret,omitempty"`
	Status    string    `json:"status"`
	OrgID     string    `json:"orgId"`
	CreatedBy string    `json:"createdBy"`
	AppID     string    `json:"appId"`
	OwnedBy   string    `json:"ownedBy"`
	Created   time.Time `json:"created"`
}

// clone returns a copy of w (it holds no references).
func (w Webhook) clone() Webhook { return w }

// Webhooks returns every webhook, of every owner, in the order they were created.
func (s *Sim) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clonesInOrder(s.hooks, s.hookOrder)
}

// DeactivateWebhook sets a webhook's status to inactive, as Webex does after failed
// deliveries; it then gets no deliveries until a PUT sets it active again.
func (s *Sim) DeactivateWebhook(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return changeLocked(s, s.hooks, id, fmt.Errorf("no webhook %s", id), func(h *Webhook) {
		h.Status = WebhookInactive
	})
}

// webhookResources is the spec's resource enum, plus "all" (the firehose).
func webhookResources() []string {
	return []string{
		"all", "attachmentActions", "dataSources", "memberships", "messages", "rooms", "meetings",
		"recordings", "convergedRecordings", "meetingParticipants", "meetingTranscripts",
		"telephony_calls", "telephony_conference", "telephony_mwi", "uc_counters", "serviceApp",
		"adminBatchJobs",
	}
}

// webhookEvents is the spec's event enum.
func webhookEvents() []string {
	return []string{
		"created", "updated", "deleted", "started", "ended", "joined", "left", "migrated",
		"authorized", "deauthorized", "statusChanged", "all",
	}
}

// webhookBody is the body of POST and PUT /v1/webhooks.
type webhookBody struct {
	Name      string  `json:"name"`
	TargetURL string  `json:"targetUrl"`
	Resource  string  `json:"resource"`
	Event     string  `json:"event"`
	Filter    string  `json:"filter"`
	Secret    *string `json:"secret"` // PUT: omitted keeps the secret, "" removes it
	OwnedBy   string  `json:"ownedBy"`
	Status    string  `json:"status"`
}

// checkTarget checks a webhook's targetUrl: an absolute http(s) URL.
func checkTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return failf(http.StatusBadRequest, "targetUrl %q is not an absolute http(s) URL.", target)
	}
	return nil
}

// POST /v1/webhooks
func (s *Sim) handleCreateWebhook(q *request) reply {
	var in webhookBody
	if err := decodeJSON(q.body, &in); err != nil {
		return errReply(err)
	}
	switch {
	case in.Name == "", in.TargetURL == "", in.Resource == "", in.Event == "":
		return errReply(failf(http.StatusBadRequest, "name, targetUrl, resource and event are required."))
	case !slices.Contains(webhookResources(), in.Resource):
		return errReply(failf(http.StatusBadRequest, "Unknown resource %q.", in.Resource))
	case !slices.Contains(webhookEvents(), in.Event):
		return errReply(failf(http.StatusBadRequest, "Unknown event %q.", in.Event))
	case in.Event == "all" && in.Resource != "all" && !firehose(in.Resource):
		return errReply(failf(http.StatusBadRequest, "The event all is only supported for memberships, messages and rooms."))
	}
	if err := checkTarget(in.TargetURL); err != nil {
		return errReply(err)
	}
	if in.Filter != "" {
		values, err := url.ParseQuery(in.Filter)
		if err != nil {
			return errReply(failf(http.StatusBadRequest, "invalid value for filter: %v", err))
		}
		if known := filterKeys(in.Resource); known != nil {
			for k := range values {
				if !slices.Contains(known, k) {
					return errReply(failf(http.StatusBadRequest, "invalid value for filter: %s", k))
				}
			}
		}
	}
	ownedBy := in.OwnedBy
	if ownedBy == "" {
		ownedBy = "creator"
	}
	h := &Webhook{
		ID:        s.newIDLocked(KindWebhook),
		Name:      in.Name,
		TargetURL: in.TargetURL,
		Resource:  in.Resource,
		Event:     in.Event,
		Filter:    in.Filter,
		Status:    WebhookActive,
		OrgID:     s.callerOrgLocked(q.who),
		CreatedBy: q.who.personID,
		AppID:     AppID,
		OwnedBy:   ownedBy,
		Created:   q.now,
	}
	if in.Secret != nil {
		h.Secret = *in.Secret
	}
	s.hooks[h.ID] = h
	s.hookOrder = append(s.hookOrder, h.ID)
	s.changedLocked()
	return jsonReply(*h)
}

// GET /v1/webhooks: the caller's own webhooks.
func (s *Sim) handleListWebhooks(q *request) reply {
	list := []Webhook{}
	for _, id := range s.hookOrder {
		if h := s.hooks[id]; h.CreatedBy == q.who.personID {
			list = append(list, *h)
		}
	}
	return jsonReply(items[Webhook]{Items: list})
}

// ownHookLocked returns the caller's webhook of the request's id.
func (s *Sim) ownHookLocked(q *request) (*Webhook, error) {
	h, ok := s.hooks[q.params[0]]
	if !ok || h.CreatedBy != q.who.personID {
		return nil, failf(http.StatusNotFound, "Could not find a webhook with the given ID.")
	}
	return h, nil
}

// GET /v1/webhooks/{webhookId}
func (s *Sim) handleGetWebhook(q *request) reply {
	h, err := s.ownHookLocked(q)
	if err != nil {
		return errReply(err)
	}
	return jsonReply(*h)
}

// PUT /v1/webhooks/{webhookId}: updates name, targetUrl, secret (kept when omitted) and status;
// other fields are ignored. As the spec says, a PUT can only activate a webhook, not deactivate it: status
// "inactive" is ignored.
func (s *Sim) handleUpdateWebhook(q *request) reply {
	h, err := s.ownHookLocked(q)
	if err != nil {
		return errReply(err)
	}
	var in webhookBody
	if err := decodeJSON(q.body, &in); err != nil {
		return errReply(err)
	}
	if in.Name == "" || in.TargetURL == "" {
		return errReply(failf(http.StatusBadRequest, "name and targetUrl are required."))
	}
	if err := checkTarget(in.TargetURL); err != nil {
		return errReply(err)
	}
	switch in.Status {
	case "", WebhookActive, WebhookInactive:
	default:
		return errReply(failf(http.StatusBadRequest, "Unknown status %q.", in.Status))
	}
	h.Name, h.TargetURL = in.Name, in.TargetURL
	if in.Secret != nil {
		h.Secret = *in.Secret
	}
	if in.Status == WebhookActive && h.Status != WebhookActive {
		h.Status = WebhookActive
		delete(s.hookFailures, h.ID)
	}
	s.changedLocked()
	return jsonReply(*h)
}

// DELETE /v1/webhooks/{webhookId}: 204.
func (s *Sim) handleDeleteWebhook(q *request) reply {
	h, err := s.ownHookLocked(q)
	if err != nil {
		return errReply(err)
	}
	delete(s.hooks, h.ID)
	delete(s.hookFailures, h.ID)
	s.hookOrder = slices.DeleteFunc(s.hookOrder, func(id string) bool { return id == h.ID })
	s.changedLocked()
	return reply{status: http.StatusNoContent}
}
