package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The sandbox runs attachbot exactly as serve wires it (the same handler on the same signed
// /webhook path, the same store, the same status job), but against the in-process simulated
// Webex of package webextest, and serves a page that looks like a Webex client: the partner
// space, the customer admin's direct space with the bot, the seeded scenarios and the
// simulated provisioning outcome. The page lives in sandbox/ and is embedded in the binary.

// sandboxFiles is the page: plain HTML, CSS and JavaScript, with no build step.
//
//go:embed sandbox
var sandboxFiles embed.FS

// The sandbox's timings: the status job runs every two seconds and polls a request two
// seconds after each change, at most ten seconds apart, so that outcomes show within seconds.
const (
	sandboxPollSchedule = "@every 2s"
	sandboxFirstPoll    = 2 * time.Second
	sandboxMaxPoll      = 10 * time.Second
	// sandboxStuckAfter is short so that the stuck warning can be seen too.
	sandboxStuckAfter = 2 * time.Minute
	// sandboxLongPoll is how long GET /sandbox/api/state?since= waits for a change.
	sandboxLongPoll = 25 * time.Second
	// sandboxMaxBody is the most a sandbox API request body may hold.
	sandboxMaxBody = 1 << 20
	// sandboxMaxDelay is the longest simulated provisioning the outcome control accepts.
	sandboxMaxDelay = time.Hour
)

// outcomeSeeded is the outcome control's value that puts back each organization's seeded
// outcome.
const outcomeSeeded = "seeded"

// sandbox runs the sandbox until ctx ends, then shuts down in order: its HTTP server,
// attachbot (jobs, workers, store), the simulated Webex's server. LISTEN_ADDR (default
// 127.0.0.1:8080) and SANDBOX_DB (default a file in a temporary folder, removed at the end)
// are read from getenv. DB_PATH, serve's store, is ignored: the sandbox never opens a store
// it did not create.
func sandbox(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	addr := orDefault(getenv("LISTEN_ADDR"), sandboxDefaultListenAddr)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("LISTEN_ADDR=%q is not a host:port address such as %s", addr, sandboxDefaultListenAddr)
	}
	if strings.TrimSpace(getenv("DB_PATH")) != "" {
		logger.Warn("the sandbox ignores DB_PATH, the bot's real store; SANDBOX_DB names the sandbox's own")
	}
	dbPath := strings.TrimSpace(getenv("SANDBOX_DB"))
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "attachbot-sandbox-")
		if err != nil {
			return fmt.Errorf("make a temporary folder for the store: %w", err)
		}
		defer func() {
			if err := os.RemoveAll(dir); err != nil {
				logger.Warn("remove the sandbox's temporary folder", "dir", dir, "err", err)
			}
		}()
		dbPath = filepath.Join(dir, "attachbot.db")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (LISTEN_ADDR): %w", addr, err)
	}
	pageURL, publicURL := sandboxURLs(ln.Addr())
	env, err := newSandboxEnv(ctx, sandboxOptions{PublicURL: publicURL, DBPath: dbPath, Logger: logger})
	if err != nil {
		ln.Close()
		return err
	}
	front := startServer(ln, env.handler, logger, sandboxLongPoll+30*time.Second)
	front.srv.RegisterOnShutdown(env.stopWaiting)
	logger.Info("attachbot sandbox listening", "addr", ln.Addr().String(), "db", dbPath)
	fmt.Fprintf(stdout, "attachbot sandbox: open %s\n", pageURL)

	httpErr := shutdownAfter(ctx, front, env.close, logger)
	logger.Info("attachbot sandbox stopped")
	return httpErr
}

// sandboxURLs returns the URL a person opens and the URL the simulated Webex delivers
// webhooks to, for a listener's address. A listener on every interface (":8080") is reached
// on the loopback address.
func sandboxURLs(addr net.Addr) (page, public string) {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/", "http://" + addr.String()
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return "http://localhost:" + port + "/", "http://" + net.JoinHostPort("127.0.0.1", port)
	}
	hostport := net.JoinHostPort(host, port)
	return "http://" + hostport + "/", "http://" + hostport
}

// sandboxOptions configure a sandbox environment.
type sandboxOptions struct {
	// PublicURL is where the sandbox's HTTP server is reached: the simulated Webex delivers
	// the bot's webhook events to PublicURL/webhook.
	PublicURL string
	// DBPath is the bbolt file: a new file, or one the sandbox created before (it carries
	// the sandbox's mark); any other is refused.
	DBPath string
	Logger *slog.Logger
}

// sandboxEnv is a simulated Webex on its own HTTP server, attachbot wired against it, and
// the sandbox's handler: the bot's routes, the sandbox's API and the page.
type sandboxEnv struct {
	sim     *webextest.Sim
	simSrv  *server
	app     *app
	handler http.Handler
	log     *slog.Logger
	// seeded are the organizations as seeded, for their descriptions and outcomes.
	seeded []webextest.Org
	// stopping is closed when the HTTP server shuts down, so that waiting requests end.
	stopping chan struct{}
	stopOnce sync.Once
	// mu guards applied, the outcome control's last applied setting.
	mu      sync.Mutex
	applied outcomeRequest
}

// newSandboxEnv starts a simulated Webex on a loopback port and attachbot against it, with
// the bot's webhooks registered at opts.PublicURL. The caller serves env.handler at that URL
// and calls close when done.
func newSandboxEnv(ctx context.Context, opts sandboxOptions) (*sandboxEnv, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := prepareSandboxStore(ctx, opts.DBPath); err != nil {
		return nil, err
	}
	// A seed of its own, so that a store kept from an earlier run (SANDBOX_DB) does not take
	// this run's first messages for redeliveries of that run's.
	seed, err := randomHex()
	if err != nil {
		return nil, fmt.Errorf("seed the simulated Webex's ids: %w", err)
	}
	sim := webextest.New(webextest.Options{IDSeed: seed})
	// Eve, the outsider, is a guest of the partner space, so that the bot's access checks can
	// be tried by typing as her; every customer admin has a direct space with the bot.
	if err := sim.AddMember(webextest.PartnerSpaceID, webextest.EveID); err != nil {
		return nil, fmt.Errorf("add the outsider to the partner space: %w", err)
	}
	seeded := webextest.SeedOrgs()
	for _, o := range seeded {
		if _, err := sim.EnsureDirectRoom(webextest.BotID, o.AdminID); err != nil {
			return nil, fmt.Errorf("open the direct space of %s: %w", o.AdminEmail, err)
		}
	}
	simLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the simulated Webex: %w", err)
	}
	simSrv := startServer(simLn, sim, logger.With("component", "webextest"), 30*time.Second)
	env := &sandboxEnv{sim: sim, simSrv: simSrv, log: logger, seeded: seeded, stopping: make(chan struct{}),
		applied: outcomeRequest{Status: outcomeSeeded, DelaySeconds: webextest.DefaultProvisioningDelay.Seconds()}}

	fail := func(err error) (*sandboxEnv, error) {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return nil, errors.Join(err, simSrv.stop(stopCtx))
	}
	secret, err := randomHex()
	if err != nil {
		return fail(err)
	}
	admins, err := bot.ParseAllowlist(webextest.AnnEmail + "," + webextest.BobEmail)
	if err != nil {
		return fail(fmt.Errorf("the sandbox's partner admins: %w", err))
	}
	cfg := config{
		WebexAPIURL:   "http://" + simLn.Addr().String() + "/v1",
		BotToken:      webextest.DefaultBotToken,
		PartnerToken:  webextest.DefaultPartnerToken,
		WebhookSecret: secret,
		PublicURL:     strings.TrimRight(opts.PublicURL, "/"),
		DBPath:        opts.DBPath,
		PartnerAdmins: admins,
		Templates: []bot.Template{
			{Name: "Standard", ProvisioningID: "cHJvdmlzaW9uaW5nSWQtc3RhbmRhcmQ"},
			{Name: "Calling", ProvisioningID: "cHJvdmlzaW9uaW5nSWQtY2FsbGluZw"},
		},
		PollSchedule: sandboxPollSchedule,
		FirstPoll:    sandboxFirstPoll,
		ApprovalTTL:  7 * 24 * time.Hour,
		StuckAfter:   sandboxStuckAfter,
		PartnerName:  webextest.PartnerOrgName,
	}
	a, err := newApp(cfg, wiring{MaxPoll: sandboxMaxPoll}, logger)
	if err != nil {
		return fail(err)
	}
	closeApp := func(err error) (*sandboxEnv, error) {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return fail(errors.Join(err, a.close(closeCtx)))
	}
	if err := a.start(ctx); err != nil {
		return closeApp(err)
	}
	env.app = a
	if env.handler, err = env.routes(); err != nil {
		return closeApp(err)
	}
	return env, nil
}

// randomHex returns 16 random bytes in hex: a webhook secret, an id seed.
func randomHex() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// stopWaiting ends the requests waiting for a change; the HTTP server calls it when it
// shuts down.
func (e *sandboxEnv) stopWaiting() { e.stopOnce.Do(func() { close(e.stopping) }) }

// close stops attachbot, then the simulated Webex's server. The sandbox's own HTTP server
// must have been shut down before.
func (e *sandboxEnv) close(ctx context.Context) error {
	e.stopWaiting()
	return errors.Join(e.app.close(ctx), e.simSrv.stop(ctx))
}

// routes returns the sandbox's handler: the bot's own routes, the sandbox API and the page.
func (e *sandboxEnv) routes() (http.Handler, error) {
	page, err := fs.Sub(sandboxFiles, "sandbox")
	if err != nil {
		return nil, fmt.Errorf("the sandbox's embedded page: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", e.app.handler)
	mux.Handle("/healthz", e.app.handler)
	api := http.NewServeMux()
	api.HandleFunc("GET /sandbox/api/state", e.handleState)
	api.HandleFunc("GET /sandbox/api/scenarios", e.handleScenarios)
	api.HandleFunc("POST /sandbox/api/say", jsonOnly(e.handleSay))
	api.HandleFunc("POST /sandbox/api/click", jsonOnly(e.handleClick))
	api.HandleFunc("POST /sandbox/api/outcome", jsonOnly(e.handleOutcome))
	mux.Handle("/sandbox/api/", sameOrigin(api))
	mux.Handle("GET /sandbox/static/", http.StripPrefix("/sandbox/static/", http.FileServerFS(page)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, page, "index.html")
	})
	return mux, nil
}

// The views the API answers with.

// personView is someone the page shows or acts as.
type personView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// Role is "bot", "partner admin", "customer admin" or "outsider".
	Role string `json:"role"`
	// OrgName is the organization a customer admin administers.
	OrgName string `json:"orgName,omitempty"`
	// DirectSpaceID is the customer admin's direct space with the bot.
	DirectSpaceID string `json:"directSpaceId,omitempty"`
}

// spaceView is a space with its messages, oldest first.
type spaceView struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Type    string   `json:"type"` // direct or group
	Members []string `json:"members"`
	// With is, for a direct space with the bot, the other person.
	With     string        `json:"with,omitempty"`
	Messages []messageView `json:"messages"`
}

// messageView is a message as the page renders it.
type messageView struct {
	ID          string `json:"id"`
	ParentID    string `json:"parentId,omitempty"`
	PersonID    string `json:"personId"`
	PersonName  string `json:"personName"`
	PersonEmail string `json:"personEmail"`
	Text        string `json:"text"`
	Markdown    string `json:"markdown,omitempty"`
	// MentionsBot says the text starts with the bot's mention (a group space).
	MentionsBot bool `json:"mentionsBot,omitempty"`
	// Card is the Adaptive Card attached, as the bot sent it.
	Card    json.RawMessage `json:"card,omitempty"`
	Created time.Time       `json:"created"`
}

// stateView is everything the page shows but the scenarios.
type stateView struct {
	// Version changes whenever anything else does; GET state?since=<version> waits for it.
	Version string       `json:"version"`
	Bot     personView   `json:"bot"`
	People  []personView `json:"people"`
	Spaces  []spaceView  `json:"spaces"`
}

// scenarioView is a seeded organization: what it demonstrates and what to type.
type scenarioView struct {
	OrgID        string `json:"orgId"`
	OrgName      string `json:"orgName"`
	Description  string `json:"description"`
	Demonstrates string `json:"demonstrates"`
	Line         string `json:"line"`
	Check        string `json:"check"`
	AdminID      string `json:"adminId"`
	AdminName    string `json:"adminName"`
	AdminEmail   string `json:"adminEmail"`
	// Outcome is how the organization's next provisioning ends, and DelaySeconds how long
	// it takes (0: the simulator's default).
	Outcome      string  `json:"outcome"`
	DelaySeconds float64 `json:"delaySeconds"`
}

// scenariosView is the scenarios panel.
type scenariosView struct {
	Scenarios []scenarioView `json:"scenarios"`
	// Outcomes are the values the outcome control offers, with what each means.
	Outcomes []outcomeView `json:"outcomes"`
	// DefaultDelaySeconds is how long provisioning takes when nothing else is said.
	DefaultDelaySeconds float64 `json:"defaultDelaySeconds"`
	// Applied is the outcome control's setting as last applied (as seeded, for every
	// organization, at first), so that the page shows it again after a reload.
	Applied outcomeRequest `json:"applied"`
}

// outcomeView is one choice of the outcome control.
type outcomeView struct {
	Status  string `json:"status"`
	Meaning string `json:"meaning"`
}

// state builds the page's view of the simulated Webex.
func (e *sandboxEnv) state() (stateView, error) {
	botPerson, _ := e.sim.Person(webextest.BotID)
	v := stateView{Bot: personOf(botPerson, "bot"), Spaces: []spaceView{}}
	if ann, ok := e.sim.Person(webextest.AnnID); ok {
		v.People = append(v.People, personOf(ann, "partner admin"))
	}
	for _, o := range e.seeded {
		p, ok := e.sim.Person(o.AdminID)
		if !ok {
			continue
		}
		pv := personOf(p, "customer admin")
		pv.OrgName = o.Name
		pv.DirectSpaceID, _ = e.sim.DirectRoom(webextest.BotID, o.AdminID)
		v.People = append(v.People, pv)
	}
	if eve, ok := e.sim.Person(webextest.EveID); ok {
		v.People = append(v.People, personOf(eve, "outsider"))
	}
	names := map[string]string{}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		p, _ := e.sim.Person(id)
		names[id] = p.DisplayName
		return p.DisplayName
	}
	for _, r := range e.sim.Rooms() {
		if !slices.Contains(r.Members, webextest.BotID) {
			continue
		}
		sv := spaceView{ID: r.ID, Title: r.Title, Type: r.Type, Members: r.Members, Messages: []messageView{}}
		if r.Type == webextest.RoomTypeDirect {
			for _, m := range r.Members {
				if m != webextest.BotID {
					sv.With, sv.Title = m, name(m)
				}
			}
		}
		for _, m := range e.sim.Messages(r.ID) {
			mv := messageView{
				ID: m.ID, ParentID: m.ParentID, PersonID: m.PersonID, PersonName: name(m.PersonID),
				PersonEmail: m.PersonEmail, Text: m.Text, Markdown: m.Markdown, Created: m.Created,
				MentionsBot: m.PersonID != webextest.BotID && slices.Contains(m.MentionedPeople, webextest.BotID),
			}
			for _, a := range m.Attachments {
				if a.ContentType == webextest.CardContentType {
					mv.Card = a.Content
				}
			}
			sv.Messages = append(sv.Messages, mv)
		}
		v.Spaces = append(v.Spaces, sv)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return stateView{}, fmt.Errorf("encode the state: %w", err)
	}
	sum := sha256.Sum256(b)
	v.Version = hex.EncodeToString(sum[:8])
	return v, nil
}

// personOf returns the view of a simulated person.
func personOf(p webextest.Person, role string) personView {
	email := ""
	if len(p.Emails) > 0 {
		email = p.Emails[0]
	}
	return personView{ID: p.ID, Name: p.DisplayName, Email: email, Role: role}
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

// handleScenarios answers GET /sandbox/api/scenarios.
func (e *sandboxEnv) handleScenarios(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, e.scenarios())
}

// scenarios returns the scenarios panel: each seeded organization with what it demonstrates,
// the line to type and how its next provisioning ends.
func (e *sandboxEnv) scenarios() scenariosView {
	e.mu.Lock()
	applied := e.applied
	e.mu.Unlock()
	v := scenariosView{
		Applied:             applied,
		DefaultDelaySeconds: webextest.DefaultProvisioningDelay.Seconds(),
		Outcomes: []outcomeView{
			{outcomeSeeded, "as each organization is seeded (Broken Pipes Plumbing ends in error, the others provisioned)"},
			{webextest.StatusProvisioned, "provisioned: the organization is attached; the partner's role is reported"},
			{webextest.StatusProvisionedWithErrors, "provisioned_with_errors: attached, but the first package failed (code 10022)"},
			{webextest.StatusError, "error: provisioning failed (code 2560); nothing is attached"},
			{webextest.StatusPendingReview, "pending_rpl_review: Cisco's Denied Party List review; it stays there"},
		},
	}
	for _, s := range sandboxScenarios() {
		o, ok := e.sim.Org(s.OrgID)
		if !ok {
			continue
		}
		status := o.Outcome.Status
		if status == "" {
			status = webextest.StatusProvisioned
		}
		v.Scenarios = append(v.Scenarios, scenarioView{
			OrgID: o.ID, OrgName: o.Name, Description: o.Description, Demonstrates: s.Demonstrates,
			Line: s.Line, Check: "check " + o.ID, AdminID: o.AdminID, AdminName: o.AdminName, AdminEmail: o.AdminEmail,
			Outcome: status, DelaySeconds: o.Outcome.Delay.Seconds(),
		})
	}
	return v
}

// sandboxScenario is what a seeded organization demonstrates and the attach line to type.
type sandboxScenario struct {
	OrgID        string
	Demonstrates string
	Line         string
}

// sandboxScenarios returns the scenarios, in the order of the seed.
func sandboxScenarios() []sandboxScenario {
	line := func(org, admin, name, street, city, zip, country, packages, facts string) string {
		return fmt.Sprintf(`attach org=%s admin=%s template=Standard packages=%s name=%q street=%q city=%q zip=%s country=%s %s`,
			org, admin, packages, name, street, city, zip, country, facts)
	}
	const noDomains = "verified-domain=no claimed-domain=no trial=no"
	return []sandboxScenario{
		{webextest.SmallOrgID, "An automatic attach: under 100 users, no verified or claimed domain. Provisioned at once; the partner becomes Provisioning Admin.",
			line(webextest.SmallOrgID, webextest.SmallAdminEmail, "Smallville Bakery", "Nørregade 1", "København", "1165", "DK", "webex_meetings", noDomains)},
		{webextest.BigOrgID, "The customer admin's approval: 150 users. The approval card goes to the admin's direct space; only their Approve starts provisioning.",
			line(webextest.BigOrgID, webextest.BigAdminEmail, "Bigcorp Logistics", "1 Main St", "Oslo", "0150", "NO", "common_area_calling", noDomains)},
		{webextest.NoLicenseOrgID, "An automatic attach of an organization with no licenses: the partner becomes Full Admin.",
			line(webextest.NoLicenseOrgID, webextest.NoLicenseAdminEmail, "Freelancers Guild", "Drottninggatan 5", "Stockholm", "11151", "SE", "webex_meetings", noDomains)},
		{webextest.TrialOrgID, "A trial organization: converting trials is not supported, and Webex's precheck refuses it. Nothing is created.",
			line(webextest.TrialOrgID, webextest.TrialAdminEmail, "Trial & Error Labs", "Kaiserstraße 10", "Berlin", "10115", "DE", "webex_meetings", "verified-domain=no claimed-domain=no")},
		{webextest.CustomerOrgID, "Already a wholesale customer of the partner: refused, nothing is changed.",
			line(webextest.CustomerOrgID, webextest.CustomerAdminEmail, "Nordic Customer A/S", "Havnegade 1", "Copenhagen", "1058", "DK", "webex_meetings", noDomains)},
		{webextest.ErrorOrgID, "Provisioning that fails: status error, with Webex's error code 2560, told in the partner's thread.",
			line(webextest.ErrorOrgID, webextest.ErrorAdminEmail, "Broken Pipes Plumbing", "2 Canal Rd", "Amsterdam", "1012", "NL", "webex_meetings", noDomains)},
		{webextest.HiddenOrgID, "An organization the partner cannot read: its user count is unknown, and unknown means asking the customer admin.",
			line(webextest.HiddenOrgID, webextest.HiddenAdminEmail, "Hidden Holdings", "1 Rue de Rivoli", "Paris", "75001", "FR", "webex_meetings", "verified-domain=no claimed-domain=no")},
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
	in.Text = strings.TrimSpace(in.Text)
	switch {
	case in.Text == "":
		writeError(w, http.StatusBadRequest, "text is empty: type a message, such as help")
		return
	case len(in.Text) > webextest.MaxMessageBytes:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("text is %d bytes long; Webex takes at most %d", len(in.Text), webextest.MaxMessageBytes))
		return
	}
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
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, sandboxMaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", sandboxMaxBody))
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
