package webex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"attachbot/bot"
)

// OAuthApp is the Webex integration (or service app) whose tokens RefreshToken renews.
type OAuthApp struct {
	ClientID     string
	ClientSecret string
}

// RefreshToken exchanges a refresh token for a new access token (POST {BaseURL}/access_token,
// form-encoded grant_type=refresh_token). The expiry instants are computed from expires_in and
// refresh_token_expires_in with the Client's clock. It does not change the Client's own token:
// the caller saves the tokens first and then calls SetToken. Refreshing changes no state that a
// retry could duplicate, so it is retried like a GET. Neither the secret nor the tokens are
// logged.
func (c *Client) RefreshToken(ctx context.Context, app OAuthApp, refreshToken string) (bot.Tokens, error) {
	if app.ClientID == "" || app.ClientSecret == "" || refreshToken == "" {
		return bot.Tokens{}, errors.New("refresh token: the client id, client secret and refresh token are required")
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {app.ClientID},
		"client_secret": {app.ClientSecret},
		"refresh_token": {refreshToken},
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "access_token", form: form, noAuth: true, safe: true})
	if err != nil {
		return bot.Tokens{}, fmt.Errorf("refresh token: %w", err)
	}
	var w struct {
		AccessToken           string `json:"access_token"`
		ExpiresIn             int64  `json:"expires_in"`
		RefreshToken          string `json:"refresh_token"`
		RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	}
	if err := json.Unmarshal(resp.body, &w); err != nil {
		return bot.Tokens{}, fmt.Errorf("refresh token: decode the answer: %w", err)
	}
	if w.AccessToken == "" {
		return bot.Tokens{}, errors.New("refresh token: the answer has no access_token")
	}
	now := c.clock.Now()
	t := bot.Tokens{AccessToken: w.AccessToken, RefreshToken: w.RefreshToken}
	if w.ExpiresIn > 0 {
		t.Expires = now.Add(time.Duration(w.ExpiresIn) * time.Second)
	}
	if t.RefreshToken == "" {
		// Without a new refresh token the one just used stays valid.
		t.RefreshToken = refreshToken
	}
	if w.RefreshTokenExpiresIn > 0 {
		t.RefreshExpires = now.Add(time.Duration(w.RefreshTokenExpiresIn) * time.Second)
	}
	return t, nil
}
