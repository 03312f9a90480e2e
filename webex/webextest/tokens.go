// Access tokens: who each bearer token belongs to, expiring one, and the OAuth refresh grant
// (POST /v1/access_token).

package webextest

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// The lifetimes POST /v1/access_token answers, in seconds (14 and 90 days, as Webex's
// integrations get; the exact values Webex answers vary by a second or so).
const (
	accessTokenLifetime  = 1209599
	refreshTokenLifetime = 7775999
)

// AddToken makes token a valid access token of the person personID. It is not an admin
// token: it gets 403 on the wholesale, licenses, organizations and partner endpoints.
// Call.Identity names it by the person id.
func (s *Sim) AddToken(token, personID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.people[personID]; !ok {
		return fmt.Errorf("no person %s", personID)
	}
	if _, ok := s.tokens[token]; ok || token == "" {
		return fmt.Errorf("token %q is empty or taken", token)
	}
	s.tokens[token] = &principal{identity: personID, personID: personID}
	s.changedLocked()
	return nil
}

// ExpireToken makes an access token invalid: it gets 401 from now on, as an expired token
// does.
func (s *Sim) ExpireToken(token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return changeLocked(s, s.tokens, token, fmt.Errorf("unknown token %q", token), func(p *principal) {
		p.revoked = true
	})
}

// tokenAnswer is the answer of POST /v1/access_token.
type tokenAnswer struct {
	AccessToken           string `json:"access_token"`
	ExpiresIn             int    `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int    `json:"refresh_token_expires_in"`
	TokenType             string `json:"token_type"`
}

// POST /v1/access_token (form: grant_type=refresh_token, client_id, client_secret,
// refresh_token). The new access token is a partner token, valid for expires_in seconds of
// Options.Now; the refresh token stays the same, or with Options.RotateRefreshTokens is
// replaced by a new one, and the one used is refused from then on.
func (s *Sim) handleAccessToken(q *request) reply {
	form, err := url.ParseQuery(string(q.body))
	if err != nil {
		return errReply(failf(http.StatusBadRequest, "The form body could not be read: %v", err))
	}
	switch {
	case form.Get("grant_type") != "refresh_token":
		return errReply(failf(http.StatusBadRequest, "unsupported grant_type %q; only refresh_token is supported.", form.Get("grant_type")))
	case form.Get("client_id") != s.opts.ClientID || form.Get("client_secret") != s.opts.ClientSecret:
		return errReply(failf(http.StatusUnauthorized, "invalid client_id or client_secret."))
	case !s.refreshTokens[form.Get("refresh_token")]:
		return errReply(failf(http.StatusBadRequest, "invalid refresh_token."))
	}
	s.issued++
	token := fmt.Sprintf("%s-%d", s.opts.PartnerToken, s.issued+1)
	refresh := form.Get("refresh_token")
	if s.opts.RotateRefreshTokens {
		delete(s.refreshTokens, refresh)
		refresh = fmt.Sprintf("%s-%d", s.opts.RefreshToken, s.issued+1)
		s.refreshTokens[refresh] = true
	}
	s.tokens[token] = &principal{
		identity: IdentityPartner,
		personID: AnnID,
		admin:    true,
		expires:  q.now.Add(accessTokenLifetime * time.Second),
	}
	s.changedLocked()
	return jsonReply(tokenAnswer{
		AccessToken:           token,
		ExpiresIn:             accessTokenLifetime,
		RefreshToken:          refresh,
		RefreshTokenExpiresIn: refreshTokenLifetime,
		TokenType:             "Bearer",
	})
}
