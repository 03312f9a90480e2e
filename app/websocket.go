package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"attachbot/bot"
	"attachbot/metrics"
	"attachbot/webex/mercury"
)

// websocket owns the websocket transport in EVENTS=websocket mode: the goroutine that runs
// it, from start to stop, and its health for /healthz.
type websocket struct {
	opts           mercury.Options
	bot            *bot.Bot
	client         *http.Client
	clock          bot.Clock
	log            *slog.Logger
	unhealthyAfter time.Duration
	built          time.Time // before the transport runs, the disconnection counts from here

	mu        sync.Mutex
	transport *mercury.Transport // nil until start
	cancel    context.CancelFunc // nil until start, and after stop
	done      chan error         // Run's result
}

// newWebsocket prepares the transport for b; start builds and runs it.
func newWebsocket(cfg Config, w Wiring, b *bot.Bot, logger *slog.Logger) *websocket {
	client := w.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	clock := w.WebsocketClock
	if clock == nil {
		clock = w.Clock
	}
	opts := mercury.Options{Token: cfg.BotToken, U2CURL: cfg.U2CURL}
	if w.Websocket != nil {
		w.Websocket(&opts)
	}
	return &websocket{
		opts: opts, bot: b, client: client, clock: clock, log: logger,
		unhealthyAfter: cfg.WebsocketUnhealthyAfter, built: clock.Now(),
	}
}

// start builds the transport, now that the bot knows its own person id (its activities are
// dropped), and runs it in a goroutine until stop. The transport runs until stop, whatever
// becomes of ctx, as the HTTP server does.
func (s *websocket) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return nil
	}
	opts := s.opts
	opts.BotPersonID = s.bot.Me().ID
	tr, err := mercury.New(opts, s.bot, s.client, s.clock, s.log)
	if err != nil {
		return fmt.Errorf("build the websocket transport: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.transport, s.cancel, s.done = tr, cancel, make(chan error, 1)
	go func(done chan<- error) { done <- tr.Run(runCtx) }(s.done)
	return nil
}

// Status is the transport's state (a zero Status before start).
func (s *websocket) Status() mercury.Status {
	s.mu.Lock()
	tr := s.transport
	s.mu.Unlock()
	if tr == nil {
		return mercury.Status{}
	}
	return tr.Status()
}

// metricsState is the transport's state for /metrics.
func (s *websocket) metricsState() metrics.TransportState {
	st := s.Status()
	return metrics.TransportState{Connected: st.Connected, Since: st.Since, LastEvent: st.LastEvent, Failures: st.Failures}
}

// stop closes the websocket and waits until the transport has deleted its device (or ctx
// ends); it returns the deletion's error. Stopping a transport that is not running does
// nothing.
func (s *websocket) stop(ctx context.Context) error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("stop the websocket: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop the websocket: %w", ctx.Err())
	}
}

// websocketHealth is the websocket's part of /healthz.
type websocketHealth struct {
	mercury.Status
	// DisconnectedFor is how long the websocket has been disconnected, in seconds (0 when
	// connected).
	DisconnectedFor float64 `json:"disconnectedForSeconds"`
	// UnhealthyAfter is WEBSOCKET_UNHEALTHY_AFTER, in seconds.
	UnhealthyAfter float64 `json:"unhealthyAfterSeconds"`
}

// Health implements handlers.Transport: unhealthy once disconnected for longer than
// WEBSOCKET_UNHEALTHY_AFTER.
func (s *websocket) Health() (any, bool) {
	st := s.Status()
	since := st.Since
	if since.IsZero() {
		since = s.built
	}
	h := websocketHealth{Status: st, UnhealthyAfter: s.unhealthyAfter.Seconds()}
	if !st.Connected {
		h.DisconnectedFor = s.clock.Now().Sub(since).Seconds()
	}
	return h, st.Connected || s.clock.Now().Sub(since) <= s.unhealthyAfter
}
