package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"attachbot/bot"
	"attachbot/cards"
	"attachbot/handlers"
	"attachbot/metrics"
	"attachbot/store"
	"attachbot/store/postgres"
	"attachbot/webex"
	"attachbot/webex/mercury"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// App is attachbot wired together: the store, the two Webex clients, the bot, its jobs and
// the HTTP handler. serve, the sandbox and the end-to-end tests build it the same way.
type App struct {
	cfg     Config
	log     *slog.Logger
	db      durableStore
	bot     *bot.Bot
	jobs    *jobs
	handler http.Handler
	// websocket receives the events in EVENTS=websocket mode; nil in webhook mode.
	websocket *websocket
}

// durableStore is what the app needs of a store: the bot's state, a health probe that
// writes, and Close. *store.DB (bbolt) and *postgres.DB are two.
type durableStore interface {
	bot.Store
	handlers.Pinger
	Close() error
}

// openStore opens PostgreSQL at cfg.Database.URL when it is set, waiting for it while it is
// unreachable (until ctx ends), else the bbolt file at cfg.DBPath.
func openStore(ctx context.Context, cfg Config, clock bot.Clock, logger *slog.Logger) (durableStore, error) {
	if cfg.Database.URL == "" {
		return store.Open(cfg.DBPath, store.Options{})
	}
	return postgres.Open(ctx, cfg.Database.URL, postgres.Options{
		MaxConns: cfg.Database.MaxConns, StatementTimeout: cfg.Database.StatementTimeout,
		Clock: clock, Logger: logger.With("component", "store"),
	})
}

// Wiring is what differs between production, the sandbox and the tests.
type Wiring struct {
	HTTPClient *http.Client // for both Webex clients; nil means a default one
	Clock      bot.Clock
	Workers    int
	// MaxPoll caps the per-request poll backoff (default: bot's).
	MaxPoll time.Duration
	// PollInSweepOnly leaves polling to the status job's sweep, with no poll loop: for tests
	// that drive the sweep on a fake clock (see bot.Config).
	PollInSweepOnly bool
	// Websocket changes the websocket transport's options (EVENTS=websocket): for tests
	// (backoff, proxy, device name). nil leaves mercury's defaults.
	Websocket func(*mercury.Options)
	// WebsocketClock times the websocket's backoff, pings and status (default: Clock). Tests
	// whose Clock moves at every wait give the websocket one of its own.
	WebsocketClock bot.Clock
	// Timers times the renewal of the bot's claims and its scans for work no one holds
	// (default: Clock). Tests whose Clock moves at every wait give them one of their own.
	Timers bot.Clock
	// ScanEvery is how often the bot scans the store for work no one holds (default:
	// bot's): tests of replicas shorten it.
	ScanEvery time.Duration
	// Owner is who this process is in the store's claims and leases (default: the host's
	// name and a random suffix, different for every process).
	Owner string
}

// processOwner returns an owner id for this process: the host's name, so that an operator
// reading the store knows which machine holds what, and a random suffix, so that two
// processes on one host (a restart, two containers) differ.
func processOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "attachbot"
	}
	return host + "-" + rand.Text()[:10]
}

// Websocket reports whether cfg receives the events over the websocket (EVENTS=websocket);
// otherwise they come as webhooks.
func (c Config) Websocket() bool { return c.Events == EventsWebsocket }

// New opens the store and builds everything. It does no Webex call; Start does. A
// PostgreSQL store that is unreachable is waited for until ctx ends.
func New(ctx context.Context, cfg Config, w Wiring, logger *slog.Logger) (*App, error) {
	if w.Clock == nil {
		w.Clock = bot.SystemClock{}
	}
	if w.Owner == "" {
		w.Owner = processOwner()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := metrics.New(reg)
	if err != nil {
		return nil, fmt.Errorf("register the metrics: %w", err)
	}
	db, err := openStore(ctx, cfg, w.Clock, logger)
	if err != nil {
		return nil, fmt.Errorf("open the store: %w", err)
	}
	botClient, err := webex.New(webex.Options{BaseURL: cfg.WebexAPIURL, Token: cfg.BotToken, HTTPClient: w.HTTPClient, Clock: w.Clock,
		Logger: logger.With("component", "webex", "token", "bot"), Observer: m.Webex("bot")})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("build the bot's Webex client: %w", err)
	}
	partnerClient, err := webex.New(webex.Options{BaseURL: cfg.WebexAPIURL, Token: cfg.PartnerToken, HTTPClient: w.HTTPClient, Clock: w.Clock,
		Logger: logger.With("component", "webex", "token", "partner"), Observer: m.Webex("partner")})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("build the partner's Webex client: %w", err)
	}
	var tokens bot.TokenRefresher
	if cfg.OAuth.RefreshToken != "" {
		tokens = partnerTokens{client: partnerClient, app: webex.OAuthApp{ClientID: cfg.OAuth.ClientID, ClientSecret: cfg.OAuth.ClientSecret}}
	}
	webhookURL := ""
	if cfg.PublicURL != "" {
		webhookURL = cfg.PublicURL + "/webhook"
	}
	b, err := bot.New(bot.Config{
		PartnerAdmins: cfg.PartnerAdmins, Templates: cfg.Templates, PartnerName: cfg.PartnerName,
		AdminSpaces: cfg.AdminSpaces, Workers: w.Workers, SendConcurrency: cfg.SendConcurrency, ApprovalTTL: cfg.ApprovalTTL, StuckAfter: cfg.StuckAfter,
		WebhookURL: webhookURL, WebhookSecret: cfg.WebhookSecret, RefreshToken: cfg.OAuth.RefreshToken,
		FirstPoll: cfg.FirstPoll, MaxPoll: w.MaxPoll, PollInSweepOnly: w.PollInSweepOnly, Owner: w.Owner,
		ScanEvery: w.ScanEvery,
	}, bot.Deps{
		Messenger: botClient, Partner: partnerClient, Store: db, Cards: cards.New(), Clock: w.Clock, Timers: w.Timers,
		Logger: logger.With("component", "bot"), Tokens: tokens, Metrics: m,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := metrics.RegisterQueues(reg, b, w.Clock.Now); err != nil {
		db.Close()
		return nil, fmt.Errorf("register the queue metrics: %w", err)
	}
	j, err := newJobs(cfg, b.Jobs(), logger.With("component", "jobs"))
	if err != nil {
		db.Close()
		return nil, err
	}
	obs := handlers.Observability{Deliveries: m, Metrics: metrics.Handler(reg)}
	a := &App{cfg: cfg, log: logger, db: db, bot: b, jobs: j}
	if cfg.Websocket() {
		a.websocket = newWebsocket(cfg, w, b, logger.With("component", "websocket"))
		if err := metrics.RegisterTransport(reg, "websocket", a.websocket.metricsState); err != nil {
			db.Close()
			return nil, fmt.Errorf("register the websocket's metrics: %w", err)
		}
		// No /webhook route: nothing may come in but through the websocket.
		a.handler = handlers.New(b, "", db, a.websocket, obs, logger.With("component", "http"))
	} else {
		a.handler = handlers.New(b, cfg.WebhookSecret, db, nil, obs, logger.With("component", "http"))
	}
	return a, nil
}

// Start learns the bot's identity and starts its workers, registers the webhooks when
// PUBLIC_URL is set or starts the websocket (EVENTS=websocket), and starts the jobs. Run does the same with the HTTP server started
// between the first step and the second.
func (a *App) Start(ctx context.Context) error {
	if err := a.startBot(ctx); err != nil {
		return err
	}
	return a.startRest(ctx)
}

// startBot learns the bot's identity (GET /people/me) and starts its workers: nothing may
// be served before, since every event is read against that identity.
func (a *App) startBot(ctx context.Context) error {
	return a.bot.Start(ctx)
}

// startRest registers the webhooks when PUBLIC_URL is set, or starts the websocket, then
// starts the jobs; on an error it stops the bot's workers.
func (a *App) startRest(ctx context.Context) error {
	if a.websocket != nil {
		if err := a.websocket.start(ctx); err != nil {
			_ = a.bot.Stop(ctx)
			return err
		}
	} else if a.cfg.PublicURL != "" {
		if _, err := a.bot.EnsureWebhooks(ctx, a.cfg.PublicURL+"/webhook", a.cfg.WebhookSecret); err != nil {
			_ = a.bot.Stop(ctx)
			return fmt.Errorf("register the webhooks (PUBLIC_URL): %w", err)
		}
	}
	a.jobs.start(ctx)
	return nil
}

// Halt stops attachbot's jobs, websocket and bot as a crash would (see bot.Bot.Halt), for
// the tests of replicas that kill one: nothing is given back and the store is left open, to
// be cut by the test. The App cannot be used after.
func (a *App) Halt(ctx context.Context) error {
	var errs []error
	if a.websocket != nil {
		errs = append(errs, a.websocket.stop(ctx))
	}
	errs = append(errs, a.jobs.stop(ctx))
	a.bot.Halt()
	return errors.Join(errs...)
}

// Close stops what Start started, in order (the websocket, so that no event comes in after,
// and its device deleted; the jobs; the workers), then closes the store. The HTTP server is
// shut down before by its owner.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	if a.websocket != nil {
		errs = append(errs, a.websocket.stop(ctx))
	}
	errs = append(errs, a.jobs.stop(ctx))
	errs = append(errs, a.bot.Stop(ctx))
	if err := a.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close the store: %w", err))
	}
	return errors.Join(errs...)
}

// WebsocketStatus is the websocket transport's state; a zero Status in webhook mode or
// before Start.
func (a *App) WebsocketStatus() mercury.Status {
	if a.websocket == nil {
		return mercury.Status{}
	}
	return a.websocket.Status()
}

// Handler is the bot's HTTP handler: the webhook (webhook mode), the health and the metrics
// routes.
func (a *App) Handler() http.Handler { return a.handler }

// Bot is the core, for the sandbox and the tests to drive (Settle, Sweep).
func (a *App) Bot() *bot.Bot { return a.bot }

// Store is the bot's store, as the bot sees it.
func (a *App) Store() bot.Store { return a.db }

// Run builds attachbot and serves it on ln until ctx ends, then shuts down in order: the HTTP
// server, the jobs, the workers, the store. The bot's identity is learnt before the server
// serves; the server serves before the webhooks are registered, so that Webex's first
// delivery finds it. Run closes ln.
func Run(ctx context.Context, cfg Config, ln net.Listener, logger *slog.Logger) error {
	a, err := New(ctx, cfg, Wiring{}, logger)
	if err != nil {
		ln.Close()
		return err
	}
	if err := a.startBot(ctx); err != nil {
		ln.Close()
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return errors.Join(err, a.Close(closeCtx))
	}
	if cfg.Database.URL != "" {
		logger.Info("state kept in PostgreSQL (DATABASE_URL); DB_PATH is not used", "max_conns", cfg.Database.MaxConns,
			"statement_timeout", cfg.Database.StatementTimeout.String())
	}
	front := StartServer(ln, a.handler, logger, 30*time.Second)
	if cfg.Websocket() {
		logger.Info("attachbot listening", "addr", ln.Addr().String(), "events", EventsWebsocket, "u2c", cfg.U2CURL)
	} else {
		logger.Info("attachbot listening", "addr", ln.Addr().String(), "events", EventsWebhook, "webhook", cfg.PublicURL+"/webhook")
	}
	if err := a.startRest(ctx); err != nil {
		stopNow, cancel := context.WithCancel(ctx)
		cancel()
		_ = ShutdownAfter(stopNow, front, a.Close, logger)
		return err
	}
	httpErr := ShutdownAfter(ctx, front, a.Close, logger)
	logger.Info("attachbot stopped")
	return httpErr
}

// partnerTokens renews the partner token with the integration's credentials.
type partnerTokens struct {
	client *webex.Client
	app    webex.OAuthApp
}

// RefreshToken implements bot.TokenRefresher.
func (p partnerTokens) RefreshToken(ctx context.Context, refreshToken string) (bot.Tokens, error) {
	return p.client.RefreshToken(ctx, p.app, refreshToken)
}

// SetToken implements bot.TokenRefresher.
func (p partnerTokens) SetToken(token string) error { return p.client.SetToken(token) }
