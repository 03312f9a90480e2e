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
