package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"attachbot/bot"
	"attachbot/store/postgres"
)

// TestMigrationFillsTheLanesOfWaitingEvents runs migration 3 over an inbox whose events have
// no lane, as a database of the first version holds them: each waiting event gets its
// bot.Event.Lane, and the second event of a space is then held back behind the first.
func TestMigrationFillsTheLanesOfWaitingEvents(t *testing.T) {
	ctx := context.Background()
	url := server.Database(t)
	db := open(t, url)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	evs := []bot.Event{
		{Key: "a1", RoomID: "room-a", Received: now},
		{Key: "a2", RoomID: "room-a", Received: now},
		{Key: "direct", Received: now},
	}
	if _, err := db.AddEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE events SET lane = NULL`); err != nil {
		t.Fatal(err)
	}
	// Forget migration 3 and the later ones, which may run again (4 only adds an index).
	if _, err := conn.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id >= 3`); err != nil {
		t.Fatal(err)
	}
	db = open(t, url)
	got := map[string]string{}
	rows, err := conn.Query(ctx, `SELECT key, coalesce(lane, '') FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var key, lane string
		if err := rows.Scan(&key, &lane); err != nil {
			t.Fatal(err)
		}
		got[key] = lane
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a1": evs[0].Lane(), "a2": evs[1].Lane(), "direct": evs[2].Lane()}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lanes after the migration (-want +got):\n%s", d)
	}
	claimed, err := db.ClaimEvents(ctx, []string{"a2", "direct"}, "A", now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 1 || claimed[0].Key != "direct" {
		t.Errorf("ClaimEvents(a2, direct) after the migration = %v, want direct only", claimed)
	}
}

// TestReplicasProcessALaneInOrder has three stores on one database (three replicas), with
// three workers each, claim the events of three spaces as fast as they can, each worker
// asking for the heads of every lane: an event is claimed only when every event of its space
// before it was finished and no other is held, and each space's events are claimed in the
// order they arrived.
func TestReplicasProcessALaneInOrder(t *testing.T) {
	ctx := context.Background()
	url := server.Database(t)
	replicas := []*postgres.DB{open(t, url), open(t, url), open(t, url)}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const perRoom = 20
	rooms := []string{"room-a", "room-b", "room-c"}
	var lanes []string
	want := map[string][]string{}
	for i := range perRoom {
		for r, room := range rooms {
			ev := bot.Event{Key: fmt.Sprintf("%s/%02d", room, i), RoomID: room, Received: now}
			if _, err := replicas[(i+r)%3].AddEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
			want[ev.Lane()] = append(want[ev.Lane()], ev.Key)
			if i == 0 {
				lanes = append(lanes, ev.Lane())
			}
		}
	}
	var (
		mu     sync.Mutex
		claims = map[string][]string{} // lane → its events in the order they were claimed
		left   = perRoom * len(rooms)
		wg     sync.WaitGroup
		errs   = make(chan error, 9)
	)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for r, db := range replicas {
		for w := range 3 {
			owner := fmt.Sprintf("replica-%d/worker-%d", r, w)
			wg.Go(func() {
				for {
					mu.Lock()
					done := left == 0
					mu.Unlock()
					if done {
						return
					}
					claimed, err := db.ClaimEventLanes(ctx, lanes, owner, now, now.Add(time.Minute))
					if err != nil {
						errs <- err
						return
					}
					for _, ev := range claimed {
						mu.Lock()
						claims[ev.Lane()] = append(claims[ev.Lane()], ev.Key)
						left--
						mu.Unlock()
						var others int
						if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE lane = $1 AND key <> $2
							AND processed_at IS NULL AND (seq < $3 OR lease_owner IS NOT NULL)`, ev.Lane(), ev.Key, int64(ev.Seq)).Scan(&others); err != nil {
							errs <- err
							return
						}
						if others > 0 {
							errs <- fmt.Errorf("%s got %s while %d events before it or held were in its lane", owner, ev.Key, others)
						}
						if err := db.FinishEvent(ctx, ev.Key, owner, now, nil); err != nil {
							errs <- err
							return
						}
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
	if d := cmp.Diff(want, claims); d != "" {
		t.Errorf("events claimed per space (-want +got):\n%s", d)
	}
}
