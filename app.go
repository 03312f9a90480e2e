package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"attachbot/bot"
	"attachbot/cards"
	"attachbot/handlers"
	"attachbot/store"
	"attachbot/webex"
)

// app is attachbot wired together: the store, the two Webex clients, the bot, its jobs and
// the HTTP handler. serve, the sandbox and the end-to-end tests build it the same way.
type app struct {
	cfg     config
	log     *slog.Logger
	db      *store.DB
	bot     *bot.Bot
	jobs    *jobs
	handler http.Handler
}

// wiring is what differs between production, the sandbox and the tests.
type wiring struct {
	HTTPClient *http.Client // for both Webex clients; nil means a default one
	Clock      bot.Clock
	Workers    int
	// MaxPoll caps the per-request poll backoff (default: bot's).
	MaxPoll time.Duration
	// PollInSweepOnly leaves polling to the status job's sweep, with no poll loop: for tests
	// that drive the sweep on a fake clock (see bot.Config).
	PollInSweepOnly bool
}

// newApp opens the store and builds everything. It does no Webex call; start does.
func newApp(cfg config, w wiring, logger *slog.Logger) (*app, error) {
	if w.Clock == nil {
		w.Clock = bot.SystemClock{}
	}
	db, err := store.Open(cfg.DBPath, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("open the store: %w", err)
	}
	botClient, err := webex.New(webex.Options{BaseURL: cfg.WebexAPIURL, Token: cfg.BotToken, HTTPClient: w.HTTPClient, Clock: w.Clock,
		Logger: logger.With("component", "webex", "token", "bot")})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("build the bot's Webex client: %w", err)
	}
	partnerClient, err := webex.New(webex.Options{BaseURL: cfg.WebexAPIURL, Token: cfg.PartnerToken, HTTPClient: w.HTTPClient, Clock: w.Clock,
		Logger: logger.With("component", "webex", "token", "partner")})
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
		AdminSpaces: cfg.AdminSpaces, Workers: w.Workers, ApprovalTTL: cfg.ApprovalTTL, StuckAfter: cfg.StuckAfter,
		WebhookURL: webhookURL, WebhookSecret: cfg.WebhookSecret, RefreshToken: cfg.OAuth.RefreshToken,
		FirstPoll: cfg.FirstPoll, MaxPoll: w.MaxPoll, PollInSweepOnly: w.PollInSweepOnly,
	}, bot.Deps{
		Messenger: botClient, Partner: partnerClient, Store: db, Cards: cards.New(), Clock: w.Clock,
		Logger: logger.With("component", "bot"), Tokens: tokens,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	j, err := newJobs(cfg, b, logger.With("component", "jobs"))
	if err != nil {
		db.Close()
		return nil, err
	}
	return &app{
		cfg: cfg, log: logger, db: db, bot: b, jobs: j,
		handler: handlers.New(b, cfg.WebhookSecret, db, logger.With("component", "http")),
	}, nil
}

// start starts the bot's workers and jobs, and registers the webhooks when PUBLIC_URL is set.
func (a *app) start(ctx context.Context) error {
	if err := a.bot.Start(ctx); err != nil {
		return err
	}
	if a.cfg.PublicURL != "" {
		if _, err := a.bot.EnsureWebhooks(ctx, a.cfg.PublicURL+"/webhook", a.cfg.WebhookSecret); err != nil {
			_ = a.bot.Stop(ctx)
			return fmt.Errorf("register the webhooks (PUBLIC_URL): %w", err)
		}
	}
	a.jobs.start(ctx)
	return nil
}

// close stops what start started, in order (jobs, then workers), then closes the store.
// The HTTP server is shut down before by its owner.
func (a *app) close(ctx context.Context) error {
	var errs []error
	errs = append(errs, a.jobs.stop(ctx))
	errs = append(errs, a.bot.Stop(ctx))
	if err := a.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close the store: %w", err))
	}
	return errors.Join(errs...)
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

// server is an HTTP server on a listener, serving in a goroutine that it owns until stop.
type server struct {
	srv  *http.Server
	done chan struct{} // closed when Serve has returned
	err  error         // what Serve returned; read after done
}

// startServer serves h on ln until stop. writeTimeout bounds a response (the sandbox's
// long polls need more than a webhook).
func startServer(ln net.Listener, h http.Handler, logger *slog.Logger, writeTimeout time.Duration) *server {
	s := &server{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		s.err = s.srv.Serve(ln)
	}()
	return s
}

// stop shuts the server down gracefully and waits for its goroutine. A server that had
// stopped on an error returns that error.
func (s *server) stop(ctx context.Context) error {
	shutdownErr := s.srv.Shutdown(ctx)
	<-s.done
	serveErr := s.err
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if serveErr != nil {
		serveErr = fmt.Errorf("http server: %w", serveErr)
	}
	if shutdownErr != nil {
		shutdownErr = fmt.Errorf("shut the http server down: %w", shutdownErr)
	}
	return errors.Join(serveErr, shutdownErr)
}

// shutdownAfter waits until ctx ends or the server fails, then stops the server and, after
// it, the rest (closeRest), with 30 seconds for both from then. It returns the server's
// error; closeRest's is logged.
func shutdownAfter(ctx context.Context, front *server, closeRest func(context.Context) error, logger *slog.Logger) error {
	select {
	case <-ctx.Done():
	case <-front.done: // it failed; stop reports why
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	httpErr := front.stop(closeCtx)
	if err := closeRest(closeCtx); err != nil {
		logger.Error("shutdown", "err", err)
	}
	return httpErr
}
