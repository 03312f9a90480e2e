// Package webextest is a stateful, in-process fake of the Webex REST API for attachbot's tests
// and its browser sandbox.
//
// A Sim is an http.Handler serving paths under /v1 in Webex's JSON wire format: people,
// messages, attachment actions, webhooks, the wholesale customer API and its precheck,
// licenses, organizations, partner admins and the OAuth refresh grant. It checks bearer
// tokens per endpoint, refuses every query and body that does not conform to the operation's
// schema in Webex's official OpenAPI specs (see shape.go and ShapeRefusals), answers errors in
// Webex's shape with a trackingId, records every call,
// injects faults (statuses, Retry-After, latency, "timeout after Webex acted"), and delivers
// signed webhook events to a target URL as Webex does. Serve it with httptest.NewServer:
//
//	sim := webextest.New(webextest.Options{})
//	srv := httptest.NewServer(sim)
//	defer srv.Close()
//	// point the client at srv.URL + "/v1" with token webextest.DefaultBotToken
//
// Absolute URLs in answers (Location, Link rel="next", the wholesale customer url) are built
// from the request's Host (scheme http, or https behind TLS), so they point back at the server
// the client called.
//
// Time comes from Options.Now. Provisioning status moves on lazily: it is computed whenever
// the state is read, and no goroutine runs in the background. Webhook deliveries are
// synchronous: they happen before the call that caused them (Say, Click, or a person's POST
// /v1/messages) returns, and without the Sim's lock held, so the receiver may call back into
// the Sim.
//
// The Sim also serves what the websocket transport needs (mercury.go, devices.go): the
// service catalog (GET /u2c/api/v1/catalog), the device service (/wdm/api/v1/devices), the
// websocket of each device (/mercury/…), which gets a conversation.activity for every message
// and card submission the bot may see, and the lookup of REST ids by activity UUID
// (/conversation/api/v1/…). It records acknowledgements, writes unacknowledged activities
// again after a reconnect, and injects the websocket's faults (DropConnections, ExpireDevice,
// HoldBufferState, AddRoomIn, and Fault on the device service).
//
// Where the Sim has to go beyond what Webex documents (error codes of the precheck, which
// role the partner gets), the choice is marked in the documentation as simulated,
// UNCONFIRMED or an inference.
package webextest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Default tokens and OAuth client of a Sim.
const (
	DefaultBotToken     = "bot-token"
	DefaultPartnerToken = "partner-token"
	DefaultClientID     = "client-id"
	DefaultClientSecret = "client-secret"
	DefaultRefreshToken = "partner-refresh-token"
)

// DefaultProvisioningDelay is how long provisioning a wholesale customer takes unless
// Options or the organization's Outcome say otherwise.
const DefaultProvisioningDelay = 2 * time.Second

// The identities Call.Identity names for the bot's and the partner's tokens. A token added
// with AddToken is named by its person id.
const (
	IdentityBot     = "bot"
	IdentityPartner = "partner"
	IdentityOAuth   = "oauth" // POST /v1/access_token, which carries no bearer token
)

// maxBody is the most request body the Sim reads.
const maxBody = 10 << 20

// Options configures a Sim. The zero value is usable.
type Options struct {
	// BotToken is the bot's access token (default DefaultBotToken).
	BotToken string
	// PartnerToken is the access token of the partner full admin, Ann (default
	// DefaultPartnerToken).
	PartnerToken string
	// ClientID, ClientSecret and RefreshToken are what POST /v1/access_token accepts
	// (defaults DefaultClientID, DefaultClientSecret, DefaultRefreshToken).
	ClientID, ClientSecret, RefreshToken string
	// Now is the Sim's clock (default time.Now). Timestamps, token expiry and provisioning
	// progress are measured with it. It is called with the Sim's lock held, so it must not
	// call the Sim.
	Now func() time.Time
	// ProvisioningDelay is how long a wholesale customer stays "provisioning" when its
	// organization's Outcome has no Delay (default DefaultProvisioningDelay).
	ProvisioningDelay time.Duration
	// DeliverOwnMessages makes the Sim deliver messages/created events for the bot's own
	// messages too, so tests can check that the bot ignores itself.
	DeliverOwnMessages bool
	// Client sends webhook deliveries (default a client with a 30s timeout).
	Client *http.Client
	// CustomersLink makes GET /v1/wholesale/customers link its next page with a Link header,
	// as Webex's other lists do. Its spec documents paging by offset and max only, so by
	// default no Link is sent and a client pages by offset.
	CustomersLink bool
	// IDSeed makes the ids of new messages, rooms, actions and customers differ from those
	// of a Sim with another seed (default "": the same ids on every run). The sandbox sets
	// a random one, so that a store kept from an earlier run (SANDBOX_DB) does not take new
	// messages for redeliveries of old ones.
	IDSeed string
	// DeviceLimit is how many devices one person may register (default
	// DefaultDeviceLimit).
	DeviceLimit int
}

// Sim is a fake Webex. Create it with New; it is safe for concurrent use.
type Sim struct {
	opts   Options
	now    func() time.Time
	client *http.Client
	routes []route
	shape  *shapeChecker

	mu            sync.Mutex
	changed       chan struct{} // closed and replaced on every change
	seq           int           // makes new ids
	tracking      int           // makes trackingIds
	issued        int           // access tokens issued by POST /v1/access_token
	tokens        map[string]*principal
	refreshTokens map[string]bool
	people        map[string]*Person
	peopleOrder   []string
	orgs          map[string]*Org
	orgOrder      []string
	orgPeople     map[string][]string
	rooms         map[string]*Room
	roomOrder     []string
	direct        map[[2]string]string
	messages      map[string]*Message
	messageOrder  []string
	actions       map[string]*AttachmentAction
	hooks         map[string]*Webhook
	hookOrder     []string
	hookFailures  map[string][]time.Time
	customers     map[string]*customer
	customerOrder []string
	faults        []*faultState
	listLag       listLag
	calls         []Call
	deliveries    []Delivery
	shapeRefusals []ShapeRefusal
	mercury       mercuryState
}

// principal is who a token belongs to.
type principal struct {
	identity string // IdentityBot, IdentityPartner or a person id
	personID string
	admin    bool      // a partner full admin: may use the admin and wholesale endpoints
	expires  time.Time // zero: never
	revoked  bool
}

// New returns a Sim seeded with the bot, the partner organization (Ann and Bob), Eve's
// organization, the Partner space and the organizations of SeedOrgs.
func New(opts Options) *Sim {
	if opts.BotToken == "" {
		opts.BotToken = DefaultBotToken
	}
	if opts.PartnerToken == "" {
		opts.PartnerToken = DefaultPartnerToken
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.RefreshToken == "" {
		opts.RefreshToken = DefaultRefreshToken
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ProvisioningDelay <= 0 {
		opts.ProvisioningDelay = DefaultProvisioningDelay
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	s := &Sim{
		opts:          opts,
		now:           opts.Now,
		client:        client,
		changed:       make(chan struct{}),
		tokens:        map[string]*principal{},
		refreshTokens: map[string]bool{opts.RefreshToken: true},
		people:        map[string]*Person{},
		orgs:          map[string]*Org{},
		orgPeople:     map[string][]string{},
		rooms:         map[string]*Room{},
		direct:        map[[2]string]string{},
		messages:      map[string]*Message{},
		actions:       map[string]*AttachmentAction{},
		hooks:         map[string]*Webhook{},
		hookFailures:  map[string][]time.Time{},
		customers:     map[string]*customer{},
		mercury:       newMercuryState(),
	}
	s.routes = s.routeTable()
	shape, err := newShapeChecker()
	if err != nil {
		// The operations are embedded; failing to compile them is a bug in this package.
		panic(fmt.Sprintf("webextest: the spec's schemas: %v", err))
	}
	s.shape = shape
	s.tokens[opts.BotToken] = &principal{identity: IdentityBot, personID: BotID}
	s.tokens[opts.PartnerToken] = &principal{identity: IdentityPartner, personID: AnnID, admin: true}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.seedLocked(); err != nil {
		// The seed data is constant; failing to load it is a bug in this package.
		panic(fmt.Sprintf("webextest: seed data: %v", err))
	}
	return s
}

// nowLocked returns the Sim's time, in UTC with Webex's millisecond precision.
func (s *Sim) nowLocked() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// changedLocked wakes everyone waiting in WaitFor.
func (s *Sim) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor blocks until cond holds or ctx ends, and then returns ctx.Err(). cond is evaluated
// at once and again after every change of the Sim's state (a call, a delivery, a
// configuration change), never by polling; it is called without the Sim's lock held, so it
// may call the Sim's methods. Provisioning progress that only depends on Options.Now is not
// a change: read the customer (or make a call) after moving the clock.
func (s *Sim) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Changed returns a channel that is closed at the next change of the Sim's state. A sandbox
// can use it to refresh its view; tests should prefer WaitFor.
func (s *Sim) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Call is one request the Sim answered.
type Call struct {
	Method string
	// Path is the request path without a trailing slash ("/v1/messages/" is recorded as
	// "/v1/messages").
	Path  string
	Query url.Values
	// Identity is who the bearer token belongs to: IdentityBot, IdentityPartner (also for
	// tokens issued by POST /v1/access_token), a person id for tokens added with AddToken,
	// IdentityOAuth for POST /v1/access_token, or "" for a missing or unknown token.
	Identity string
	// Status is the HTTP status the Sim answered, or 0 when it answered nothing because the
	// client gave up during a Latency or Hang fault.
	Status     int
	Body       []byte
	TrackingID string
	Time       time.Time
}

// Calls returns every call answered so far, oldest first.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := make([]Call, len(s.calls))
	for i, c := range s.calls {
		calls[i] = c.clone()
	}
	return calls
}

// CallsTo returns the calls with the given method ("" for any) to paths matching path (see
// Fault.Path for the patterns), oldest first.
func (s *Sim) CallsTo(method, path string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var calls []Call
	for _, c := range s.calls {
		if matchCall(c, method, path) {
			calls = append(calls, c.clone())
		}
	}
	return calls
}

// CountCalls returns how many calls with the given method ("" for any) went to paths matching
// path (see Fault.Path for the patterns).
func (s *Sim) CountCalls(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if matchCall(c, method, path) {
			n++
		}
	}
	return n
}

func matchCall(c Call, method, path string) bool {
	return (method == "" || strings.EqualFold(method, c.Method)) && matchPath(path, c.Path)
}

func (c Call) clone() Call {
	c.Query = cloneValues(c.Query)
	c.Body = bytes.Clone(c.Body)
	return c
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// request is an incoming call as the handlers see it.
type request struct {
	method string
	path   string
	params []string // the {} segments of the route, in order
	query  url.Values
	header http.Header
	body   []byte
	who    *principal // nil when the route needs no token
	base   string     // scheme and host, e.g. "http://127.0.0.1:1234"
	now    time.Time
	// trackingID is the trackingId of the answer.
	trackingID string
}

// reply is a handler's answer.
type reply struct {
	status     int
	header     http.Header
	body       any // encoded as JSON; nil for no body
	deliveries []pending
}

// apiError is an error the Sim answers with a Webex error body. The Go methods (Say, Click…)
// return it as an error too.
type apiError struct {
	status  int
	message string
	details []ErrorDetail
}

func (e *apiError) Error() string {
	return fmt.Sprintf("webextest: %d %s", e.status, e.message)
}

// failf returns an apiError with a formatted message.
func failf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

// ErrorDetail is one entry of a Webex error's or a wholesale customer's errors[].
type ErrorDetail struct {
	ErrorCode   int    `json:"errorCode,omitempty"`
	Description string `json:"description"`
}

// errorBody is Webex's error body.
type errorBody struct {
	Message    string        `json:"message"`
	Errors     []ErrorDetail `json:"errors"`
	TrackingID string        `json:"trackingId"`
}

// errReply turns err into a Webex error answer; an error that is no apiError is a 500.
func errReply(err error) reply {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, message: err.Error()}
	}
	details := ae.details
	if len(details) == 0 {
		details = []ErrorDetail{{Description: ae.message}}
	}
	return reply{status: ae.status, body: &errorBody{Message: ae.message, Errors: details}}
}

// jsonReply answers 200 with body.
func jsonReply(body any) reply { return reply{status: http.StatusOK, body: body} }

// items is Webex's list shape.
type items[T any] struct {
	Items []T `json:"items"`
}

// The messages of the authentication, authorization and not-found errors: Webex's 401 wording;
// the others are close to Webex's but not confirmed verbatim.
const (
	msgUnauthorized = "The request requires a valid access token set in the Authorization request header."
	msgForbidden    = "The server understood the request, but refused to fulfill it because the access token is missing required scopes or the user is missing required roles or licenses."
	msgNotFound     = "The requested resource could not be found."
)

// ServeHTTP answers a Webex API call.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/mercury/") {
		s.serveMercury(w, r)
		return
	}
	ctx := r.Context()
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	path := normalizePath(r.URL.Path)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q := &request{
		method: r.Method,
		path:   path,
		query:  r.URL.Query(),
		header: r.Header,
		body:   body,
		base:   scheme + "://" + r.Host,
	}

	s.mu.Lock()
	s.tracking++
	tid := fmt.Sprintf("WEBEXTEST_%d", s.tracking)
	q.trackingID = tid
	q.now = s.nowLocked()
	who := s.authenticateLocked(r.Header, q.now)
	fault := s.takeFaultLocked(r.Method, path)
	s.mu.Unlock()

	call := Call{
		Method:     r.Method,
		Path:       path,
		Query:      cloneValues(q.query),
		Body:       body,
		TrackingID: tid,
		Time:       q.now,
	}
	if who != nil {
		call.Identity = who.identity
	} else if path == "/v1/access_token" {
		call.Identity = IdentityOAuth
	}
	w.Header().Set("Trackingid", tid)

	if fault != nil && fault.Latency > 0 {
		if !wait(ctx, fault.Latency) {
			s.record(call)
			return
		}
	}
	if fault != nil && !fault.AfterApply && fault.Status != 0 {
		call.Status = fault.Status
		s.record(call)
		s.write(w, tid, fault.reply())
		return
	}

	var rep reply
	if readErr != nil {
		rep = errReply(failf(http.StatusBadRequest, "The request body could not be read: %v", readErr))
	} else {
		s.mu.Lock()
		rep = s.dispatchLocked(q, who)
		s.mu.Unlock()
	}

	if fault != nil && fault.AfterApply {
		// Webex acted; the answer is lost on the way back.
		if fault.Hang {
			s.deliver(context.WithoutCancel(ctx), rep.deliveries)
			<-ctx.Done()
			s.record(call)
			return
		}
		call.Status = fault.afterApplyStatus()
		s.record(call)
		s.deliver(context.WithoutCancel(ctx), rep.deliveries)
		s.write(w, tid, fault.reply())
		return
	}
	call.Status = rep.status
	s.record(call)
	s.deliver(ctx, rep.deliveries)
	s.write(w, tid, rep)
}

// wait waits d, or until ctx ends; it reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// record keeps a call.
func (s *Sim) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.changedLocked()
}

// write sends rep, with the trackingId in an error body.
func (s *Sim) write(w http.ResponseWriter, tid string, rep reply) {
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if eb, ok := rep.body.(*errorBody); ok {
		eb.TrackingID = tid
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	b, err := marshal(rep.body)
	if err != nil {
		b, _ = marshal(&errorBody{ // an errorBody always encodes
			Message:    "webextest: encode the answer: " + err.Error(),
			Errors:     []ErrorDetail{{Description: err.Error()}},
			TrackingID: tid,
		})
		rep.status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(rep.status)
	// A failed write means the client is gone; there is nobody left to tell.
	_, _ = w.Write(b)
}

// marshal encodes v as JSON without escaping <, > and & (Webex's html fields contain them).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// normalizePath removes a trailing slash, so that collection paths work either way.
func normalizePath(p string) string {
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	if p == "" {
		return "/"
	}
	return p
}

// authenticateLocked returns who the bearer token belongs to, or nil.
func (s *Sim) authenticateLocked(h http.Header, now time.Time) *principal {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil
	}
	p := s.tokens[strings.TrimSpace(token)]
	if p == nil || p.revoked || (!p.expires.IsZero() && !now.Before(p.expires)) {
		return nil
	}
	return p
}

// access is what a route asks of the caller's token.
type access int

const (
	anyToken  access = iota // any valid token
	adminOnly               // a partner admin's token; other valid tokens get 403
	noToken                 // no bearer token (the OAuth token endpoint)
)

// route is one endpoint. Its handler runs with s.mu held.
type route struct {
	method  string
	pattern []string // path segments; "{}" is a parameter
	key     string   // method and pattern, the key of its operation's schemas
	access  access
	handle  func(q *request) reply
}

func (s *Sim) routeTable() []route {
	r := func(method, pattern string, a access, h func(*request) reply) route {
		segs := strings.Split(strings.Trim(pattern, "/"), "/")
		return route{method: method, pattern: segs, key: routeKey(method, segs), access: a, handle: h}
	}
	// Literal routes come before parameter routes of the same shape.
	return []route{
		r("GET", "/v1/people/me", anyToken, s.handleMe),
		r("GET", "/v1/people/{}", anyToken, s.handleGetPerson),
		r("GET", "/v1/people", anyToken, s.handleListPeople),
		r("POST", "/v1/messages", anyToken, s.handleCreateMessage),
		r("GET", "/v1/messages/{}", anyToken, s.handleGetMessage),
		r("DELETE", "/v1/messages/{}", anyToken, s.handleDeleteMessage),
		r("POST", "/v1/attachment/actions", anyToken, s.handleCreateAction),
		r("GET", "/v1/attachment/actions/{}", anyToken, s.handleGetAction),
		r("GET", "/v1/webhooks", anyToken, s.handleListWebhooks),
		r("POST", "/v1/webhooks", anyToken, s.handleCreateWebhook),
		r("GET", "/v1/webhooks/{}", anyToken, s.handleGetWebhook),
		r("PUT", "/v1/webhooks/{}", anyToken, s.handleUpdateWebhook),
		r("DELETE", "/v1/webhooks/{}", anyToken, s.handleDeleteWebhook),
		r("GET", "/v1/wholesale/customers", adminOnly, s.handleListCustomers),
		r("POST", "/v1/wholesale/customers", adminOnly, s.handleProvision),
		r("POST", "/v1/wholesale/customers/validate", adminOnly, s.handlePrecheck),
		r("GET", "/v1/wholesale/customers/{}", adminOnly, s.handleGetCustomer),
		r("PUT", "/v1/wholesale/customers/{}", adminOnly, s.handleUpdateCustomer),
		r("DELETE", "/v1/wholesale/customers/{}", adminOnly, s.handleDeleteCustomer),
		r("GET", "/v1/licenses", adminOnly, s.handleLicenses),
		r("GET", "/v1/organizations", adminOnly, s.handleListOrgs),
		r("GET", "/v1/organizations/{}", adminOnly, s.handleGetOrg),
		r("GET", "/v1/partner/organizations/{}/partnerAdmins", adminOnly, s.handlePartnerAdmins),
		r("POST", "/v1/access_token", noToken, s.handleAccessToken),
		r("GET", "/u2c/api/v1/catalog", anyToken, s.handleCatalog),
		r("GET", "/wdm/api/v1/devices", anyToken, s.handleListDevices),
		r("POST", "/wdm/api/v1/devices", anyToken, s.handleCreateDevice),
		r("DELETE", "/wdm/api/v1/devices/{}", anyToken, s.handleDeleteDevice),
		r("GET", "/conversation/api/v1/messages/{}", anyToken, s.handleLookupMessage),
		r("GET", "/conversation/api/v1/attachment/actions/{}", anyToken, s.handleLookupAction),
	}
}

// dispatchLocked routes q, checks the token and runs the handler.
func (s *Sim) dispatchLocked(q *request, who *principal) reply {
	s.purgeDeletedLocked(q.now)
	segs := strings.Split(strings.Trim(q.path, "/"), "/")
	methodMismatch := false
	for _, rt := range s.routes {
		params, ok := matchSegments(rt.pattern, segs)
		if !ok {
			continue
		}
		if rt.method != q.method {
			methodMismatch = true
			continue
		}
		switch {
		case rt.access != noToken && who == nil:
			return errReply(failf(http.StatusUnauthorized, msgUnauthorized))
		case rt.access == adminOnly && !who.admin:
			return errReply(failf(http.StatusForbidden, msgForbidden))
		}
		if rt.access != noToken {
			q.who = who
		}
		if rep, ok := s.checkShapeLocked(rt, q); !ok {
			return rep
		}
		q.params = params
		return rt.handle(q)
	}
	if methodMismatch {
		return errReply(failf(http.StatusMethodNotAllowed, "The request method %s is not supported for %s.", q.method, q.path))
	}
	return errReply(failf(http.StatusNotFound, msgNotFound))
}

// matchSegments matches path segments against a route pattern and returns the parameters.
func matchSegments(pattern, segs []string) ([]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params []string
	for i, p := range pattern {
		switch {
		case p == "{}" && segs[i] != "":
			params = append(params, segs[i])
		case p != segs[i]:
			return nil, false
		}
	}
	return params, true
}

// decodeJSON decodes a JSON request body into v.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return failf(http.StatusBadRequest, "The request body is empty.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return failf(http.StatusBadRequest, "The request body is not valid JSON: %v", err)
	}
	return nil
}

// absURL returns the absolute URL of path (with query) as the caller reached the Sim.
func (q *request) absURL(path string, query url.Values) string {
	u := q.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// nextLink returns an RFC 5988 Link header for the next page: the request's own query with
// key set to value.
func (q *request) nextLink(key, value string) http.Header {
	next := cloneValues(q.query)
	next.Set(key, value)
	return http.Header{"Link": {fmt.Sprintf(`<%s>; rel="next"`, q.absURL(q.path, next))}}
}
