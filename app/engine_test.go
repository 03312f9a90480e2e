package app_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The engine under load: group-committed intake, lanes per space, parallel ordered sending
// (docs/engine.md).

// addRooms adds n group spaces with the bot and Ann, and returns their ids.
func addRooms(t *testing.T, h *harness, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		r, err := h.Sim.AddRoom(fmt.Sprintf("Space %d", i), webextest.BotID, webextest.AnnID)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	return ids
}

// deliveryOf returns the delivery of the messages/created event about message id.
func deliveryOf(t *testing.T, h *harness, id string) webextest.Delivery {
	t.Helper()
	for _, d := range h.Sim.Deliveries() {
		if d.Resource == "messages" && d.DataID == id {
			return d
		}
	}
	t.Fatalf("no delivery about message %s", id)
	return webextest.Delivery{}
}

// parentsOf returns the thread roots the bot's messages in a space answer, in the order
// the bot posted them.
func parentsOf(h *harness, roomID string) []string {
	var got []string
	for _, m := range h.BotMessages(roomID) {
		got = append(got, m.ParentID)
	}
	return got
}

// TestThousandConcurrentDeliveriesAnsweredOnce: 1,000 commands delivered at once over 20
// spaces, every tenth delivered again while the others come in: each is answered exactly
// once.
func TestThousandConcurrentDeliveriesAnsweredOnce(t *testing.T) {
	webhookOnly(t, "it delivers webhook deliveries again")
	h := newHarness(t, apptest.Options{})
	rooms := addRooms(t, h, 20)
	const n = 1000
	cmds := make([]webextest.Message, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg, err := h.Sim.Say(t.Context(), webextest.AnnID, rooms[i%len(rooms)], "help")
			if err != nil {
				errs <- fmt.Errorf("delivery %d: %w", i, err)
				return
			}
			cmds[i] = msg
			if i%10 == 0 {
				d, err := h.Sim.Redeliver(t.Context(), deliveryOf(t, h, msg.ID))
				if err == nil && !d.OK() {
					err = fmt.Errorf("answered %d", d.Status)
				}
				if err != nil {
					errs <- fmt.Errorf("redelivery %d: %w", i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A bound for a slow machine under the race detector, not a timed assertion.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if err := h.App().Bot().Settle(ctx); err != nil {
		t.Fatalf("waiting for the bot to settle: %v", err)
	}
	replies := map[string]int{}
	for _, room := range rooms {
		for _, parent := range parentsOf(h, room) {
			replies[parent]++
		}
	}
	wrong := 0
	for i, cmd := range cmds {
		if got := replies[cmd.ID]; got != 1 {
			if wrong++; wrong <= 5 {
				t.Errorf("command %d got %d replies, want 1", i, got)
			}
		}
	}
	if wrong > 5 {
		t.Errorf("and %d more commands not answered exactly once", wrong-5)
	}
	if got, want := h.Sim.CountCalls(http.MethodPost, "/v1/messages"), n; got != want {
		t.Errorf("POST /v1/messages was called %d times, want %d", got, want)
	}
}

// TestSpaceGoesOnPastAnEarlierEventMemoryMissed: the store holds an event of a space that
// the in-memory inbox never heard of (accepted by the store earlier, its commit told to the
// inbox late, or another replica's that died), and Ann's command comes after it. The store
// refuses the command while that earlier event waits; the bot then asks the store for the
// space's head at once, handles it, then the command, and does not leave the space to the
// scan (here an hour away).
func TestSpaceGoesOnPastAnEarlierEventMemoryMissed(t *testing.T) {
	h := newHarness(t, apptest.Options{ScanEvery: time.Hour})
	room := addRooms(t, h, 1)[0]
	missed := bot.Event{
		Key: bot.EventKey("messages", "created", "message-memory-missed"), Resource: "messages", Event: "created",
		DataID: "message-memory-missed", ActorID: webextest.AnnID, RoomID: room, Received: time.Now(),
	}
	added, err := h.App().Store().AddEvents(t.Context(), []bot.Event{missed})
	if err != nil || !added[0] {
		t.Fatalf("AddEvents = %v, %v", added, err)
	}
	msg, err := h.Sim.Say(t.Context(), webextest.AnnID, room, "help")
	if err != nil {
		t.Fatal(err)
	}
	h.Settle()

	answered := 0
	for _, parent := range parentsOf(h, room) {
		if parent == msg.ID {
			answered++
		}
	}
	if got, want := answered, 1; got != want {
		t.Errorf("the command got %d replies, want %d", got, want)
	}
	if got, want := h.Sim.CountCalls(http.MethodGet, "/v1/messages/message-memory-missed"), 1; got != want {
		t.Errorf("the earlier event's message was read %d times, want %d", got, want)
	}
}

// TestOutboxSendsWhatAnotherEnqueuedToASpaceItSends: while the bot's reply to Ann is on its
// way to Webex (held there), a message to the same space is enqueued in the store behind the
// bot's back, as another replica would. Once the reply is sent, the bot asks the store for
// the space's next message at once and sends it, and Settle waits for that: the scan, an
// hour away, never runs.
func TestOutboxSendsWhatAnotherEnqueuedToASpaceItSends(t *testing.T) {
	gate := &gateFirst{held: make(chan struct{}), open: make(chan struct{}), match: func(r *http.Request) bool {
		return r.Method == http.MethodPost && r.URL.Path == "/v1/messages"
	}}
	h := newHarness(t, apptest.Options{ScanEvery: time.Hour, HTTPClient: &http.Client{Transport: gate}})
	room := addRooms(t, h, 1)[0]
	gate.armed.Store(true)
	cmd, err := h.Sim.Say(t.Context(), webextest.AnnID, room, "help")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-gate.held:
	case <-t.Context().Done():
		t.Fatal("the reply never reached Webex")
	}
	another := bot.Outgoing{Key: "message-another-enqueued", Created: time.Now(), Message: bot.OutMessage{RoomID: room, Markdown: "enqueued by another replica"}}
	if err := h.App().Store().Enqueue(t.Context(), []bot.Outgoing{another}); err != nil {
		t.Fatal(err)
	}
	close(gate.open)
	h.Settle()

	var got []string
	for _, m := range h.BotMessages(room) {
		if m.ParentID == cmd.ID {
			got = append(got, "the reply")
		} else {
			got = append(got, m.Markdown)
		}
	}
	if diff := cmp.Diff([]string{"the reply", another.Message.Markdown}, got); diff != "" {
		t.Errorf("the bot's messages in the space when Settle returned (-want +got):\n%s", diff)
	}
}

// TestOrderPerSpaceUnderConcurrency: in each of 10 spaces Ann types 10 commands one after
// the other while the spaces go on at once; the first reads of messages are slow (the
// simulated Webex waits before it answers). Every space's replies come in the
// order of its commands: a command waits for the one before it in its space.
func TestOrderPerSpaceUnderConcurrency(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	rooms := addRooms(t, h, 10)
	const perRoom = 10
	// The first reads of a message, one a space or so, are slow: a later command of the
	// same space would overtake them if it did not wait.
	h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/messages/*", Latency: 50 * time.Millisecond, Times: len(rooms)})
	said := make([][]string, len(rooms))
	var wg sync.WaitGroup
	errs := make(chan error, len(rooms))
	for r, room := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perRoom {
				msg, err := h.Sim.Say(t.Context(), webextest.AnnID, room, "help")
				if err != nil {
					errs <- err
					return
				}
				said[r] = append(said[r], msg.ID)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	h.Settle()
	for r, room := range rooms {
		if diff := cmp.Diff(said[r], parentsOf(h, room)); diff != "" {
			t.Errorf("space %d: the commands the replies answer, in the order posted (-commands +replies):\n%s", r, diff)
		}
	}
}

// TestFailingSpaceHoldsBackOnlyItself: while Webex refuses every message to one space (503),
// the replies in the other spaces are sent; the failing space's second reply waits behind its
// first, and once Webex takes them again both arrive, in order.
func TestFailingSpaceHoldsBackOnlyItself(t *testing.T) {
	h := newHarness(t, apptest.Options{ManualClock: true})
	rooms := addRooms(t, h, 6)
	bad, good := rooms[0], rooms[1:]
	h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/messages", RoomID: bad, Status: http.StatusServiceUnavailable})
	var badCmds []string
	for range 2 {
		msg, err := h.Sim.Say(t.Context(), webextest.AnnID, bad, "help")
		if err != nil {
			t.Fatal(err)
		}
		badCmds = append(badCmds, msg.ID)
	}
	for _, room := range good {
		if _, err := h.Sim.Say(t.Context(), webextest.AnnID, room, "help"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err := h.Sim.WaitFor(ctx, func() bool {
		for _, room := range good {
			if len(h.BotMessages(room)) != 1 {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("the other spaces' replies were not sent while one space failed: %v", err)
	}
	tried := 0
	for _, c := range h.Sim.CallsTo(http.MethodPost, "/v1/messages") {
		if c.Status == http.StatusServiceUnavailable {
			tried++
		}
	}
	if tried != 1 {
		t.Errorf("Webex was asked %d times to post in the failing space, want 1: its second reply waits behind the first", tried)
	}
	h.Sim.ClearFaults()
	h.Advance(time.Hour)
	h.Settle()
	if diff := cmp.Diff(badCmds, parentsOf(h, bad)); diff != "" {
		t.Errorf("the failing space's replies once Webex takes them (-commands +replies):\n%s", diff)
	}
}

// TestRestartWithFullBacklogFinishesIt: 300 commands over 10 spaces are taken by an
// attachbot whose workers never started (as if it crashed once they were stored); the next
// start answers every one exactly once, in order per space.
func TestRestartWithFullBacklogFinishesIt(t *testing.T) {
	webhookOnly(t, "an attachbot that was not started takes deliveries on its webhook only")
	h := newHarness(t, apptest.Options{})
	rooms := addRooms(t, h, 10)
	h.CloseApp(h.App())
	stopped := h.BuildApp()
	said := map[string][]string{}
	for i := range 300 {
		room := rooms[i%len(rooms)]
		msg, err := h.Sim.Say(t.Context(), webextest.AnnID, room, "help")
		if err != nil {
			t.Fatal(err)
		}
		said[room] = append(said[room], msg.ID)
	}
	events, err := stopped.Store().Events(t.Context())
	if err != nil || len(events) != 300 {
		t.Fatalf("inbox before the restart: %d events, %v; want 300", len(events), err)
	}
	h.CloseApp(stopped)

	h.StartApp()
	h.Settle()
	for _, room := range rooms {
		if diff := cmp.Diff(said[room], parentsOf(h, room)); diff != "" {
			t.Errorf("space %s after the restart (-commands +replies):\n%s", room, diff)
		}
	}
	if s := h.App().Bot().QueueStats(); s.InboxDepth != 0 || s.OutboxDepth != 0 {
		t.Errorf("queues after the backlog = %+v, want empty", s)
	}
}
