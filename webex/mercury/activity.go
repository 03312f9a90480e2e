package mercury

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"attachbot/bot"
)

// activity is the part of a conversation.activity the transport reads. Its ids are UUIDs,
// which Webex's REST API has refused since 2022; the REST ids are looked up.
type activity struct {
	ID        string `json:"id"`
	Verb      string `json:"verb"`
	Published string `json:"published"`
	Actor     struct {
		ID string `json:"id"`
	} `json:"actor"`
	Target struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"target"`
}

// kindOf is what a verb becomes: the webhook resource, the kind of its REST id, and the path
// that replaces conversations/{id} in the activity's target URL to look the REST id up.
type kindOf struct {
	resource, idKind, lookupPath string
}

// verbKind maps the verbs attachbot handles; other verbs (share, update, acknowledge…) are
// acknowledged and ignored.
func verbKind(verb string) (kindOf, bool) {
	switch verb {
	case "post":
		return kindOf{resource: "messages", idKind: "MESSAGE", lookupPath: "messages"}, true
	case "cardAction":
		return kindOf{resource: "attachmentActions", idKind: "ATTACHMENT_ACTION", lookupPath: "attachment/actions"}, true
	}
	return kindOf{}, false
}

// handle processes one frame after the authorization: an activity of interest becomes an
// event for the sink; every frame is acknowledged once it is dealt with. An error ends the
// connection without the acknowledgement, so the activity comes again after the reconnect.
func (t *Transport) handle(ctx context.Context, c *socket, f frame, d *device) error {
	if f.Data.EventType != eventActivity {
		t.ack(c, f)
		return nil
	}
	var a activity
	if err := json.Unmarshal(f.Data.Activity, &a); err != nil || a.ID == "" {
		t.log.Warn("activity without an id ignored", "frame", f.ID)
		t.ack(c, f)
		return nil
	}
	k, ok := verbKind(a.Verb)
	if !ok {
		t.ack(c, f)
		return nil
	}
	if t.own(a, d) {
		t.log.Debug("activity of the bot itself dropped", "activity", a.ID, "verb", a.Verb)
		t.ack(c, f)
		return nil
	}
	ev, err := t.event(ctx, a, k)
	if err != nil {
		return fmt.Errorf("activity %s left unacknowledged, to come again: %w", a.ID, err)
	}
	if err := t.sink.Accept(ctx, ev); err != nil {
		return fmt.Errorf("event %s not accepted, left unacknowledged to come again: %w", ev.Key, err)
	}
	t.eventAccepted()
	t.ack(c, f)
	return nil
}

// own reports whether the bot itself caused the activity.
func (t *Transport) own(a activity, d *device) bool {
	actor := strings.ToLower(a.Actor.ID)
	if actor == "" {
		return false
	}
	if d.UserID != "" && strings.ToLower(d.UserID) == actor {
		return true
	}
	_, _, uuid, ok := decodeID(t.opts.BotPersonID)
	return ok && strings.ToLower(uuid) == actor
}

// event builds the event a webhook would have delivered for the activity: the same
// resource, event, data id, key, actor and room.
func (t *Transport) event(ctx context.Context, a activity, k kindOf) (bot.Event, error) {
	id, err := t.restID(ctx, a, k)
	if err != nil {
		return bot.Event{}, err
	}
	ev := bot.Event{
		Key: bot.EventKey(k.resource, "created", id), Resource: k.resource, Event: "created", DataID: id,
		// People ids are assumed to be of the US form for every region (UNCONFIRMED); the
		// bot only compares the actor with itself, and reads the person from the resource.
		ActorID: encodeID("us", "PEOPLE", a.Actor.ID),
	}
	// The space's REST id is assumed to share the cluster of its messages' ids (an
	// inference: both name the conversation's home). The bot uses it only to say in the
	// space that an event failed; it reads the space from the resource otherwise.
	if cluster, _, _, ok := decodeID(id); ok && a.Target.ID != "" {
		ev.RoomID = encodeID(cluster, "ROOM", a.Target.ID)
	}
	if p, err := time.Parse(time.RFC3339Nano, a.Published); err == nil {
		ev.Created = p
	}
	return ev, nil
}

// restID returns the REST id of the message or card submission of an activity, found as
// webex_bot does: GET the activity's target URL with conversations/{conversation} replaced by
// messages/{activity} (or attachment/actions/{activity}) answers the object with its REST id,
// whatever region hosts the space. Only when that lookup cannot work is the id guessed in the
// US form; a temporary failure is returned instead, so that the activity comes again.
func (t *Transport) restID(ctx context.Context, a activity, k kindOf) (string, error) {
	var reason string
	conv := "conversations/" + a.Target.ID
	switch {
	case a.Target.ID == "" || !strings.Contains(a.Target.URL, conv):
		reason = "the activity has no conversation URL"
	case !t.sameScheme(a.Target.URL):
		// The bot's token is sent only with the device service's scheme (https in
		// production).
		reason = "the conversation URL's scheme is not the device service's"
	default:
		u := strings.Replace(a.Target.URL, conv, k.lookupPath+"/"+a.ID, 1)
		var answer struct {
			ID string `json:"id"`
		}
		err := t.call(ctx, "look up the REST id of activity "+a.ID, http.MethodGet, u, nil, &answer)
		var unreachable *url.Error // what http.Client.Do returns when no answer came
		switch status := statusOf(err); {
		case err == nil && answer.ID != "":
			return answer.ID, nil
		case err == nil:
			reason = "the lookup answer has no id"
		case errors.As(err, &unreachable) || status == http.StatusTooManyRequests || status >= 500:
			return "", err
		default:
			reason = err.Error()
		}
	}
	guess := encodeID("us", k.idKind, a.ID)
	t.log.Warn("REST id guessed in the US form, which is wrong for spaces hosted in other regions", "activity", a.ID, "id", guess, "reason", reason)
	return guess, nil
}

// sameScheme reports whether u has the scheme of the device service.
func (t *Transport) sameScheme(u string) bool {
	p, err := url.Parse(u)
	w, werr := url.Parse(t.wdm)
	return err == nil && werr == nil && p.Scheme == w.Scheme && p.Host != ""
}

// encodeID returns a REST id: the unpadded base64 of ciscospark://<cluster>/<kind>/<uuid>.
func encodeID(cluster, kind, uuid string) string {
	return base64.RawStdEncoding.EncodeToString([]byte("ciscospark://" + cluster + "/" + kind + "/" + uuid))
}

// decodeID splits a REST id into its cluster ("us", or a region such as
// "urn:TEAM:eu-central-1_k"), kind and uuid. It accepts padded and URL-safe base64.
func decodeID(id string) (cluster, kind, uuid string, ok bool) {
	id = strings.TrimRight(id, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		raw, err := enc.DecodeString(id)
		if err != nil {
			continue
		}
		rest, found := strings.CutPrefix(string(raw), "ciscospark://")
		if !found {
			return "", "", "", false
		}
		i := strings.LastIndex(rest, "/")
		if i < 0 {
			return "", "", "", false
		}
		j := strings.LastIndex(rest[:i], "/")
		if j < 0 {
			return "", "", "", false
		}
		return rest[:j], rest[j+1 : i], rest[i+1:], true
	}
	return "", "", "", false
}
