package webextest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
)

// newDevice registers a device as the bot and returns it.
func newDevice(t *testing.T, e *env, name string) webextest.Device {
	t.Helper()
	a := e.call(t, webextest.DefaultBotToken, "POST", "/wdm/api/v1/devices", map[string]string{
		"name": name, "model": "test", "localizedModel": "test", "systemName": "test", "systemVersion": "1", "deviceType": "DESKTOP",
	})
	if a.status != http.StatusOK {
		t.Fatalf("register a device: %d %s", a.status, a.body)
	}
	return decode[webextest.Device](t, a)
}

// dial opens a device's websocket and sends the authorization with token.
func dial(t *testing.T, d webextest.Device, token string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(d.WebSocketURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", d.WebSocketURL, err, resp)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WriteJSON(map[string]any{"id": "auth", "type": "authorization", "data": map[string]string{"token": "Bearer " + token}}); err != nil {
		t.Fatal(err)
	}
	return c
}

// frame is the part of a server frame the tests read.
type frame struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		EventType string `json:"eventType"`
		Activity  struct {
			ID     string `json:"id"`
			Verb   string `json:"verb"`
			Target struct {
				ID  string `json:"id"`
				URL string `json:"url"`
			} `json:"target"`
		} `json:"activity"`
	} `json:"data"`
}

func readFrame(t *testing.T, c *websocket.Conn) frame {
	t.Helper()
	var f frame
	if err := c.ReadJSON(&f); err != nil {
		t.Fatalf("read a frame: %v", err)
	}
	return f
}

func TestDeviceService(t *testing.T) {
	e := newEnv(t, webextest.Options{DeviceLimit: 2})
	tests := []struct {
		name, token, method, path string
		body                      any
		wantStatus                int
		wantMessage               string
	}{
		{"catalog without hostmap", webextest.DefaultBotToken, "GET", "/u2c/api/v1/catalog", nil, http.StatusBadRequest, "format=hostmap"},
		{"catalog without a token", "", "GET", "/u2c/api/v1/catalog?format=hostmap", nil, http.StatusUnauthorized, "valid access token"},
		{"device without a model", webextest.DefaultBotToken, "POST", "/wdm/api/v1/devices", map[string]string{"name": "x", "deviceType": "DESKTOP"}, http.StatusBadRequest, "Missing Model"},
		{"device without a name", webextest.DefaultBotToken, "POST", "/wdm/api/v1/devices", map[string]string{"model": "x", "deviceType": "DESKTOP"}, http.StatusBadRequest, "name and deviceType"},
		{"delete an unknown device", webextest.DefaultBotToken, "DELETE", "/wdm/api/v1/devices/nope", nil, http.StatusNotFound, "device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.call(t, tt.token, tt.method, tt.path, tt.body)
			if a.status != tt.wantStatus || !strings.Contains(decode[webexError](t, a).Message, tt.wantMessage) {
				t.Errorf("%s %s = %d %s, want %d with %q", tt.method, tt.path, a.status, a.body, tt.wantStatus, tt.wantMessage)
			}
		})
	}

	catalog := decode[struct {
		ServiceLinks map[string]string `json:"serviceLinks"`
	}](t, e.call(t, webextest.DefaultBotToken, "GET", "/u2c/api/v1/catalog?format=hostmap", nil))
	if got, want := catalog.ServiceLinks["wdm"], e.srv.URL+"/wdm/api/v1"; got != want {
		t.Errorf("serviceLinks.wdm = %q, want %q", got, want)
	}

	first, second := newDevice(t, e, "one"), newDevice(t, e, "two")
	a := e.call(t, webextest.DefaultBotToken, "POST", "/wdm/api/v1/devices", map[string]string{"name": "three", "model": "x", "deviceType": "DESKTOP"})
	if a.status != http.StatusForbidden || decode[webexError](t, a).Message != "User has excessive device registrations" {
		t.Errorf("a device over the limit = %d %s, want 403 excessive device registrations", a.status, a.body)
	}
	type list struct {
		Devices []webextest.Device `json:"devices"`
	}
	if got := decode[list](t, e.call(t, webextest.DefaultPartnerToken, "GET", "/wdm/api/v1/devices", nil)); len(got.Devices) != 0 {
		t.Errorf("the partner lists %d devices, want none (they are the bot's)", len(got.Devices))
	}
	if a := e.call(t, webextest.DefaultBotToken, "DELETE", first.URL, nil); a.status != http.StatusNoContent {
		t.Errorf("DELETE the device = %d %s, want 204", a.status, a.body)
	}
	got := decode[list](t, e.call(t, webextest.DefaultBotToken, "GET", "/wdm/api/v1/devices", nil))
	if len(got.Devices) != 1 || got.Devices[0].URL != second.URL || got.Devices[0].UserID == "" {
		t.Errorf("devices after the deletion = %+v, want the second, with its userId", got.Devices)
	}
}

func TestWebsocketAuthorizesPushesAndRedelivers(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	d := newDevice(t, e, "attachbot")

	bad := dial(t, d, webextest.DefaultPartnerToken)
	var ce *websocket.CloseError
	if _, _, err := bad.ReadMessage(); !errors.As(err, &ce) || ce.Code != 4401 {
		t.Errorf("another person's token: %v, want close 4401", err)
	}

	c := dial(t, d, webextest.DefaultBotToken)
	if f := readFrame(t, c); f.Data.EventType != "mercury.buffer_state" || f.ID == "" {
		t.Fatalf("first frame = %+v, want the buffer state", f)
	}
	if err := c.WriteJSON(map[string]string{"id": "p1", "type": "ping"}); err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, c); f.Type != "pong" || f.ID != "p1" {
		t.Errorf("answer to a ping = %+v, want pong p1", f)
	}
	msg, err := e.sim.Say(ctx, webextest.AnnID, webextest.PartnerSpaceID, "help")
	if err != nil {
		t.Fatal(err)
	}
	f := readFrame(t, c)
	if f.Data.EventType != "conversation.activity" || f.Data.Activity.Verb != "post" {
		t.Fatalf("frame = %+v, want the post activity", f)
	}
	target := f.Data.Activity.Target
	lookup := strings.Replace(target.URL, "conversations/"+target.ID, "messages/"+f.Data.Activity.ID, 1)
	if got := decode[map[string]string](t, e.call(t, webextest.DefaultBotToken, "GET", lookup, nil))["id"]; got != msg.ID {
		t.Errorf("lookup %s = %q, want the REST id %q", lookup, got, msg.ID)
	}
	if a := e.call(t, webextest.DefaultPartnerToken, "GET", lookup, nil); a.status != http.StatusOK {
		t.Errorf("Ann's lookup of her own message = %d, want 200", a.status)
	}
	if a := e.call(t, "eve-unknown", "GET", lookup, nil); a.status != http.StatusUnauthorized {
		t.Errorf("a lookup with an unknown token = %d, want 401", a.status)
	}

	// Not acknowledged: written again on the next connection.
	c.Close()
	if err := e.sim.WaitFor(ctx, func() bool { return e.sim.Connections() == 0 }); err != nil {
		t.Fatal(err)
	}
	c = dial(t, d, webextest.DefaultBotToken)
	readFrame(t, c) // the buffer state
	again := readFrame(t, c)
	if again.ID != f.ID || again.Data.Activity.ID != f.Data.Activity.ID {
		t.Errorf("redelivery = %+v, want the same frame %+v", again, f)
	}
	if err := c.WriteJSON(map[string]string{"type": "ack", "messageId": again.ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.WaitFor(ctx, func() bool { return len(e.sim.Acks()) == 1 }); err != nil {
		t.Fatal(err)
	}
	want := []webextest.Activity{{EnvelopeID: f.ID, Verb: "post", ActivityID: f.Data.Activity.ID, DataID: msg.ID, Recipient: webextest.BotID, Sent: 2, Acked: true}}
	if diff := cmp.Diff(want, e.sim.Activities()); diff != "" {
		t.Errorf("activities (-want +got):\n%s", diff)
	}

	if err := e.sim.ExpireDevice(d.URL); err != nil {
		t.Fatal(err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(d.WebSocketURL, nil); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("handshake of an expired device: %v, want 404", err)
	}
}

func TestRegionQualifiedIDs(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	room, err := e.sim.AddRoomIn(webextest.RegionEU, "EU space", webextest.BotID, webextest.AnnID)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := e.sim.Say(t.Context(), webextest.AnnID, room.ID, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{room.ID, msg.ID} {
		if _, _, err := webextest.DecodeID(id); err == nil {
			t.Errorf("%s decodes as a US-form id", id)
		}
	}
	if a := e.call(t, webextest.DefaultBotToken, "GET", "/v1/messages/"+msg.ID, nil); a.status != http.StatusOK || decode[webextest.Message](t, a).RoomID != room.ID {
		t.Errorf("GET the region-qualified message = %d %s", a.status, a.body)
	}
}
