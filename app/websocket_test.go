package app_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/bot/bottest"
	"attachbot/webex/mercury"
	"attachbot/webex/webextest"
)

// websocketOnly skips the test in the webhook run: it is about the websocket itself, and
// builds its harness over the websocket whatever the run.
func websocketOnly(t *testing.T) {
	t.Helper()
	if transport != apptest.Websocket {
		t.Skip("websocket only: it runs once, in the websocket run")
	}
}

// healthz returns /healthz's status and its websocket part.
func (h *harness) healthz() (int, mercury.Status) {
	h.T.Helper()
	resp, err := http.Get(h.BotURL + "/healthz")
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Store     string         `json:"store"`
		Websocket mercury.Status `json:"websocket"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		h.T.Fatalf("GET /healthz: %v", err)
	}
	return resp.StatusCode, body.Websocket
}

// TestWebsocketModeHasNoWebhookRoute checks EVENTS=websocket from the outside: no webhook is
// registered, /webhook answers 404, and /healthz shows the connected transport.
func TestWebsocketModeHasNoWebhookRoute(t *testing.T) {
	websocketOnly(t)
	h := newHarness(t, apptest.Options{Transport: apptest.Websocket})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Fatalf("replies to help over the websocket = %d, want 1", got)
	}
	if hooks := h.Sim.Webhooks(); len(hooks) != 0 {
		t.Errorf("webhooks registered in websocket mode: %+v", hooks)
	}
	resp, err := http.Post(h.BotURL+"/webhook", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /webhook in websocket mode = %d, want 404", resp.StatusCode)
	}
	status, ws := h.healthz()
	if status != http.StatusOK || !ws.Connected || ws.Since.IsZero() || ws.LastEvent.IsZero() || ws.Device == "" {
		t.Errorf("GET /healthz = %d, %+v; want 200, connected since a time, the last event's time and the device", status, ws)
	}
}

// TestWebsocketDropMidFlowLosesNothing drops the websocket right after each message is
// pushed, before or after the bot stored it (the interleaving varies; the outcome may
// not), and fails the first lookup so that one activity surely comes twice: every command
// is answered, once.
func TestWebsocketDropMidFlowLosesNothing(t *testing.T) {
	websocketOnly(t)
	h := newHarness(t, apptest.Options{Transport: apptest.Websocket})
	h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/conversation/api/v1/messages/*", Status: http.StatusServiceUnavailable, Times: 1})
	var cmds []webextest.Message
	for range 5 {
		cmd, err := h.Sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID, "help")
		if err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		h.Sim.DropConnections()
	}
	h.WaitConnected()
	h.Settle()
	for i, cmd := range cmds {
		if got := len(h.RepliesTo(cmd)); got != 1 {
			t.Errorf("command %d: %d replies, want 1", i+1, got)
		}
	}
	for _, a := range h.Sim.Activities() {
		if a.DataID == cmds[0].ID && a.Sent < 2 {
			t.Errorf("the first command's activity was sent %d times, want a redelivery after the failed lookup", a.Sent)
		}
	}
}

// TestWebsocketStaleDeviceIsReplaced expires the bot's device, as Webex forgets one: the
// bot registers a new device, deletes the old one, and answers on the new one.
func TestWebsocketStaleDeviceIsReplaced(t *testing.T) {
	websocketOnly(t)
	h := newHarness(t, apptest.Options{Transport: apptest.Websocket})
	old := h.App().WebsocketStatus().Device
	if err := h.Sim.ExpireDevice(old); err != nil {
		t.Fatal(err)
	}
	h.waitDevice(func(d string) bool { return d != "" && d != old })
	h.WaitConnected()
	var urls []string
	for _, d := range h.Sim.Devices() {
		urls = append(urls, d.URL)
	}
	if want := []string{h.App().WebsocketStatus().Device}; !slices.Equal(urls, want) {
		t.Errorf("devices = %v, want only the new one %v (the stale one deleted)", urls, want)
	}
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Errorf("replies on the new device = %d, want 1", got)
	}
}

// waitDevice waits until the device the transport uses satisfies ok.
func (h *harness) waitDevice(ok func(device string) bool) {
	h.T.Helper()
	if err := h.Sim.WaitFor(h.T.Context(), func() bool { return ok(h.App().WebsocketStatus().Device) }); err != nil {
		h.T.Fatalf("waiting for the device: %v", err)
	}
}

// TestWebsocketRefusedRegistration refuses every device registration: the bot logs why,
// tries again after a growing backoff, and /healthz turns 503 once it has been disconnected
// longer than WEBSOCKET_UNHEALTHY_AFTER; once Webex accepts, it connects and /healthz is
// 200 again.
func TestWebsocketRefusedRegistration(t *testing.T) {
	websocketOnly(t)
	clock := bottest.NewClock(apptest.Start, false)
	var logs apptest.SyncBuffer
	h := newHarness(t, apptest.Options{
		Transport: apptest.Websocket, WebsocketClock: clock, Disconnected: true, Logs: &logs,
		Websocket: func(o *mercury.Options) { o.Backoff = mercury.JitteredBackoff },
		BeforeStart: func(h *apptest.Harness) {
			h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/wdm/api/v1/devices", Status: http.StatusForbidden, Message: "Device registration refused"})
		},
	})
	var waits []time.Duration
	elapsed := time.Duration(0)
	for elapsed <= h.Cfg.WebsocketUnhealthyAfter {
		if status, ws := h.healthz(); status != http.StatusOK || ws.Connected {
			t.Fatalf("GET /healthz after %s disconnected = %d, %+v; want 200, not connected", elapsed, status, ws)
		}
		d := <-clock.Started() // the backoff after a refusal
		waits = append(waits, d)
		clock.Advance(d)
		elapsed += d
	}
	if !strings.Contains(logs.String(), "websocket not connected; trying again") || !strings.Contains(logs.String(), "Device registration refused") {
		t.Errorf("the log does not say why the websocket is not connected:\n%s", logs.String())
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] < mercury.MinBackoff/2 || (waits[i] <= waits[i-1]/2 && waits[i-1] < mercury.MaxBackoff/2) {
			t.Errorf("backoffs %v: want each at least half a second and the range doubling", waits)
			break
		}
	}
	status, ws := h.healthz()
	if status != http.StatusServiceUnavailable || ws.Connected || ws.Failures < len(waits) || !strings.Contains(ws.LastError, "Device registration refused") {
		t.Errorf("GET /healthz after %s disconnected = %d, %+v; want 503 with the failures and the last error", elapsed, status, ws)
	}

	h.Sim.ClearFaults()
	clock.Advance(<-clock.Started())
	h.WaitConnected()
	if status, ws := h.healthz(); status != http.StatusOK || !ws.Connected {
		t.Errorf("GET /healthz once connected = %d, %+v; want 200, connected", status, ws)
	}
}

// TestRegionQualifiedSpaceReplyIsThreaded holds over both transports: a command in a space
// hosted in another region (its ids qualified with the region) is answered in its thread.
func TestRegionQualifiedSpaceReplyIsThreaded(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	room, err := h.Sim.AddRoomIn(webextest.RegionEU, "Frankfurt partner space", webextest.BotID, webextest.AnnID)
	if err != nil {
		t.Fatal(err)
	}
	cmd := h.Say(webextest.AnnID, room.ID, "help")
	replies := h.RepliesTo(cmd)
	if len(replies) != 1 || replies[0].RoomID != room.ID || replies[0].ParentID != cmd.ID {
		t.Errorf("replies to %s in %s = %+v; want one in the thread", cmd.ID, room.ID, replies)
	}
}

// connectProxy is an HTTP proxy that records the CONNECT requests it tunnels.
type connectProxy struct {
	srv      *httptest.Server
	mu       sync.Mutex
	connects []string
}

func newConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	p := &connectProxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "this proxy only tunnels", http.StatusMethodNotAllowed)
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

func (p *connectProxy) Connects() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.connects)
}

// TestWebsocketThroughProxy points the websocket at a proxy, as HTTPS_PROXY does: the proxy
// tunnels the websocket (a CONNECT to Webex's host), and the bot answers through it.
func TestWebsocketThroughProxy(t *testing.T) {
	websocketOnly(t)
	proxy := newConnectProxy(t)
	proxyURL, err := url.Parse(proxy.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, apptest.Options{Transport: apptest.Websocket, Websocket: func(o *mercury.Options) { o.Proxy = http.ProxyURL(proxyURL) }})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Errorf("replies through the proxy = %d, want 1", got)
	}
	webexHost := strings.TrimPrefix(h.WebexURL, "http://")
	if got := proxy.Connects(); len(got) != 1 || got[0] != webexHost {
		t.Errorf("CONNECTs = %v, want one to %s (the websocket's)", got, webexHost)
	}
}

// TestWebsocketStartStopTwentyTimes restarts attachbot 20 times: at most one device is ever
// registered, and none once it has stopped.
func TestWebsocketStartStopTwentyTimes(t *testing.T) {
	websocketOnly(t)
	h := newHarness(t, apptest.Options{Transport: apptest.Websocket})
	for i := range 20 {
		h.CloseApp(h.App())
		if n := len(h.Sim.Devices()); n != 0 {
			t.Fatalf("stop %d: %d devices registered, want 0 (deleted at shutdown)", i+1, n)
		}
		h.StartApp()
		if n := len(h.Sim.Devices()); n != 1 {
			t.Fatalf("start %d: %d devices registered, want 1", i+2, n)
		}
	}
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	if got := len(h.RepliesTo(cmd)); got != 1 {
		t.Errorf("replies after 20 restarts = %d, want 1", got)
	}
}
