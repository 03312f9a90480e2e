// The Sim itself: its options, its state, New, the clock and change notification (WaitFor),
// and ServeHTTP, which checks, routes, times and records every call.

package webextest

import (
	"context"
	"fmt"
	"io"
	"net/http"
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
	// RotateRefreshTokens makes POST /v1/access_token answer a new refresh token each time
	// and refuse the one it was given from then on, as OAuth 2.0 allows a server to
	// (RFC 6749 section 6). Webex's documentation shows a refresh_token in the answer but
	// does not say whether it is the one sent, so by default the Sim keeps the refresh
	// token (and accepts it again); tests of the refresh turn this on to check that the bot
	// survives either.
	RotateRefreshTokens bool
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
	contents      map[string]*content
	edits         map[string]int // how often each message was edited
	actions       map[string]*AttachmentAction
	hooks         map[string]*Webhook
	hookOrder     []string
	hookFailures  map[string][]time.Time
	customers     map[string]*customer
	customerOrder []string
	deleting      map[string]bool // the ids of the customers whose deletion is under way
	faults        []*faultState
	rate          rateState
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
		contents:      map[string]*content{},
		edits:         map[string]int{},
		actions:       map[string]*AttachmentAction{},
		hooks:         map[string]*Webhook{},
		hookFailures:  map[string][]time.Time{},
		customers:     map[string]*customer{},
		deleting:      map[string]bool{},
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
	fault := s.takeFaultLocked(r.Method, path, body)
	limited := who != nil && s.rateLimitedLocked(who.identity, q.now)
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
	if limited {
		call.Status = http.StatusTooManyRequests
		s.record(call)
		s.mu.Lock()
		rep := s.rateReplyLocked(call.Identity, s.nowLocked())
		s.mu.Unlock()
		s.write(w, tid, rep)
		return
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
