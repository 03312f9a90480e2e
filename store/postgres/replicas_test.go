package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/store/postgres"
)

// TestReplicasClaimEachEventOnce has three stores on one database (three replicas) claim
// and finish 300 events, each delivered to two of them, with four workers each: every event
// is processed once, and its reply enqueued once.
func TestReplicasClaimEachEventOnce(t *testing.T) {
	ctx := context.Background()
	url := server.Database(t)
	replicas := []*postgres.DB{open(t, url), open(t, url), open(t, url)}
	const events = 300
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var keys []string
	for i := range events {
		key := fmt.Sprintf("ev-%03d", i)
		keys = append(keys, key)
		for _, r := range []*postgres.DB{replicas[i%3], replicas[(i+1)%3]} {
			if _, err := r.AddEvent(ctx, bot.Event{Key: key, Resource: "messages", Event: "created", DataID: key, Received: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var (
		mu        sync.Mutex
		processed = map[string]int{}
		wg        sync.WaitGroup
		errs      = make(chan error, 12)
	)
	for r, db := range replicas {
		for w := range 4 {
			owner := fmt.Sprintf("replica-%d/worker-%d", r, w)
			wg.Go(func() {
				for start := 0; start < events; start += 10 {
					claimed, err := db.ClaimEvents(ctx, keys[start:start+10], owner, now, now.Add(time.Minute))
					if err != nil {
						errs <- err
						return
					}
					for _, ev := range claimed {
						if err := db.FinishEvent(ctx, ev.Key, owner, now, []bot.Outgoing{{Key: ev.Key + "#reply"}}); err != nil {
							if errors.Is(err, bot.ErrNotFound) {
								errs <- fmt.Errorf("%s finished %s, which another finished while %s held the claim", owner, ev.Key, owner)
							} else {
								errs <- err
							}
							return
						}
						mu.Lock()
						processed[ev.Key]++
						mu.Unlock()
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	twice := 0
	for _, n := range processed {
		if n != 1 {
			twice++
		}
	}
	if len(processed) != events || twice != 0 {
		t.Errorf("%d events processed, %d more than once; want %d, each once", len(processed), twice, events)
	}
	out, err := replicas[0].OutboxAfter(ctx, 0)
	if err != nil || len(out) != events {
		t.Errorf("outbox has %d replies (%v), want %d", len(out), err, events)
	}
}

// TestReplicasStartingAtOnceMigrateOnce opens four stores on a new database at once: the
// schema is applied once, and every store works.
func TestReplicasStartingAtOnceMigrateOnce(t *testing.T) {
	ctx := context.Background()
	url := server.Database(t)
	var wg sync.WaitGroup
	dbs := make([]*postgres.DB, 4)
	errs := make([]error, 4)
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(ctx, url, postgres.Options{}) })
	}
	wg.Wait()
	for i, db := range dbs {
		if errs[i] != nil {
			t.Fatalf("Open #%d = %v", i, errs[i])
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Ping(ctx); err != nil {
			t.Errorf("Ping #%d = %v", i, err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied, versions int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &versions); err != nil {
		t.Fatal(err)
	}
	if applied != versions || versions != 4 {
		t.Errorf("%d migrations recorded of %d versions, want 4 of 4 (each applied once)", applied, versions)
	}
}

// TestOpenWaitsForTheDatabase opens a store on a database that does not exist yet: Open says
// so in the log and waits, with backoff on its clock, until it does.
func TestOpenWaitsForTheDatabase(t *testing.T) {
	ctx := context.Background()
	url := server.Database(t)
	missing := strings.Replace(url, "postgres:///test_", "postgres:///later_", 1)
	clock := bottest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false)
	var logs apptest.SyncBuffer
	opened := make(chan error, 1)
	go func() {
		db, err := postgres.Open(ctx, missing, postgres.Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err == nil {
			t.Cleanup(func() { _ = db.Close() })
		}
		opened <- err
	}()
	waits := []time.Duration{<-clock.Started()}
	clock.Advance(waits[0])
	waits = append(waits, <-clock.Started())
	if waits[0] != 500*time.Millisecond || waits[1] != time.Second {
		t.Errorf("waits = %v, want 500ms then 1s", waits)
	}
	if !strings.Contains(logs.String(), "database unreachable; waiting for it (DATABASE_URL)") {
		t.Errorf("log does not say the database is unreachable:\n%s", logs.String())
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := strings.TrimPrefix(strings.SplitN(missing, "?", 2)[0], "postgres:///")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	clock.Advance(waits[1])
	if err := <-opened; err != nil {
		t.Fatalf("Open once the database exists = %v", err)
	}
	if !strings.Contains(logs.String(), "database reachable") {
		t.Errorf("log does not say the database became reachable:\n%s", logs.String())
	}
}

// TestOpenRefusesAMalformedURL checks that Open fails at once on a URL that is no
// PostgreSQL URL, without repeating it (it may hold a password).
func TestOpenRefusesAMalformedURL(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://user:s3cret@host:notaport/db", postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("Open(malformed) = %v; want an error naming DATABASE_URL, without the password", err)
	}
}
