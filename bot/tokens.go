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

// tokensJob is the periodic job of the partner's token, run by every process: each makes
// its client use the token the store keeps, when it is newer than the one it uses (another
// process refreshed it), and the leader alone refreshes it when it is due. The leader stores
// a refreshed token before it uses it, and refreshes with the refresh token the store keeps:
// processes never race on a refresh token, and none keeps using a token another replaced.
func (b *Bot) tokensJob() Job {
	refresh := b.asLeader(Job{"tokens", b.refreshToken})
	return Job{"tokens", func(ctx context.Context) error {
		if err := b.useStoredToken(ctx); err != nil {
			return err
		}
		return refresh.Run(ctx)
	}}
}

// useStoredToken makes the partner's client use the access token kept in the store, which
// is newer than the one in the environment once a process has refreshed it, unless it has
// expired or the client uses it already.
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
	changed, err := b.useToken(t.AccessToken)
	if err != nil {
		return fmt.Errorf("use the stored partner token: %w", err)
	}
	if changed {
		b.log.Info("using the partner token refreshed earlier", "expires", t.Expires)
	}
	return nil
}

// useToken makes the partner's client use an access token, and reports whether it used
// another one before.
func (b *Bot) useToken(token string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokenInUse == token {
		return false, nil
	}
	if err := b.tokens.SetToken(token); err != nil {
		return false, err
	}
	b.tokenInUse = token
	return true, nil
}

// refreshToken renews the partner's access token when it is unknown how long it lives or
// when it expires within refreshMargin, keeps the new tokens in the store, and only then
// uses the new access token: a process that dies before it stored them has used nothing
// that the others do not know of. It refreshes with the refresh token the store keeps (the
// environment's until the first refresh), so that a refresh token Webex replaced is never
// used again.
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
	if _, err := b.useToken(fresh.AccessToken); err != nil {
		return fmt.Errorf("use the refreshed partner token: %w", err)
	}
	b.log.Info("partner token refreshed", "expires", fresh.Expires)
	return nil
}
