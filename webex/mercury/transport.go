package mercury

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"attachbot/bot"
)

// Defaults of Options.
const (
	// DefaultU2CURL is the base of Webex's service catalog (U2C).
	DefaultU2CURL = "https://u2c.wbx2.com/u2c/api/v1"
	// DefaultWDMURL is the device service used when the catalog cannot be read: the host
	// the Webex SDKs hard-code.
	DefaultWDMURL = "https://wdm-a.wbx2.com/wdm/api/v1"
	// DefaultDeviceName names the bot's device, so that a restart finds and reuses it.
	DefaultDeviceName = "attachbot"

	DefaultAuthTimeout     = 30 * time.Second
	DefaultPingInterval    = 30 * time.Second
	DefaultPongTimeout     = 15 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
)

// Sink takes the events the transport receives. (*bot.Bot).Accept satisfies it: it stores
// the event in the bot's durable inbox. The transport acknowledges an activity to Webex only
// after Accept returned nil.
type Sink interface {
	Accept(ctx context.Context, ev bot.Event) error
}

// Options configures a Transport.
type Options struct {
	// Token is the bot's access token (required).
	Token string
	// U2CURL is the base of the service catalog (default DefaultU2CURL).
	U2CURL string
	// FallbackWDMURL is the device service used only when the catalog cannot be read
	// (default DefaultWDMURL).
	FallbackWDMURL string
	// DeviceName is the name of the bot's device (default DefaultDeviceName). Two
	// instances of the bot with the same token should use different names.
	DeviceName string
	// BotPersonID is the bot's REST person id. Activities by the bot are dropped; the
	// device's userId is used too, so this may be empty.
	BotPersonID string
	// Proxy chooses the proxy of the websocket connection. The default is the proxy of the
	// HTTP client's *http.Transport (of http.DefaultTransport when the client has none), so
	// that the websocket goes where the REST calls go: a clone of http.DefaultTransport
	// honours HTTPS_PROXY and NO_PROXY.
	Proxy func(*http.Request) (*url.URL, error)
	// Backoff returns how long to wait after the given number of consecutive failures
	// (1, 2, …) before connecting again (default: JitteredBackoff).
	Backoff func(failures int) time.Duration
	// AuthTimeout is how long to wait for mercury.buffer_state after the authorization
	// frame (default DefaultAuthTimeout).
	AuthTimeout time.Duration
	// PingInterval and PongTimeout keep the connection alive: a ping every PingInterval,
	// and a connection whose pong does not come within PongTimeout is closed.
	PingInterval, PongTimeout time.Duration
	// ShutdownTimeout bounds the deletion of the device when Run ends (default
	// DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
}

// Status is the transport's state, for /healthz and metrics. Its JSON form may be shown as is.
type Status struct {
	// Connected is true while the websocket is open and authorized.
	Connected bool `json:"connected"`
	// Since is when Connected last changed (when Run started, before the first connection).
	Since time.Time `json:"since"`
	// LastEvent is when the last event was accepted (zero: none yet).
	LastEvent time.Time `json:"lastEvent,omitzero"`
	// Failures counts the failed attempts since the last successful connection.
	Failures int `json:"failures"`
	// LastError describes the last failure ("" when none since the last connection).
	LastError string `json:"lastError,omitempty"`
	// Device is the URL of the device in use ("" when none).
	Device string `json:"device,omitempty"`
}

// Transport receives the bot's events over the Webex websocket. Create it with New and call
// Run once.
type Transport struct {
	opts   Options
	sink   Sink
	client *http.Client
	clock  bot.Clock
	log    *slog.Logger

	running atomic.Bool

	// Owned by Run's goroutine.
	wdm         string    // the device service, once found
	wdmFallback bool      // wdm is the fallback: the catalog is read again after a failure
	device      *device   // the device in use
	stale       []*device // devices to delete: stale or replaced ones

	mu     sync.Mutex
	status Status
}

// New returns a Transport that hands events to sink. client makes the REST calls (catalog,
// device service, id lookups); clock times backoff, pings and status; logger gets every
// failure.
func New(opts Options, sink Sink, client *http.Client, clock bot.Clock, logger *slog.Logger) (*Transport, error) {
	switch {
	case opts.Token == "":
		return nil, errors.New("mercury: the bot token is required")
	case sink == nil:
		return nil, errors.New("mercury: a sink is required")
	case client == nil:
		return nil, errors.New("mercury: an HTTP client is required")
	case clock == nil:
		return nil, errors.New("mercury: a clock is required")
	case logger == nil:
		return nil, errors.New("mercury: a logger is required")
	}
	if opts.U2CURL == "" {
		opts.U2CURL = DefaultU2CURL
	}
	if opts.FallbackWDMURL == "" {
		opts.FallbackWDMURL = DefaultWDMURL
	}
	for name, u := range map[string]string{"U2C URL": opts.U2CURL, "fallback WDM URL": opts.FallbackWDMURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("mercury: the %s %q is not an absolute http(s) URL", name, u)
		}
	}
	if opts.DeviceName == "" {
		opts.DeviceName = DefaultDeviceName
	}
	if opts.Proxy == nil {
		opts.Proxy = clientTransport(client).Proxy
	}
	if opts.Backoff == nil {
		opts.Backoff = JitteredBackoff
	}
	if opts.AuthTimeout <= 0 {
		opts.AuthTimeout = DefaultAuthTimeout
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.PongTimeout <= 0 {
		opts.PongTimeout = DefaultPongTimeout
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	return &Transport{opts: opts, sink: sink, client: client, clock: clock, log: logger.With("transport", "websocket")}, nil
}

// clientTransport returns the *http.Transport client sends with: its own, or
// http.DefaultTransport when it has none. Another RoundTripper gives an empty transport (no
// proxy, default TLS settings).
func clientTransport(client *http.Client) *http.Transport {
	switch rt := client.Transport.(type) {
	case nil:
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			return dt
		}
	case *http.Transport:
		return rt
	}
	return &http.Transport{}
}

// Status returns the transport's state.
func (t *Transport) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// setConnected records a connection or a disconnection.
func (t *Transport) setConnected(connected bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status.Connected != connected {
		t.status.Connected, t.status.Since = connected, t.clock.Now()
	}
	if connected {
		t.status.Failures, t.status.LastError = 0, ""
	}
}

// setFailure records a failed attempt and returns the count of consecutive failures.
func (t *Transport) setFailure(err error) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.Failures++
	t.status.LastError = err.Error()
	return t.status.Failures
}

// setDevice records the device in use.
func (t *Transport) setDevice(d *device) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.Device = ""
	if d != nil {
		t.status.Device = d.URL
	}
}

// eventAccepted records the time of an accepted event.
func (t *Transport) eventAccepted() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.LastEvent = t.clock.Now()
}

// Run connects and receives events until ctx ends; it never gives up on its own: every
// failure is logged, shown in Status, and followed by a new attempt after a backoff. When ctx
// ends it closes the connection and deletes the device (within Options.ShutdownTimeout), and
// returns the error of that deletion, if any. Run may be called once at a time.
func (t *Transport) Run(ctx context.Context) error {
	if !t.running.CompareAndSwap(false, true) {
		return errors.New("mercury: Run is already running")
	}
	defer t.running.Store(false)
	t.mu.Lock()
	t.status = Status{Since: t.clock.Now()}
	t.mu.Unlock()
	for {
		err := t.session(ctx)
		t.setConnected(false)
		if ctx.Err() != nil {
			break
		}
		if err == nil {
			err = errors.New("the connection ended")
		}
		failures := t.setFailure(err)
		wait := t.opts.Backoff(failures)
		t.log.Error("websocket not connected; trying again", "err", err, "failures", failures, "retry_in", wait)
		select {
		case <-t.clock.After(wait):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.opts.ShutdownTimeout)
	defer cancel()
	return t.deleteDevices(dctx, true)
}

// session runs one connection: it finds the device service and the device when needed,
// connects, and serves until the connection fails or ctx ends.
func (t *Transport) session(ctx context.Context) error {
	if t.wdm == "" {
		t.wdm, t.wdmFallback = t.discover(ctx)
	}
	if t.device == nil {
		d, err := t.ensureDevice(ctx)
		if err != nil {
			if t.wdmFallback {
				t.wdm = ""
			}
			return err
		}
		t.device = d
		t.setDevice(d)
	}
	if err := t.deleteDevices(ctx, false); err != nil {
		// The stale device stays on the list and is deleted at the next attempt or at
		// shutdown; Webex also expires unused devices after some days.
		t.log.Warn("could not delete a stale device yet", "err", err)
	}
	return t.connect(ctx, t.device)
}

// replaceDevice forgets the device in use, so that the next attempt registers a new one,
// and keeps the old one for deletion.
func (t *Transport) replaceDevice(reason string) {
	if t.device == nil {
		return
	}
	t.log.Warn("device will be replaced", "device", t.device.URL, "reason", reason)
	t.stale = append(t.stale, t.device)
	t.device = nil
	t.setDevice(nil)
}
