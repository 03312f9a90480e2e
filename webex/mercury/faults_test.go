package mercury_test

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/webex/mercury"
	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
)

func TestRegionQualifiedSpaceGetsTheLookedUpID(t *testing.T) {
	e := newEnv(t)
	room, err := e.sim.AddRoomIn(webextest.RegionEU, "EU space", webextest.BotID, webextest.AnnID)
	if err != nil {
		t.Fatal(err)
	}
	e.start(t)
	e.waitConnected(t, 1)
	msg, err := e.sim.Say(e.ctx, webextest.AnnID, room.ID, "help")
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the ack", func() bool { return e.acked(msg.ID) })

	want := []bot.Event{{
		Key: bot.EventKey("messages", "created", msg.ID), Resource: "messages", Event: "created", DataID: msg.ID,
		ActorID: webextest.AnnID, RoomID: room.ID, Created: msg.Created,
	}}
	if diff := cmp.Diff(want, e.sink.Events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// The US-form guess names no message here: the lookup was needed.
	guess := base64.RawStdEncoding.EncodeToString([]byte("ciscospark://us/MESSAGE/" + e.activity(t, msg.ID).ActivityID))
	e.rest(t, http.MethodGet, "/v1/messages/"+guess, "", http.StatusNotFound, nil)
}

// connectProxy is an HTTP proxy that records the CONNECTs it tunnels and forwards other
// requests.
type connectProxy struct {
	srv *httptest.Server

	mu       sync.Mutex
	connects []string
}

func newConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	p := &connectProxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			p.forward(w, r)
			return
		}
		p.mu.Lock()
		p.connects = append(p.connects, r.Host)
		p.mu.Unlock()
		upstream, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		client, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
			upstream.Close()
			client.Close()
			return
		}
		go func() { _, _ = io.Copy(upstream, client); upstream.Close() }()
		_, _ = io.Copy(client, upstream)
		client.Close()
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// forward sends a plain proxied request on, as a forwarding proxy does.
func (p *connectProxy) forward(w http.ResponseWriter, r *http.Request) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *connectProxy) Connects() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.connects...)
}

func TestWebsocketGoesThroughTheProxy(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *env, proxy *url.URL)
	}{
		{"the proxy of the client's transport", func(e *env, proxy *url.URL) {
			e.opts.Proxy = nil
			e.client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
		}},
		{"the proxy Options.Proxy chooses", func(e *env, proxy *url.URL) {
			e.opts.Proxy = http.ProxyURL(proxy)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			proxy := newConnectProxy(t)
			proxyURL, err := url.Parse(proxy.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(e, proxyURL)
			e.start(t)
			e.waitConnected(t, 1)
			msg, err := e.sim.Say(e.ctx, webextest.AnnID, webextest.PartnerSpaceID, "help")
			if err != nil {
				t.Fatal(err)
			}
			e.waitFor(t, "the ack", func() bool { return e.acked(msg.ID) })

			if got, want := proxy.Connects(), []string{strings.TrimPrefix(e.srv.URL, "http://")}; !cmp.Equal(got, want) {
				t.Errorf("CONNECTs = %v, want %v (the websocket's)\nlog:\n%s", got, want, e.logs.String())
			}
		})
	}
}

func TestStartAndStopTwentyTimesLeavesAtMostOneDevice(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		// Every fifth stop cannot delete the device, as after a crash: the next start must
		// reuse it instead of registering another.
		failDelete := i%5 == 3
		if failDelete {
			e.sim.Inject(webextest.Fault{Method: "DELETE", Path: "/wdm/api/v1/devices/*", Status: http.StatusServiceUnavailable, Times: 1})
		}
		_, stop := e.start(t)
		e.waitConnected(t, 1)
		err := stop()
		if failDelete != (err != nil) {
			t.Errorf("run %d: Run returned %v; want an error only when the deletion failed", i, err)
		}
		if n := len(e.sim.Devices()); n > 1 {
			t.Fatalf("run %d: %d devices registered, want at most 1", i, n)
		}
	}
	if got := len(e.sim.Devices()); got != 0 {
		t.Errorf("devices after the last stop = %d, want 0", got)
	}
	// 20 runs, of which 4 reused the device a failed deletion left.
	if got := e.sim.CountCalls("POST", "/wdm/api/v1/devices"); got != 16 {
		t.Errorf("device registrations = %d, want 16", got)
	}
}

func TestSlowBufferStateTimesOutAndRetries(t *testing.T) {
	e := newEnv(t)
	e.opts.AuthTimeout = 20 * time.Second
	e.sim.HoldBufferState()
	tr, _ := e.start(t)
	for d := range e.clock.Started() {
		if d == e.opts.AuthTimeout {
			break
		}
	}
	e.clock.Advance(e.opts.AuthTimeout)
	e.waitFor(t, "the second handshake", func() bool { return e.sim.CountCalls("GET", "/mercury/*") == 2 })
	e.sim.ReleaseBufferState()
	e.waitConnected(t, 1)

	calls, seen := e.backoffs()
	if len(calls) != 1 || seen[0].Connected || !strings.Contains(seen[0].LastError, "no mercury.buffer_state") {
		t.Errorf("failures = %v with status %+v, want one buffer-state timeout", calls, seen)
	}
	if !tr.Status().Connected {
		t.Errorf("Status() = %+v, want connected", tr.Status())
	}
}

func TestCatalogFailure(t *testing.T) {
	tests := []struct {
		name         string
		setup        func(e *env)
		wantFailures int
		wantCatalogs int // catalog reads
	}{
		{"no catalog: the fallback device service is used", func(e *env) {
			e.opts.U2CURL = e.srv.URL + "/no-catalog-here"
			e.opts.FallbackWDMURL = e.srv.URL + "/wdm/api/v1"
		}, 0, 0},
		{"the fallback fails too: the catalog is read again", func(e *env) {
			e.sim.Inject(webextest.Fault{Path: "/u2c/api/v1/catalog", Status: http.StatusServiceUnavailable, Times: 1})
		}, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.setup(e)
			e.start(t)
			e.waitConnected(t, 1)
			if !strings.Contains(e.logs.String(), "service catalog unavailable; using the fallback device service") {
				t.Errorf("the log does not say the fallback is used:\n%s", e.logs.String())
			}
			if calls, _ := e.backoffs(); len(calls) != tt.wantFailures {
				t.Errorf("failures = %v, want %d", calls, tt.wantFailures)
			}
			if got := e.sim.CountCalls("GET", "/u2c/api/v1/catalog"); got != tt.wantCatalogs {
				t.Errorf("catalog reads = %d, want %d", got, tt.wantCatalogs)
			}
		})
	}
}

func TestBackoffDoublesFromOneSecondToFourMinutes(t *testing.T) {
	tests := []struct {
		failures int
		jitter   float64
		want     time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.999999, time.Second - time.Microsecond/2},
		{2, 0, time.Second},
		{3, 0.5, 3 * time.Second},
		{9, 0, 2 * time.Minute},
		{9, 0.999999, 4*time.Minute - 120*time.Microsecond},
		{50, 0, 2 * time.Minute},
	}
	for _, tt := range tests {
		got := mercury.Backoff(tt.failures, tt.jitter)
		if diff := got - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
			t.Errorf("Backoff(%d, %v) = %v, want %v", tt.failures, tt.jitter, got, tt.want)
		}
	}
}

func TestRefusedAuthorizationRegistersANewDevice(t *testing.T) {
	e := newEnv(t)
	e.sim.RefuseAuthorizations(1)
	tr, _ := e.start(t)
	e.waitConnected(t, 1)
	e.waitFor(t, "the refused device deleted", func() bool { return len(e.sim.Devices()) == 1 })

	if got := e.sim.CountCalls("POST", "/wdm/api/v1/devices"); got != 2 {
		t.Errorf("device registrations = %d, want 2 (the refused one and its replacement)", got)
	}
	if got, want := tr.Status().Device, e.sim.Devices()[0].URL; got != want {
		t.Errorf("Status().Device = %q, want the new device %q", got, want)
	}
	if _, seen := e.backoffs(); len(seen) != 1 || !strings.Contains(seen[0].LastError, "4401") {
		t.Errorf("failures = %+v, want one, the refused authorization", seen)
	}
}

func TestMissingPongReconnects(t *testing.T) {
	e := newEnv(t)
	e.sim.IgnorePings(true)
	e.start(t)
	for d := range e.clock.Started() {
		if d == mercury.DefaultPongTimeout {
			break
		}
	}
	e.clock.Advance(mercury.DefaultPongTimeout)
	e.waitFor(t, "the second handshake", func() bool { return e.sim.CountCalls("GET", "/mercury/*") == 2 })
	e.sim.IgnorePings(false)
	e.waitConnected(t, 1)

	if _, seen := e.backoffs(); len(seen) != 1 || !strings.Contains(seen[0].LastError, "no pong") {
		t.Errorf("failures = %+v, want one, the missing pong", seen)
	}
	if got := len(e.sim.Devices()); got != 1 {
		t.Errorf("devices = %d, want the same one", got)
	}
}

func TestLookupFailures(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		wantSent  int  // times the activity was written
		wantGuess bool // the US-form guess was used and logged
	}{
		{"refused lookup: the US form is guessed", http.StatusNotFound, 1, true},
		{"unavailable lookup: the activity comes again", http.StatusServiceUnavailable, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.Inject(webextest.Fault{Path: "/conversation/api/v1/messages/*", Status: tt.status, Times: 1})
			e.start(t)
			e.waitConnected(t, 1)
			msg, err := e.sim.Say(e.ctx, webextest.AnnID, webextest.PartnerSpaceID, "help")
			if err != nil {
				t.Fatal(err)
			}
			e.waitFor(t, "the ack", func() bool { return e.acked(msg.ID) })

			if got := e.sink.Events(); len(got) != 1 || got[0].DataID != msg.ID {
				t.Errorf("events = %+v, want one with the message's id", got)
			}
			if got := e.activity(t, msg.ID).Sent; got != tt.wantSent {
				t.Errorf("the activity was written %d times, want %d", got, tt.wantSent)
			}
			if got := strings.Contains(e.logs.String(), "REST id guessed in the US form"); got != tt.wantGuess {
				t.Errorf("guess logged = %v, want %v:\n%s", got, tt.wantGuess, e.logs.String())
			}
		})
	}
}

func TestNewRefusesWhatCannotWork(t *testing.T) {
	ok := mercury.Options{Token: "t"}
	client, clock, logger := http.DefaultClient, bottest.NewClock(time.Time{}, false), slog.New(slog.DiscardHandler)
	tests := []struct {
		name string
		opts mercury.Options
		sink mercury.Sink
		want string
	}{
		{"no token", mercury.Options{}, newSink(), "the bot token is required"},
		{"no sink", ok, nil, "a sink is required"},
		{"a relative catalog URL", mercury.Options{Token: "t", U2CURL: "u2c.example/api"}, newSink(), `the U2C URL "u2c.example/api" is not an absolute http(s) URL`},
		{"a fallback of another scheme", mercury.Options{Token: "t", FallbackWDMURL: "ftp://wdm.example"}, newSink(), `the fallback WDM URL "ftp://wdm.example" is not an absolute http(s) URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mercury.New(tt.opts, tt.sink, client, clock, logger)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error with %q", err, tt.want)
			}
		})
	}
}
