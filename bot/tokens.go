package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TokenRefresher renews the partner's OAuth access token (POST /access_token) and makes the
// partner's Webex client use the new one.
type TokenRefresher interface {
	// RefreshToken exchanges a refresh token for new tokens.
	RefreshToken(ctx context.Context, refreshToken string) (Tokens, error)
	// SetToken makes the partner's client use an access token.
	SetToken(token string) error
}

// partnerTokens is the store's name of the partner's token set.
const partnerTokens = "partner"

// refreshMargin is how long before its expiry an access token is renewed. Integration access
// tokens live 14 days; a sweep runs every minute, so a day is plenty.
const refreshMargin = 24 * time.Hour

// useStoredToken makes the partner's client use the token kept in the store, which is newer
// than the one in the environment once the bot has refreshed it.
func (b *Bot) useStoredToken(ctx context.Context) error {
	if b.tokens == nil {
		return nil
	}
	t, err := b.db.Tokens(ctx, partnerTokens)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("read the partner's stored tokens: %w", err)
	case t.AccessToken == "" || !b.clock.Now().Before(t.Expires):
		return nil
	}
	if err := b.tokens.SetToken(t.AccessToken); err != nil {
		return fmt.Errorf("use the stored partner token: %w", err)
	}
	b.log.Info("using the partner token refreshed earlier", "expires", t.Expires)
	return nil
}

// refreshToken renews the partner's access token when it is unknown how long it lives or
// when it expires within refreshMargin, and keeps the new tokens in the store.
func (b *Bot) refreshToken(ctx context.Context) error {
	if b.tokens == nil {
		return nil
	}
	t, err := b.db.Tokens(ctx, partnerTokens)
	switch {
	case errors.Is(err, ErrNotFound):
		t = Tokens{RefreshToken: b.cfg.RefreshToken}
	case err != nil:
		return fmt.Errorf("read the partner's stored tokens: %w", err)
	}
	now := b.clock.Now()
	if !t.Expires.IsZero() && now.Before(t.Expires.Add(-refreshMargin)) {
		return nil
	}
	fresh, err := b.tokens.RefreshToken(ctx, t.RefreshToken)
	if err != nil {
		return fmt.Errorf("refresh the partner token: %w", err)
	}
	if fresh.RefreshToken == "" {
		fresh.RefreshToken = t.RefreshToken
	}
	if err := b.db.SaveTokens(ctx, partnerTokens, fresh); err != nil {
		return fmt.Errorf("keep the refreshed partner token: %w", err)
	}
	if err := b.tokens.SetToken(fresh.AccessToken); err != nil {
		return fmt.Errorf("use the refreshed partner token: %w", err)
	}
	b.log.Info("partner token refreshed", "expires", fresh.Expires)
	return nil
}
