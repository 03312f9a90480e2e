package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/store"
	"attachbot/store/postgres"
	"attachbot/store/postgres/pgtest"
)

// pg is the package's throwaway PostgreSQL (pgtest).
var pg *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &pg)) }

// fillBBolt writes a bbolt store with one record or more of every kind: two events waiting
// and one processed, one given up on; messages waiting, sent and given up on; requests,
// a subscription and tokens.
func fillBBolt(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 3, 2, 9, 0, 0, 123456000, time.UTC)
	ev := func(k string) bot.Event {
		return bot.Event{Key: k, Resource: "messages", Event: "created", DataID: k, RoomID: "room-1", Received: at}
	}
	msg := func(k string) bot.Outgoing {
		return bot.Outgoing{Key: k, Created: at, Message: bot.OutMessage{RoomID: "room-1", Markdown: "**" + k + "**"}}
	}
	waiting := ev("e-waiting")
	waiting.Attempts, waiting.NotBefore, waiting.LastError = 2, at.Add(time.Minute), "Webex answered 503"
	steps := []error{
		func() error {
			_, err := db.AddEvents(ctx, []bot.Event{ev("e-done"), ev("e-dead"), waiting, ev("e-next")})
			return err
		}(),
		db.FinishEvent(ctx, "e-done", "", at, []bot.Outgoing{msg("m-sent"), msg("m-dead"), msg("m-waiting")}),
		db.DeadLetterEvent(ctx, ev("e-dead"), "", at, nil),
		db.MarkSent(ctx, "m-sent", at),
		db.DeadLetterOutgoing(ctx, msg("m-dead"), at, []bot.Outgoing{msg("m-alert")}),
		db.CreateRequest(ctx, bot.Request{ID: "REQ1", State: bot.StateProvisioning, RoomID: "room-1", Created: at}, nil),
		db.CreateRequest(ctx, bot.Request{ID: "REQ2", State: bot.StateDeclined, RoomID: "room-2", Created: at.Add(time.Hour)}, nil),
		db.CreateBatch(ctx, bot.Batch{ID: "B-ABC123", State: bot.BatchRunning, RoomID: "room-1", Created: at},
			[]bot.BulkRow{{Line: 2}, {Line: 3}}, nil),
		db.SaveSubscription(ctx, bot.Subscription{RoomID: "room-1", Schedule: "0 8 * * 1", Created: at}),
		db.SaveTokens(ctx, "partner", bot.Tokens{AccessToken: "access", RefreshToken: "refresh", Expires: at}),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("fill the bbolt store, step %d: %v", i, err)
		}
	}
}

// wantCounts is the table migrate-store prints for fillBBolt's store, but for the added
// column, which is a placeholder.
var wantCounts = []string{
	"inbox events 2 ADDED 2", "processed event keys 2 ADDED 2", "dead-letter events 1 ADDED 1",
	"waiting messages 2 ADDED 2", "sent message keys 2 ADDED 2", "dead-letter messages 1 ADDED 1",
	"requests 2 ADDED 2", "batches 1 ADDED 1", "subscriptions 1 ADDED 1", "token sets 1 ADDED 1",
}

// TestMigrateStore runs `attachbot migrate-store` twice on one bbolt file: the first run
// copies every record, the second adds nothing, and both print verified counts; PostgreSQL
// then holds what the file holds, and deduplicates what the file did.
func TestMigrateStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "attachbot.db")
	url := pg.Database(t)
	fillBBolt(t, path)
	for run, name := range []string{"first", "second"} {
		var stdout, stderr strings.Builder
		err := runMain(t, []string{"attachbot", "migrate-store", "--from", path, "--to", url}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("%s run: %v\n%s", name, err, stderr.String())
		}
		got := countLines(stdout.String())
		want := []string{}
		for _, line := range wantCounts {
			n := strings.Fields(line)[len(strings.Fields(line))-1]
			if run > 0 {
				n = "0"
			}
			want = append(want, strings.Replace(line, "ADDED", n, 1))
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s run's counts (-want +got):\n%s\n%s", name, d, stdout.String())
		}
		if !strings.Contains(stdout.String(), "verified: PostgreSQL holds every record of the file") {
			t.Errorf("%s run does not say it verified:\n%s", name, stdout.String())
		}
	}
	src, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for _, key := range []string{"e-done", "e-dead", "e-next"} {
		if added, err := dst.AddEvent(ctx, bot.Event{Key: key}); added || err != nil {
			t.Errorf("event %s delivered again to PostgreSQL: added = %t, %v; want false", key, added, err)
		}
	}
	if err := dst.Enqueue(ctx, []bot.Outgoing{{Key: "m-sent"}, {Key: "m-dead"}}); err != nil {
		t.Fatal(err)
	}
	want, got := readAll(t, src), readAll(t, dst)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("PostgreSQL after the migration (-bbolt +PostgreSQL):\n%s", d)
	}
}

// storeContent is what a store holds, as the bot reads it (the Seqs aside: PostgreSQL
// numbers the records anew, in the same order).
type storeContent struct {
	Inbox         []bot.Event
	Outbox        []bot.Outgoing
	Requests      []bot.Request
	Batches       []bot.Batch
	BatchRows     []bot.BulkRow
	Subscriptions []bot.Subscription
	Tokens        bot.Tokens
}

// readAll reads s's content.
func readAll(t *testing.T, s bot.Store) storeContent {
	t.Helper()
	ctx := context.Background()
	var c storeContent
	var err [7]error
	c.Inbox, err[0] = s.Events(ctx)
	c.Outbox, err[1] = s.OutboxAfter(ctx, 0)
	c.Requests, err[2] = s.Requests(ctx, bot.RequestFilter{})
	c.Subscriptions, err[3] = s.Subscriptions(ctx)
	c.Tokens, err[4] = s.Tokens(ctx, "partner")
	c.Batches, err[5] = s.Batches(ctx, nil)
	c.BatchRows, err[6] = s.BatchRows(ctx, "B-ABC123")
	for _, e := range err {
		if e != nil {
			t.Fatalf("read %T: %v", s, e)
		}
	}
	for i := range c.Inbox {
		c.Inbox[i].Seq = 0
	}
	for i := range c.Outbox {
		c.Outbox[i].Seq = 0
	}
	return c
}

// countLines returns the rows of migrate-store's table, with their spaces collapsed.
func countLines(out string) []string {
	rows := []string{}
	number := regexp.MustCompile(` \d+ \d+ \d+$`)
	for line := range strings.SplitSeq(out, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if number.MatchString(line) {
			rows = append(rows, line)
		}
	}
	return rows
}

// runMain runs attachbot with args and no environment.
func runMain(t *testing.T, args []string, stdout, stderr *strings.Builder) error {
	t.Helper()
	return run(t.Context(), args, func(string) string { return "" }, stdout, stderr)
}
