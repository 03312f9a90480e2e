package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"attachbot/app"
	"attachbot/bot"
	"attachbot/webex/mercury"
	"attachbot/webex/webextest"
)

// sandboxOptions configure a sandbox environment.
type sandboxOptions struct {
	// PublicURL is where the sandbox's HTTP server is reached: the simulated Webex delivers
	// the bot's webhook events to PublicURL/webhook.
	PublicURL string
	// DBPath is the bbolt file: a new file, or one the sandbox created before (it carries
	// the sandbox's mark); any other is refused.
	DBPath string
	Logger *slog.Logger
	// Events is how the simulated Webex's events reach the bot: app.EventsWebhook (the
	// default, to PublicURL/webhook) or app.EventsWebsocket (over the simulated websocket).
	Events string
}

// sandboxEnv is a simulated Webex on its own HTTP server, attachbot wired against it, and
// the sandbox's handler: the bot's routes, the sandbox's API and the page.
type sandboxEnv struct {
	sim     *webextest.Sim
	simSrv  *app.Server
	app     *app.App
	handler http.Handler
	log     *slog.Logger
	// seeded are the organizations as seeded, for their descriptions and outcomes.
	seeded []webextest.Org
	// stopping is closed when the HTTP server shuts down, so that waiting requests end.
	stopping chan struct{}
	stopOnce sync.Once
	// mu guards applied, the outcome control's last applied setting, and fileInfos.
	mu      sync.Mutex
	applied outcomeRequest
	// fileInfos are the stored files' names, types and sizes, by content URL.
	fileInfos map[string]fileView
}

// newSandboxEnv starts a simulated Webex on a loopback port and attachbot against it, with
// the bot's webhooks registered at opts.PublicURL, or its websocket connected to the
// simulated Webex (opts.Events). The caller serves env.handler at that URL
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
	simSrv := app.StartServer(simLn, sim, logger.With("component", "webextest"), 30*time.Second)
	env := &sandboxEnv{sim: sim, simSrv: simSrv, log: logger, seeded: seeded, stopping: make(chan struct{}),
		fileInfos: map[string]fileView{},
		applied:   outcomeRequest{Status: outcomeSeeded, DelaySeconds: webextest.DefaultProvisioningDelay.Seconds()}}

	fail := func(err error) (*sandboxEnv, error) {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return nil, errors.Join(err, simSrv.Stop(stopCtx))
	}
	secret, err := randomHex()
	if err != nil {
		return fail(err)
	}
	admins, err := bot.ParseAllowlist(webextest.AnnEmail + "," + webextest.BobEmail)
	if err != nil {
		return fail(fmt.Errorf("the sandbox's partner admins: %w", err))
	}
	templates, err := app.ParseTemplates(webextest.Templates)
	if err != nil {
		return fail(fmt.Errorf("the sandbox's templates: %w", err))
	}
	cfg := app.Config{
		WebexAPIURL:   "http://" + simLn.Addr().String() + "/v1",
		BotToken:      webextest.DefaultBotToken,
		PartnerToken:  webextest.DefaultPartnerToken,
		WebhookSecret: secret,
		PublicURL:     strings.TrimRight(opts.PublicURL, "/"),
		DBPath:        opts.DBPath,
		PartnerAdmins: admins,
		Templates:     templates,
		PollSchedule:  sandboxPollSchedule,
		FirstPoll:     sandboxFirstPoll,
		ApprovalTTL:   bot.DefaultApprovalTTL,
		StuckAfter:    sandboxStuckAfter,
		PartnerName:   webextest.PartnerOrgName,
	}
	wiring := app.Wiring{MaxPoll: sandboxMaxPoll}
	if opts.Events == app.EventsWebsocket {
		simURL := "http://" + simLn.Addr().String()
		cfg.Events, cfg.PublicURL, cfg.WebhookSecret = app.EventsWebsocket, "", ""
		cfg.U2CURL, cfg.WebsocketUnhealthyAfter = simURL+"/u2c/api/v1", app.DefaultWebsocketUnhealthyAfter
		// Never the real Webex's device service, even when the catalog cannot be read.
		wiring.Websocket = func(o *mercury.Options) { o.FallbackWDMURL = simURL + "/wdm/api/v1" }
	}
	a, err := app.New(ctx, cfg, wiring, logger)
	if err != nil {
		return fail(err)
	}
	closeApp := func(err error) (*sandboxEnv, error) {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return fail(errors.Join(err, a.Close(closeCtx)))
	}
	if err := a.Start(ctx); err != nil {
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
	return errors.Join(e.app.Close(ctx), e.simSrv.Stop(ctx))
}
