package bot_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/cards"
	"attachbot/store"
)

// gatedMessenger is a fake Messenger whose Send waits at a gate until the test lets it
// through, and that counts the sends under way.
type gatedMessenger struct {
	*bottest.Messenger
	arrived chan chan struct{} // each Send's way through, once it waits at the gate

	mu     sync.Mutex
	active int // the sends under way
	most   int // the most sends ever under way at once
}

// Send waits at the gate, then sends msg.
func (g *gatedMessenger) Send(ctx context.Context, msg bot.OutMessage) (bot.Message, error) {
	g.mu.Lock()
	g.active++
	g.most = max(g.most, g.active)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.active--
		g.mu.Unlock()
	}()
	through := make(chan struct{})
	select {
	case g.arrived <- through:
	case <-ctx.Done():
		return bot.Message{}, ctx.Err()
	}
	select {
	case <-through:
	case <-ctx.Done():
		return bot.Message{}, ctx.Err()
	}
	return g.Messenger.Send(ctx, msg)
}

// newGatedBot returns a bot with cfg on a store of its own, whose Webex is a gatedMessenger,
// and whose clock never moves unless the test advances it (its scans never run). Its loops do
// not run until started.
func newGatedBot(t *testing.T, cfg bot.Config) (*bot.Bot, *gatedMessenger, *store.DB, *bottest.Clock) {
	t.Helper()
	clock := bottest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false)
	msgr := &gatedMessenger{
		Messenger: bottest.NewMessenger(bot.Person{ID: "bot-1", Emails: []string{"attachbot@webex.bot"}, DisplayName: "attachbot"}),
		arrived:   make(chan chan struct{}),
	}
	db := bottest.NewStore(t)
	b, err := bot.New(cfg, bot.Deps{Messenger: msgr, Partner: bottest.NewPartner(nil), Store: db, Cards: cards.New(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return b, msgr, db, clock
}

// mostAtOnce returns the most sends that were ever under way at once.
func (g *gatedMessenger) mostAtOnce() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.most
}

// TestOutboxCallsAtMostSendConcurrency: however many lanes the outbox claims ahead, no more
// than SendConcurrency calls to Webex are under way at once, and every slot is used. Each of
// 4 × SendConcurrency spaces has one message; the test holds the calls at a gate until
// SendConcurrency of them wait there, then lets them through, four times.
func TestOutboxCallsAtMostSendConcurrency(t *testing.T) {
	const sendConcurrency = 3
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, msgr, db, clock := newGatedBot(t, bot.Config{PollInSweepOnly: true, SendConcurrency: sendConcurrency})
	var out []bot.Outgoing
	want := map[string][]string{}
	for i := range 4 * sendConcurrency {
		room, text := fmt.Sprintf("room-%02d", i), fmt.Sprintf("message %02d", i)
		out = append(out, bot.Outgoing{Key: "m" + text, Created: clock.Now(), Message: bot.OutMessage{RoomID: room, Markdown: text}})
		want[room] = []string{text}
	}
	if err := db.Enqueue(ctx, out); err != nil {
		t.Fatal(err)
	}
	startBot(ctx, t, b)

	for range 4 {
		var held []chan struct{}
		for len(held) < sendConcurrency {
			select {
			case through := <-msgr.arrived:
				held = append(held, through)
			case <-ctx.Done():
				t.Fatalf("%d calls wait at the gate, want %d; sent %d", len(held), sendConcurrency, len(msgr.Sent()))
			}
		}
		for _, through := range held {
			close(through)
		}
	}
	if err := b.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, m := range msgr.Sent() {
		got[m.RoomID] = append(got[m.RoomID], m.Markdown)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("messages per space (-want +got):\n%s", d)
	}
	if got, want := msgr.mostAtOnce(), sendConcurrency; got != want {
		t.Errorf("most calls under way at once = %d, want %d (SendConcurrency)", got, want)
	}
}

// TestOutboxProbesALaneOnceItsMessageIsSent: while the bot sends a message to a space,
// another replica enqueues the next message to that space, which this bot's memory never
// hears of. Once the first is sent, the bot asks the store for the space's next message at
// once and sends it, and Settle does not return before it has: the lane to probe counts as
// work in flight. The fake clock never moves, so the scan never runs. The moment Settle
// could take for the end lasts as long as the probe's store call, so the test repeats it.
func TestOutboxProbesALaneOnceItsMessageIsSent(t *testing.T) {
	const rounds = 30
	for round := range rounds {
		if got, want := sendThenProbe(t, round), []string{"first", "second"}; !cmp.Equal(got, want) {
			t.Fatalf("round %d: sent when Settle returned %q, want %q", round, got, want)
		}
	}
}

// sendThenProbe runs one round of TestOutboxProbesALaneOnceItsMessageIsSent on a bot of its
// own and returns the texts sent when Settle returned.
func sendThenProbe(t *testing.T, round int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, msgr, db, clock := newGatedBot(t, bot.Config{PollInSweepOnly: true})
	room := fmt.Sprintf("room-%02d", round)
	message := func(text string) []bot.Outgoing {
		return []bot.Outgoing{{Key: "m-" + text, Created: clock.Now(), Message: bot.OutMessage{RoomID: room, Markdown: text}}}
	}
	if err := db.Enqueue(ctx, message("first")); err != nil {
		t.Fatal(err)
	}
	startBot(ctx, t, b)

	var first chan struct{}
	select {
	case first = <-msgr.arrived:
	case <-ctx.Done():
		t.Fatal("the first message never reached Webex")
	}
	if err := db.Enqueue(ctx, message("second")); err != nil { // as another replica: the bot is not told
		t.Fatal(err)
	}
	go func() { // every later send goes through at once
		for {
			select {
			case through := <-msgr.arrived:
				close(through)
			case <-ctx.Done():
				return
			}
		}
	}()
	close(first)
	if err := b.Settle(ctx); err != nil {
		t.Fatalf("Settle: %v; queues %+v", err, b.QueueStats())
	}
	var sent []string
	for _, m := range msgr.Sent() {
		sent = append(sent, m.Markdown)
	}
	return sent
}
