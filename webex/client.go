// Package webex adapts the bot's Webex interfaces (bot.Messenger and bot.Partner) to the Webex
// REST API. It is built on the request core of github.com/WebexCommunity/webex-go-sdk/v2
// (webexsdk.Client), with the SDK's own retries switched off: this package decides what may be
// retried, because the SDK would re-send a POST that got a 502 or 504 and so could provision a
// customer or post a message twice.
//
// The retry policy of a Client:
//   - 429: the whole Client waits until the Retry-After instant (every concurrent call waits,
//     on the injected clock), then the call is retried. This holds for every method, POST too,
//     because a rate-limited request was not processed.
//   - 423: retried after Retry-After, or after the backoff when Webex sent none.
//   - 500, 502, 503, 504, timeouts and transport errors: retried with capped exponential
//     backoff and jitter, but only for idempotent requests (GET, PUT, DELETE, and the two POSTs
//     that change nothing: the wholesale precheck and the OAuth token refresh).
//   - A POST that got a 5xx, or failed or timed out after the request was written, is not
//     retried: the error wraps bot.ErrOutcomeUnknown (and the *bot.APIError when Webex answered).
//     A POST that failed before anything was written is known not to have been processed and is
//     retried like a 429. The PUT that re-provisions a wholesale customer is treated like a POST.
//
// Every Webex error answer becomes a *bot.APIError in the returned error's chain.
package webex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/WebexCommunity/webex-go-sdk/v2/webexsdk"
	"github.com/google/uuid"

	"attachbot/bot"
)

// Compile-time checks that a Client is both of the bot's views of Webex.
var (
	_ bot.Messenger = (*Client)(nil)
	_ bot.Partner   = (*Client)(nil)
)

// The defaults of Options.
const (
	DefaultBaseURL     = "https://webexapis.com/v1"
	DefaultTimeout     = 30 * time.Second
	DefaultMaxAttempts = 4
	DefaultMaxBackoff  = 30 * time.Second
)

const (
	// baseBackoff is the first backoff; it doubles with every failed attempt up to MaxBackoff.
	baseBackoff = time.Second
	// defaultRetryAfter is the wait after a 429 without a usable Retry-After header.
	defaultRetryAfter = 5 * time.Second
	// maxResponseBytes bounds how much of a response body is read.
	maxResponseBytes = 16 << 20
	// trackingIDPrefix is the sender type of the TrackingID header (Cisco's sendertype_uuid).
	trackingIDPrefix = "attachbot_"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the API root, without a trailing slash. Default DefaultBaseURL.
	BaseURL string
	// Token is the access token (a bot token or a partner admin's OAuth token). Required.
	Token string
	// HTTPClient sends the requests. Default a new http.Client on a clone of
	// http.DefaultTransport that keeps more idle connections per host. It is
	// not modified: the Client uses a copy whose transport adds the TrackingID header.
	HTTPClient *http.Client
	// Timeout bounds one HTTP exchange (one attempt, response body included). Default
	// DefaultTimeout. Waits between attempts are bounded by the caller's ctx only.
	Timeout time.Duration
	// MaxAttempts is how many times one call is tried at most. Default DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff caps the wait between attempts after a 5xx or a transport error. Default
	// DefaultMaxBackoff. It does not cap a 429's Retry-After, which is always honoured.
	MaxBackoff time.Duration
	// Clock times the waits. Default bot.SystemClock{}.
	Clock bot.Clock
	// Logger receives retries and rate limits at debug and warn level. Default: discard.
	Logger *slog.Logger
	// Observer is told of every attempt and every 429, for metrics. Default: none.
	Observer Observer
}

// Client is a Webex REST client for one access token. The bot token's Client is the bot's
// bot.Messenger; the partner admin token's Client is its bot.Partner. It is safe for concurrent
// use.
type Client struct {
	baseURL     *url.URL
	base        string // baseURL.String()
	httpClient  *http.Client
	timeout     time.Duration
	maxAttempts int
	maxBackoff  time.Duration
	clock       bot.Clock
	log         *slog.Logger
	observer    Observer

	sdk  atomic.Pointer[webexsdk.Client]
	gate gate
}

// New returns a Client for opts.
func New(opts Options) (*Client, error) {
	if opts.Token == "" {
		return nil, errors.New("webex: a token is required")
	}
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("webex: base URL: %w", err)
	}
	if (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("webex: base URL %q is not an absolute http(s) URL", opts.BaseURL)
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("webex: base URL %q has a query or fragment", opts.BaseURL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Clock == nil {
		opts.Clock = bot.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Observer == nil {
		opts.Observer = noObserver{}
	}
	hc := &http.Client{}
	if opts.HTTPClient != nil {
		copied := *opts.HTTPClient
		hc = &copied
	}
	if hc.Transport == nil {
		hc.Transport = defaultTransport()
	}
	hc.Transport = trackingTransport{base: hc.Transport}

	c := &Client{
		baseURL:     base,
		base:        base.String(),
		httpClient:  hc,
		timeout:     opts.Timeout,
		maxAttempts: opts.MaxAttempts,
		maxBackoff:  opts.MaxBackoff,
		clock:       opts.Clock,
		log:         opts.Logger,
		observer:    opts.Observer,
	}
	if err := c.SetToken(opts.Token); err != nil {
		return nil, err
	}
	return c, nil
}

// SetToken replaces the access token. Calls already under way finish with the old token; every
// attempt that starts afterwards uses the new one. It is safe to call concurrently with any
// other method.
func (c *Client) SetToken(token string) error {
	if token == "" {
		return errors.New("webex: set token: the token is empty")
	}
	sdk, err := webexsdk.NewClient(token, &webexsdk.Config{
		BaseURL:        c.baseURL.String(),
		HttpClient:     c.httpClient,
		Timeout:        c.timeout,
		MaxRetries:     0, // this package retries; see the package comment
		DefaultHeaders: map[string]string{},
		Logger:         log.New(io.Discard, "", 0),
	})
	if err != nil {
		return fmt.Errorf("webex: set token: %w", err)
	}
	c.sdk.Store(sdk)
	return nil
}

// request is one logical Webex call, tried up to MaxAttempts times.
type request struct {
	method string
	path   string     // relative to the base URL, escaped, without a leading slash
	query  url.Values // with path
	url    string     // an absolute URL (a Link next page); replaces path and query
	body   json.RawMessage
	form   url.Values // a form-encoded POST outside the SDK's JSON core (the token refresh)
	// raw is a body built by hand (a multipart message), sent with rawType as its
	// Content-Type outside the SDK's JSON core.
	raw     []byte
	rawType string
	// limit bounds the answer's body (0: maxResponseBytes); a longer one is cut at limit+1
	// bytes, so the caller sees that it was longer.
	limit  int64
	noAuth bool // send no Authorization header (form requests only)
	// safe marks a POST that may be retried like a GET because it changes nothing.
	safe bool
	// once marks a PUT or DELETE that starts work at Webex (the wholesale customer update):
	// it is treated like a POST, never re-sent after it may have been processed.
	once bool
}

// idempotent reports whether the request may be sent again after an unknown outcome.
func (r request) idempotent() bool {
	if r.once {
		return false
	}
	return r.safe || r.method == http.MethodGet || r.method == http.MethodPut ||
		r.method == http.MethodDelete || r.method == http.MethodHead
}

// displayPath is the request's path relative to the base URL, without the query, as it
// appears in errors and logs.
func (c *Client) displayPath(r request) string {
	if r.url == "" {
		return "/" + r.path
	}
	u, err := url.Parse(r.url)
	if err != nil {
		return "?"
	}
	p := u.EscapedPath()
	if rest, ok := strings.CutPrefix(p, c.baseURL.EscapedPath()); ok && strings.HasPrefix(rest, "/") {
		return rest
	}
	return p
}

// response is a complete Webex answer.
type response struct {
	status     int
	header     http.Header
	body       []byte
	trackingID string // the TrackingID this package sent
}

// responseTrackingID returns Webex's tracking id for a successful answer: the Trackingid
// header, else the body's trackingId, else the one sent.
func (r *response) responseTrackingID() string {
	if id := r.header.Get("Trackingid"); id != "" {
		return id
	}
	var b struct {
		TrackingID string `json:"trackingId"`
	}
	if json.Unmarshal(r.body, &b) == nil && b.TrackingID != "" {
		return b.TrackingID
	}
	return r.trackingID
}

// do sends r, retrying as the package comment describes, and returns a 2xx answer.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	path := c.displayPath(r)
	endpoint := endpointTemplate(path)
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := c.gate.wait(ctx, c.clock); err != nil {
			if lastErr != nil {
				return nil, fmt.Errorf("webex %s %s: waiting for the rate limit: %w; last error: %w", r.method, path, err, lastErr)
			}
			return nil, fmt.Errorf("webex %s %s: waiting for the rate limit: %w", r.method, path, err)
		}
		start := c.clock.Now()
		resp, sent, err := c.once(ctx, r)
		status := 0
		if err == nil {
			status = resp.status
		}
		c.observer.Call(r.method, endpoint, status, c.clock.Now().Sub(start))
		var wait time.Duration
		switch {
		case err != nil:
			err = fmt.Errorf("webex %s %s: %w", r.method, path, err)
			if !r.idempotent() && sent {
				return nil, fmt.Errorf("%w: %w", bot.ErrOutcomeUnknown, err)
			}
			if ctx.Err() != nil {
				return nil, err
			}
			wait = c.backoff(attempt)
		case resp.status >= 200 && resp.status < 300:
			return resp, nil
		default:
			apiErr := c.apiError(r.method, path, resp)
			err = apiErr
			switch {
			case resp.status == http.StatusTooManyRequests:
				c.gate.block(c.clock.Now().Add(apiErr.RetryAfter))
				c.observer.RateLimited(r.method, endpoint, apiErr.RetryAfter)
				c.log.Warn("webex rate limit", "method", r.method, "path", path,
					"retryAfter", apiErr.RetryAfter, "trackingId", apiErr.TrackingID)
				// wait stays 0: the gate makes this call (and every other) wait.
			case resp.status == http.StatusLocked:
				wait = apiErr.RetryAfter
				if wait <= 0 {
					wait = c.backoff(attempt)
				}
			case resp.status >= 500 && !r.idempotent():
				return nil, fmt.Errorf("%w: %w", bot.ErrOutcomeUnknown, apiErr)
			case resp.status == http.StatusInternalServerError, resp.status == http.StatusBadGateway,
				resp.status == http.StatusServiceUnavailable, resp.status == http.StatusGatewayTimeout:
				wait = c.backoff(attempt)
			default:
				return nil, apiErr
			}
		}
		if attempt >= c.maxAttempts {
			return nil, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		lastErr = err
		c.log.Debug("webex retry", "method", r.method, "path", path, "attempt", attempt,
			"wait", wait, "error", err)
		if wait > 0 {
			select {
			case <-c.clock.After(wait):
			case <-ctx.Done():
				return nil, fmt.Errorf("webex %s %s: waiting to retry: %w; last error: %w", r.method, path, ctx.Err(), lastErr)
			}
		}
	}
}

// once makes one attempt. sent reports whether any of the request may have reached Webex (its
// headers were written); when it is false the request was certainly not processed. For a
// request that may be sent again (idempotent), which nothing asks that of, it is true.
func (c *Client) once(ctx context.Context, r request) (resp *response, sent bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	id := trackingIDPrefix + uuid.NewString()
	var wrote atomic.Bool
	if r.idempotent() {
		// Whether it was sent matters only for a request that may not be sent again.
		wrote.Store(true)
	} else {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteHeaders: func() { wrote.Store(true) },
		})
	}

	sdk := c.sdk.Load()
	var hr *http.Response
	var body any
	if r.body != nil {
		body = r.body
	}
	if !r.bodiless() {
		ctx = context.WithValue(ctx, trackingIDKey{}, id)
	}
	switch {
	case r.bodiless():
		hr, err = c.doBodiless(ctx, sdk, r, id)
	case r.form != nil:
		hr, err = c.doHand(ctx, sdk, r, strings.NewReader(r.form.Encode()), "application/x-www-form-urlencoded")
	case r.raw != nil:
		hr, err = c.doHand(ctx, sdk, r, bytes.NewReader(r.raw), r.rawType)
	case r.url != "":
		// MaxRetries is 0, so this is exactly one request.
		hr, err = sdk.RequestURLWithRetry(ctx, r.method, r.url, body)
	default:
		hr, err = sdk.RequestWithContext(ctx, r.method, r.path, r.query, body)
	}
	if err != nil {
		return nil, wrote.Load(), err
	}
	defer hr.Body.Close()
	limit := int64(maxResponseBytes)
	if r.limit > 0 {
		limit = r.limit + 1
	}
	b, err := readBody(hr.Body, hr.ContentLength, limit)
	if err != nil {
		return nil, true, fmt.Errorf("read the response (status %d): %w", hr.StatusCode, err)
	}
	return &response{status: hr.StatusCode, header: hr.Header, body: b, trackingID: id}, true, nil
}

// doHand sends a request whose body is not JSON (a form, a multipart message). The SDK's
// request core sends JSON only, so this one request is built by hand and sent with the SDK
// client's *http.Client (GetHTTPClient), which is the same client, transport and TrackingID
// header every other request uses.
func (c *Client) doHand(ctx context.Context, sdk *webexsdk.Client, r request, body io.Reader, contentType string) (*http.Response, error) {
	target := r.url
	if target == "" {
		target = c.baseURL.String() + "/" + r.path
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if !r.noAuth {
		req.Header.Set("Authorization", "Bearer "+sdk.GetAccessToken())
	}
	return sdk.GetHTTPClient().Do(req)
}

// backoff returns the wait after the attempt-th failed attempt: baseBackoff doubled per
// attempt, capped at MaxBackoff, with "equal jitter" (a random point in its upper half).
func (c *Client) backoff(attempt int) time.Duration {
	d := c.maxBackoff
	if attempt < 32 {
		if e := baseBackoff << (attempt - 1); e > 0 && e < d {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// gate is the client-wide rate-limit barrier: after a 429 no request starts before until.
type gate struct {
	mu    sync.Mutex
	until time.Time
}

// block moves the barrier to t unless it is already later.
func (g *gate) block(t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t.After(g.until) {
		g.until = t
	}
}

// wait returns when the barrier has passed, or with ctx's error. A barrier instant is waited
// for once; it waits again only when another 429 moved the barrier further.
func (g *gate) wait(ctx context.Context, clock bot.Clock) error {
	var waited time.Time
	for {
		g.mu.Lock()
		until := g.until
		g.mu.Unlock()
		if !until.After(waited) {
			return nil
		}
		d := until.Sub(clock.Now())
		if d <= 0 {
			return nil
		}
		select {
		case <-clock.After(d):
			waited = until
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// maxIdleConnsPerHost keeps enough idle connections to the API host for the status job's
// concurrent polls (8) and the bot's replies: Go's default of 2 makes most polls open a new
// connection, a TLS handshake each (measured with the sweep benchmark: 186 new connections
// per sweep of 10,000 polls with the default, 4 with 16).
const maxIdleConnsPerHost = 16

// defaultTransport is http.DefaultTransport with more idle connections per host.
func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	return t
}

// trackingIDKey is the context key of the TrackingID the transport sends with a request.
type trackingIDKey struct{}

// trackingTransport adds a per-request TrackingID header (attachbot_<uuid>) taken from the
// request's context. The SDK's DefaultHeaders are the same for every request, so the header is
// set here, under the SDK.
type trackingTransport struct {
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t trackingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	id, _ := req.Context().Value(trackingIDKey{}).(string)
	if id == "" || req.Header.Get("TrackingID") != "" {
		return base.RoundTrip(req)
	}
	clone := req.Clone(req.Context())
	clone.Header.Set("TrackingID", id)
	return base.RoundTrip(clone)
}
