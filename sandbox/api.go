package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"attachbot/bot"
	"attachbot/webex/webextest"
)

// routes returns the sandbox's handler: the bot's own routes, the sandbox API and the page.
func (e *sandboxEnv) routes() (http.Handler, error) {
	page, err := fs.Sub(sandboxFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("the sandbox's embedded page: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", e.app.Handler())
	mux.Handle("/healthz", e.app.Handler())
	api := http.NewServeMux()
	api.HandleFunc("GET /sandbox/api/state", e.handleState)
	api.HandleFunc("GET /sandbox/api/scenarios", e.handleScenarios)
	api.HandleFunc("POST /sandbox/api/say", jsonOnly(e.handleSay))
	api.HandleFunc("POST /sandbox/api/sayfile", jsonOnly(e.handleSayFile))
	api.HandleFunc("GET /sandbox/api/files/{messageId}/{index}", e.handleFile)
	api.HandleFunc("GET /sandbox/api/sample.csv", e.handleSample)
	api.HandleFunc("POST /sandbox/api/click", jsonOnly(e.handleClick))
	api.HandleFunc("POST /sandbox/api/outcome", jsonOnly(e.handleOutcome))
	mux.Handle("/sandbox/api/", sameOrigin(api))
	mux.Handle("GET /sandbox/static/", http.StripPrefix("/sandbox/static/", http.FileServerFS(page)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, page, "index.html")
	})
	return mux, nil
}

// handleState answers GET /sandbox/api/state: the spaces and their messages. With
// ?since=<version> it waits, up to 25 seconds, until the state differs from that version.
func (e *sandboxEnv) handleState(w http.ResponseWriter, r *http.Request) {
	since := r.URL.Query().Get("since")
	timer := time.NewTimer(sandboxLongPoll)
	defer timer.Stop()
	for {
		changed := e.sim.Changed()
		st, err := e.state()
		if err != nil {
			e.log.Error("sandbox: build the state", "err", err)
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if since == "" || st.Version != since {
			writeJSON(w, http.StatusOK, st)
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			writeJSON(w, http.StatusOK, st)
			return
		case <-e.stopping:
			writeJSON(w, http.StatusOK, st)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// sayRequest is the body of POST /sandbox/api/say.
type sayRequest struct {
	PersonID string `json:"personId"`
	RoomID   string `json:"roomId"`
	ParentID string `json:"parentId"`
	Text     string `json:"text"`
}

// handleSay answers POST /sandbox/api/say: it posts text as a person in a space, as a Webex
// client would (mentioning the bot in a group space), in the thread of parentId when given.
func (e *sandboxEnv) handleSay(w http.ResponseWriter, r *http.Request) {
	var in sayRequest
	if !decodeBody(w, r, &in, `{"personId": "...", "roomId": "...", "text": "help", "parentId": "(optional)"}`) {
		return
	}
	text, ok := checkText(w, in.Text, "help")
	if !ok {
		return
	}
	in.Text = text
	p, room, ok := e.actorIn(w, in.PersonID, in.RoomID)
	if !ok {
		return
	}
	var m webextest.Message
	var err error
	if in.ParentID != "" {
		parent, found := e.sim.Message(in.ParentID)
		switch {
		case !found || parent.RoomID != room.ID:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("parentId %q is no message of the space %q", in.ParentID, room.Title))
			return
		case parent.ParentID != "":
			writeError(w, http.StatusBadRequest, fmt.Sprintf("parentId %q is a reply; give the thread's first message", in.ParentID))
			return
		}
		m, err = e.sim.Reply(r.Context(), p.ID, in.ParentID, in.Text)
	} else {
		m, err = e.sim.Say(r.Context(), p.ID, room.ID, in.Text)
	}
	if err != nil {
		e.deliveryFailed(w, m.ID, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"messageId": m.ID})
}

// checkText trims a message's text and checks it as Webex would; on a problem it answers 400
// saying what to fix, with example as a message to type.
func checkText(w http.ResponseWriter, text, example string) (string, bool) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		writeError(w, http.StatusBadRequest, "text is empty: type a message, such as "+example)
		return "", false
	case len(text) > webextest.MaxMessageBytes:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("text is %d bytes long; Webex takes at most %d", len(text), webextest.MaxMessageBytes))
		return "", false
	}
	return text, true
}

// clickRequest is the body of POST /sandbox/api/click.
type clickRequest struct {
	PersonID  string         `json:"personId"`
	MessageID string         `json:"messageId"`
	Inputs    map[string]any `json:"inputs"`
}

// handleClick answers POST /sandbox/api/click: it submits a message's card as a person, with
// the inputs the page gathered (the Submit action's data merged with the card's inputs).
func (e *sandboxEnv) handleClick(w http.ResponseWriter, r *http.Request) {
	var in clickRequest
	if !decodeBody(w, r, &in, `{"personId": "...", "messageId": "...", "inputs": {"action": "approve", "requestId": "K7QX3M"}}`) {
		return
	}
	if in.MessageID == "" {
		writeError(w, http.StatusBadRequest, "messageId is missing: the id of the message whose card is submitted")
		return
	}
	m, found := e.sim.Message(in.MessageID)
	switch {
	case !found:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("messageId %q is no message", in.MessageID))
		return
	case len(m.Attachments) == 0:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("message %q has no card to submit", in.MessageID))
		return
	}
	p, ok := e.person(w, in.PersonID)
	if !ok {
		return
	}
	if in.Inputs == nil {
		in.Inputs = map[string]any{}
	}
	// Someone outside the card's space (the outsider, or the partner admin on a customer
	// admin's card) may press it here, as if looking over the admin's shoulder. Webex would
	// not let them; the sandbox does, so that the bot's own check of who clicked answers.
	click := e.sim.Click
	if room, ok := e.sim.Room(m.RoomID); !ok || !slices.Contains(room.Members, p.ID) {
		click = e.sim.ClickUnseen
	}
	a, err := click(r.Context(), p.ID, m.ID, in.Inputs)
	if err != nil {
		e.deliveryFailed(w, a.ID, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"actionId": a.ID})
}

// actorIn checks that personID is a person and a member of roomID. It answers 400 for an
// unknown person or space, and 403 when the person is not in the space: Webex neither shows
// them its messages nor lets them post there.
func (e *sandboxEnv) actorIn(w http.ResponseWriter, personID, roomID string) (webextest.Person, webextest.Room, bool) {
	p, ok := e.person(w, personID)
	if !ok {
		return webextest.Person{}, webextest.Room{}, false
	}
	if roomID == "" {
		writeError(w, http.StatusBadRequest, "roomId is missing: the space to write in")
		return webextest.Person{}, webextest.Room{}, false
	}
	room, ok := e.sim.Room(roomID)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("roomId %q is no space in the simulated Webex", roomID))
		return webextest.Person{}, webextest.Room{}, false
	}
	if !slices.Contains(room.Members, p.ID) {
		title := room.Title
		if room.Type == webextest.RoomTypeDirect {
			title = "the direct space of " + e.directTitle(room)
		}
		writeError(w, http.StatusForbidden, fmt.Sprintf("%s is not a member of %s, so Webex does not show them its messages or let them post or submit its cards there. Act as a member of that space.", p.DisplayName, title))
		return webextest.Person{}, webextest.Room{}, false
	}
	return p, room, true
}

// person returns the simulated person personID, or answers 400 saying what is wrong.
func (e *sandboxEnv) person(w http.ResponseWriter, personID string) (webextest.Person, bool) {
	if personID == "" {
		writeError(w, http.StatusBadRequest, "personId is missing: who is acting (the partner admin, a customer admin or the outsider)")
		return webextest.Person{}, false
	}
	p, ok := e.sim.Person(personID)
	if !ok {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("personId %q is nobody in the simulated Webex", personID))
		return webextest.Person{}, false
	}
	return p, true
}

// directTitle names the two people of a direct space.
func (e *sandboxEnv) directTitle(room webextest.Room) string {
	var names []string
	for _, id := range room.Members {
		if p, ok := e.sim.Person(id); ok {
			names = append(names, p.DisplayName)
		}
	}
	return strings.Join(names, " and ")
}

// deliveryFailed answers for a message or card submission the simulated Webex created but
// could not deliver to the bot.
func (e *sandboxEnv) deliveryFailed(w http.ResponseWriter, id string, err error) {
	e.log.Warn("sandbox: delivery to the bot failed", "id", id, "err", err)
	writeError(w, http.StatusBadGateway, fmt.Sprintf("Webex could not deliver the event to the bot: %v", err))
}

// outcomeRequest is the body of POST /sandbox/api/outcome.
type outcomeRequest struct {
	// OrgID is the organization; empty means every seeded organization.
	OrgID  string `json:"orgId"`
	Status string `json:"status"`
	// DelaySeconds is how long the provisioning takes (ignored for "seeded").
	DelaySeconds float64 `json:"delaySeconds"`
}

// handleOutcome answers POST /sandbox/api/outcome: how the next provisioning of an
// organization (or of every one) ends, and after how long.
func (e *sandboxEnv) handleOutcome(w http.ResponseWriter, r *http.Request) {
	var in outcomeRequest
	if !decodeBody(w, r, &in, `{"orgId": "(empty for every organization)", "status": "provisioned", "delaySeconds": 5}`) {
		return
	}
	statuses := []string{outcomeSeeded, webextest.StatusProvisioned, webextest.StatusProvisionedWithErrors, webextest.StatusError, webextest.StatusPendingReview}
	if !slices.Contains(statuses, in.Status) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("status %q is none of %s", in.Status, strings.Join(statuses, ", ")))
		return
	}
	// Checked in seconds before the conversion, which would overflow for huge values.
	if in.Status != outcomeSeeded && (in.DelaySeconds < 1 || in.DelaySeconds > sandboxMaxDelay.Seconds()) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("delaySeconds %v is out of range: give 1 to %d seconds", in.DelaySeconds, int(sandboxMaxDelay.Seconds())))
		return
	}
	delay := time.Duration(in.DelaySeconds * float64(time.Second))
	var targets []webextest.Org
	for _, o := range e.seeded {
		if in.OrgID == "" || bot.SameOrg(o.ID, in.OrgID) {
			targets = append(targets, o)
		}
	}
	if len(targets) == 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("orgId %q is none of the seeded organizations (GET /sandbox/api/scenarios lists them); leave it empty for every one", in.OrgID))
		return
	}
	if err := e.apply(in, delay, targets); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, e.scenarios())
}

// apply sets how the next provisioning of each target ends, and records the control's
// setting, together under e.mu, so that two Apply clicks at once leave both alike.
func (e *sandboxEnv) apply(in outcomeRequest, delay time.Duration, targets []webextest.Org) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range targets {
		status, d := in.Status, delay
		if status == outcomeSeeded {
			status, d = o.Outcome.Status, o.Outcome.Delay
			if status == "" {
				status = webextest.StatusProvisioned
			}
		}
		if err := e.sim.SetOutcome(o.ID, status, d); err != nil {
			return fmt.Errorf("set the outcome of %s: %w", o.Name, err)
		}
	}
	if in.Status == outcomeSeeded && (in.DelaySeconds < 1 || in.DelaySeconds > sandboxMaxDelay.Seconds()) {
		in.DelaySeconds = e.applied.DelaySeconds // the control keeps the delay it showed
	}
	if in.OrgID != "" {
		in.OrgID = targets[0].ID // as the control spells it, whatever encoding was sent
	}
	e.applied = in
	return nil
}

// decodeBody reads a JSON object into v. On failure it answers 400 with the error and the
// expected shape, and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	return decodeBodyUpTo(w, r, v, shape, sandboxMaxBody)
}

// decodeBodyUpTo is decodeBody for a body of at most limit bytes.
func decodeBodyUpTo(w http.ResponseWriter, r *http.Request, v any, shape string, limit int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", limit))
			return false
		}
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the body is not the JSON object expected (%v); send %s", err, shape))
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "the body holds more than one JSON value; send one object "+shape)
		return false
	}
	return true
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	// A failed write means the page is gone; there is nobody left to tell.
	_ = enc.Encode(v)
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
