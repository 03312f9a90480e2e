package mercury_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"attachbot/bot"
	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
)

// addWebhooks registers the bot's webhooks in the Sim, delivered to a server that answers 200,
// so that a test can compare the websocket's events with the webhooks' for the same change.
func addWebhooks(t *testing.T, e *env) {
	t.Helper()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(target.Close)
	for _, resource := range []string{"messages", "attachmentActions"} {
		e.rest(t, http.MethodPost, "/v1/webhooks", `{"name":"`+resource+`","targetUrl":"`+target.URL+`","resource":"`+resource+`","event":"created"}`, http.StatusOK, nil)
	}
}

// webhookEvents returns the events the webhook deliveries so far make.
func webhookEvents(t *testing.T, e *env) []bot.Event {
	t.Helper()
	var out []bot.Event
	for _, d := range e.sim.Deliveries() {
		var env webextest.Envelope
		if err := json.Unmarshal(d.Body, &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, webhookEvent(env))
	}
	return out
}

func TestMessageAndCardClickBecomeTheWebhooksEventsAckedAfterAccept(t *testing.T) {
	e := newEnv(t)
	addWebhooks(t, e)
	// The acknowledgement must not exist while Accept runs.
	var ackedDuringAccept []string
	e.sink.onAccept = func(ev bot.Event) {
		if e.acked(ev.DataID) {
			ackedDuringAccept = append(ackedDuringAccept, ev.Key)
		}
	}
	tr, _ := e.start(t)
	e.waitConnected(t, 1)

	msg, err := e.sim.Say(e.ctx, webextest.AnnID, webextest.PartnerSpaceID, "help")
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the message's ack", func() bool { return e.acked(msg.ID) })
	card := e.botCard(t, webextest.PartnerSpaceID)
	action, err := e.sim.Click(e.ctx, webextest.AnnID, card.ID, map[string]any{"choice": "yes"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the click's ack", func() bool { return e.acked(action.ID) })
	e.waitFor(t, "the bot's own card acknowledged", func() bool { return e.acked(card.ID) })

	if diff := cmp.Diff(webhookEvents(t, e), e.sink.Events()); diff != "" {
		t.Errorf("websocket events differ from the webhook events (-webhook +websocket):\n%s", diff)
	}
	if got := e.sink.Events(); len(got) != 2 || got[0].Key != bot.EventKey("messages", "created", msg.ID) || got[1].Key != bot.EventKey("attachmentActions", "created", action.ID) {
		t.Errorf("events = %+v, want the message, then the click (and not the bot's own card)", got)
	}
	if len(ackedDuringAccept) > 0 {
		t.Errorf("acknowledged before Accept returned: %v", ackedDuringAccept)
	}
	if st := tr.Status(); !st.Connected || st.LastEvent.IsZero() || st.Device == "" {
		t.Errorf("Status() = %+v, want connected with a device and a last event", st)
	}
	if strings.Contains(e.logs.String(), "guessed") {
		t.Errorf("an id was guessed although the lookup works:\n%s", e.logs.String())
	}
}

func TestRefusedEventIsNotAckedAndComesAgainAfterTheReconnect(t *testing.T) {
	e := newEnv(t)
	e.sink.fail = func(call int, ev bot.Event) error {
		if call == 1 {
			if e.acked(ev.DataID) {
				t.Errorf("%s acknowledged before Accept answered", ev.Key)
			}
			return errRefused
		}
		return nil
	}
	e.start(t)
	e.waitConnected(t, 1)
	msg, err := e.sim.Say(e.ctx, webextest.AnnID, webextest.PartnerSpaceID, "list")
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the ack after the redelivery", func() bool { return e.acked(msg.ID) })

	calls := e.sink.Calls()
	if len(calls) != 2 || calls[0].Key != calls[1].Key {
		t.Fatalf("Accept calls = %+v, want the same event twice", calls)
	}
	if got := e.activity(t, msg.ID).Sent; got != 2 {
		t.Errorf("the activity was written %d times, want 2 (once more after the reconnect)", got)
	}
	if !strings.Contains(e.logs.String(), "not accepted, left unacknowledged") {
		t.Errorf("the log does not say why the event comes again:\n%s", e.logs.String())
	}
}

func TestDroppedSocketLosesNothingAndTheRedeliveryHasTheSameKey(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	e.sink.onAccept = func(ev bot.Event) {
		if len(e.sink.Calls()) == 1 { // the second message's first Accept
			e.sim.DropConnections()
			<-release
		}
	}
	e.start(t)
	e.waitConnected(t, 1)

	first, err := e.sim.Say(e.ctx, webextest.AnnID, webextest.PartnerSpaceID, "one")
	if err != nil {
		t.Fatal(err)
	}
	_ = first
	e.sink.waitCalls(t, e.ctx, 1)
	e.waitFor(t, "the first ack", func() bool { return e.acked(first.ID) })
	second, err := e.sim.Say(e.ctx, webextest.AnnID, webextest.PartnerSpaceID, "two")
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the drop", func() bool { return e.sim.Connections() == 0 })
	close(release)
	e.waitFor(t, "the second message acknowledged after the reconnect", func() bool { return e.acked(second.ID) })

	calls := e.sink.Calls()
	if len(calls) != 3 || calls[1].Key != calls[2].Key || calls[1].Key != bot.EventKey("messages", "created", second.ID) {
		t.Fatalf("Accept calls = %+v, want one, then two twice with one key", calls)
	}
	if got, want := len(e.sink.Events()), 2; got != want {
		t.Errorf("stored events = %d, want %d", got, want)
	}
	if got := e.activity(t, first.ID).Sent; got != 1 {
		t.Errorf("the acknowledged first message was written %d times, want 1", got)
	}
}

func TestStaleDeviceIsReplacedAndDeleted(t *testing.T) {
	e := newEnv(t)
	tr, _ := e.start(t)
	e.waitConnected(t, 1)
	old := tr.Status().Device
	if err := e.sim.ExpireDevice(old); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "a new device, connected, and the old one deleted", func() bool {
		ds := e.sim.Devices()
		return len(ds) == 1 && ds[0].URL != old && e.sim.Connections() == 1
	})
	if got := e.sim.CountCalls("GET", "/mercury/*"); got < 3 {
		t.Errorf("handshakes = %d, want the first, the refused one (404) and the new device's", got)
	}
	msg, err := e.sim.Say(e.ctx, webextest.AnnID, webextest.PartnerSpaceID, "help")
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the ack on the new device", func() bool { return e.acked(msg.ID) })
	if !strings.Contains(e.logs.String(), "device will be replaced") {
		t.Errorf("the log does not say the device is replaced:\n%s", e.logs.String())
	}
}

func TestRefusedRegistrationIsLoggedRetriedAndShown(t *testing.T) {
	e := newEnv(t)
	e.sim.Inject(webextest.Fault{Method: "POST", Path: "/wdm/api/v1/devices", Status: http.StatusTooManyRequests, Message: "User has excessive device registrations", Times: 3})
	tr, _ := e.start(t)
	e.waitConnected(t, 1)

	calls, seen := e.backoffs()
	if want := []int{1, 2, 3}; !cmp.Equal(calls, want) {
		t.Errorf("Backoff calls = %v, want %v", calls, want)
	}
	for i, st := range seen {
		if st.Connected || st.Failures != i+1 || !strings.Contains(st.LastError, "excessive device registrations") {
			t.Errorf("Status during failure %d = %+v, want disconnected, %d failures and the refusal", i+1, st, i+1)
		}
	}
	if got := strings.Count(e.logs.String(), "device registration refused"); got != 3 {
		t.Errorf("refusal log lines = %d, want 3:\n%s", got, e.logs.String())
	}
	if st := tr.Status(); !st.Connected || st.Failures != 0 {
		t.Errorf("Status after the recovery = %+v, want connected without failures", st)
	}
}
