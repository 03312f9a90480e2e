package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"attachbot/bot"
	"attachbot/store"
)

// BenchmarkClaimPolls measures the claims of one status sweep without its Webex calls or its
// writes: n requests in provisioning, all due, claimed in runs of 1,000 (as the bot claims
// them) until none is left, beside as many requests that ended. Each sweep starts once the
// last one's leases ran out. Run it with
//
//	go test -run '^$' -bench BenchmarkClaimPolls -benchmem ./store/
func BenchmarkClaimPolls(b *testing.B) {
	const (
		n     = 10_000
		limit = 1_000 // the bot's pollClaimMax
		lease = time.Minute
	)
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "attachbot.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	createConcurrently(b, db, 2*n, func(i int) bot.Request {
		r := bot.Request{
			ID: fmt.Sprintf("B%05d", i), Source: "benchmark", Created: t0, Updated: t0,
			State: bot.StateProvisioning, RoomID: "room-1", RequestedBy: "ann@example.com",
			Spec: bot.AttachSpec{
				OrgID: "org-1", AdminEmail: "admin@example.com", CustomerName: "Bench Customer",
				Template: "Standard", Packages: []string{"webex_meetings"}, ExternalID: fmt.Sprintf("bench-%05d", i),
			},
			CustomerID: fmt.Sprintf("customer-%05d", i), WebexStatus: "provisioning", Submitted: t0, NextPoll: t0,
			Audit: []bot.AuditEntry{{At: t0, Actor: "attachbot", Action: "submitted", Detail: "benchmark", TrackingID: "BENCH"}},
		}
		if i >= n {
			r.State, r.NextPoll = bot.StateProvisioned, time.Time{}
		}
		return r
	})
	now := t0
	for b.Loop() {
		now = now.Add(2 * lease)
		claimed := 0
		for {
			got, err := db.ClaimPolls(ctx, "bench", now, now.Add(lease), limit)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) == 0 {
				break
			}
			claimed += len(got)
		}
		if claimed != n {
			b.Fatalf("a sweep claimed %d polls, want %d", claimed, n)
		}
	}
}

// createConcurrently creates n requests, the ith made by request, from 32 goroutines at once,
// so that the store commits them in groups.
func createConcurrently(tb testing.TB, db *store.DB, n int, request func(i int) bot.Request) {
	tb.Helper()
	const senders = 32
	errs := make(chan error, senders)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := s; i < n; i += senders {
				if err := db.CreateRequest(context.Background(), request(i), nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}
