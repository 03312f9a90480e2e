package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
)

func TestSubscriptions(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	s1 := bot.Subscription{RoomID: "room1", Schedule: "0 8 * * 1", CreatedBy: "ann@partner.example", Created: t0}
	s2 := bot.Subscription{RoomID: "room2", Schedule: "0 9 * * *", CreatedBy: "bob@partner.example", Created: t0}
	for _, s := range []bot.Subscription{s2, s1} {
		if err := db.SaveSubscription(ctx, s); err != nil {
			t.Fatalf("SaveSubscription() = %v", err)
		}
	}
	// Saving again replaces.
	s1.LastSent = t0.Add(24 * time.Hour)
	if err := db.SaveSubscription(ctx, s1); err != nil {
		t.Fatalf("SaveSubscription() = %v", err)
	}
	got, err := db.Subscriptions(ctx)
	if err != nil {
		t.Fatalf("Subscriptions() = %v", err)
	}
	if diff := cmp.Diff([]bot.Subscription{s1, s2}, got); diff != "" {
		t.Errorf("Subscriptions() mismatch (-want +got):\n%s", diff)
	}

	if err := db.DeleteSubscription(ctx, "room1"); err != nil {
		t.Fatalf("DeleteSubscription() = %v", err)
	}
	if err := db.DeleteSubscription(ctx, "room1"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("DeleteSubscription() again = %v, want bot.ErrNotFound", err)
	}
	got, err = db.Subscriptions(ctx)
	if err != nil {
		t.Fatalf("Subscriptions() = %v", err)
	}
	if diff := cmp.Diff([]bot.Subscription{s2}, got); diff != "" {
		t.Errorf("Subscriptions() after delete mismatch (-want +got):\n%s", diff)
	}
}

func TestTokens(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t)
	if _, err := db.Tokens(ctx, "partner"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Tokens() before any = %v, want bot.ErrNotFound", err)
	}
	for _, tok := range []bot.Tokens{
		{AccessToken: "at1", Expires: t0.Add(time.Hour), RefreshToken: "rt1", RefreshExpires: t0.Add(90 * 24 * time.Hour)},
		{AccessToken: "at2", Expires: t0.Add(2 * time.Hour), RefreshToken: "rt1"},
	} {
		if err := db.SaveTokens(ctx, "partner", tok); err != nil {
			t.Fatalf("SaveTokens() = %v", err)
		}
		got, err := db.Tokens(ctx, "partner")
		if err != nil {
			t.Fatalf("Tokens() = %v", err)
		}
		if diff := cmp.Diff(tok, got); diff != "" {
			t.Errorf("Tokens() mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestRecordDigest(t *testing.T) {
	sub := bot.Subscription{RoomID: "room1", Schedule: "0 8 * * 1-5", CreatedBy: "ann@partner.example", Created: t0, LastSent: t0}
	digest := func(key string) []bot.Outgoing {
		return []bot.Outgoing{{Key: key, Created: t0, Message: bot.OutMessage{RoomID: "room1", Markdown: "**Attach digest**"}}}
	}
	sent := t0.Add(23 * time.Hour)
	tests := []struct {
		name string
		// meanwhile changes the subscription after the sweep read it.
		meanwhile    func(t *testing.T, db bot.Store)
		want         bool
		wantSub      []bot.Subscription
		wantOutgoing []string
	}{
		{
			name: "unchanged", meanwhile: func(*testing.T, bot.Store) {}, want: true,
			wantSub: []bot.Subscription{{RoomID: "room1", Schedule: sub.Schedule, CreatedBy: sub.CreatedBy, Created: t0, LastSent: sent}}, wantOutgoing: []string{"digest/1"},
		},
		{
			name: "digest off meanwhile",
			meanwhile: func(t *testing.T, db bot.Store) {
				if err := db.DeleteSubscription(t.Context(), "room1"); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "digest on with another schedule meanwhile",
			meanwhile: func(t *testing.T, db bot.Store) {
				if err := db.SaveSubscription(t.Context(), bot.Subscription{RoomID: "room1", Schedule: "0 7 * * 1", Created: t0.Add(time.Hour), LastSent: t0.Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			},
			wantSub: []bot.Subscription{{RoomID: "room1", Schedule: "0 7 * * 1", Created: t0.Add(time.Hour), LastSent: t0.Add(time.Hour)}},
		},
		{
			name: "sent by an overlapping run meanwhile",
			meanwhile: func(t *testing.T, db bot.Store) {
				if ok, err := db.RecordDigest(t.Context(), sub, sent, digest("digest/other")); err != nil || !ok {
					t.Fatalf("RecordDigest() = %t, %v", ok, err)
				}
			},
			wantSub: []bot.Subscription{{RoomID: "room1", Schedule: sub.Schedule, CreatedBy: sub.CreatedBy, Created: t0, LastSent: sent}}, wantOutgoing: []string{"digest/other"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := mustOpen(t)
			if err := db.SaveSubscription(t.Context(), sub); err != nil {
				t.Fatal(err)
			}
			tt.meanwhile(t, db)
			got, err := db.RecordDigest(t.Context(), sub, sent, digest("digest/1"))
			if err != nil {
				t.Fatalf("RecordDigest() = %v", err)
			}
			if got != tt.want {
				t.Errorf("RecordDigest() = %t, want %t", got, tt.want)
			}
			subs, err := db.Subscriptions(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantSub, subs); diff != "" {
				t.Errorf("subscriptions (-want +got):\n%s", diff)
			}
			out, err := db.Outbox(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range out {
				keys = append(keys, o.Key)
			}
			if diff := cmp.Diff(tt.wantOutgoing, keys); diff != "" {
				t.Errorf("outbox keys (-want +got):\n%s", diff)
			}
		})
	}
}
