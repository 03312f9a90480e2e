package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The sweep refreshes the partner token before it expires, and the refreshed token survives
// a restart.

// statusWithOAuth configures the partner integration's client and refresh token, so that the
// bot refreshes the partner token.
func statusWithOAuth(c *app.Config) {
	c.OAuth.ClientID, c.OAuth.ClientSecret, c.OAuth.RefreshToken = webextest.DefaultClientID, webextest.DefaultClientSecret, webextest.DefaultRefreshToken
}

// statusTokens returns the partner tokens the store keeps.
func (h *harness) statusTokens() bot.Tokens {
	h.T.Helper()
	tokens, err := h.App().Store().Tokens(h.T.Context(), "partner")
	if err != nil {
		h.T.Fatalf("the stored partner tokens: %v", err)
	}
	return tokens
}

// statusCheckWorks runs `check` on the small organization and fails the test unless the
// partner token could read it.
func (h *harness) statusCheckWorks(when string) {
	h.T.Helper()
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "check "+webextest.SmallOrgID)
	if got := apptest.Joined(h.RepliesTo(cmd)); !strings.Contains(got, "GET /people?orgId= counted 12 users") {
		h.T.Errorf("%s: check did not read the organization with the partner token:\n%s", when, got)
	}
}

func TestStatusTokenRefreshedBeforeExpiry(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true, Configure: statusWithOAuth})
	// expires_in and refresh_token_expires_in of the simulated token endpoint
	const lifetime, refreshLifetime = 1209599 * time.Second, 7775999 * time.Second
	refreshes := func() []webextest.Call { return h.Sim.CallsTo(http.MethodPost, "/v1/access_token") }

	h.MustSweep()
	calls := refreshes()
	if len(calls) != 1 {
		t.Fatalf("the first sweep refreshed %d times, want 1", len(calls))
	}
	form, err := url.ParseQuery(string(calls[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	wantForm := url.Values{
		"grant_type": {"refresh_token"}, "client_id": {webextest.DefaultClientID},
		"client_secret": {webextest.DefaultClientSecret}, "refresh_token": {webextest.DefaultRefreshToken},
	}
	if diff := cmp.Diff(wantForm, form); diff != "" {
		t.Errorf("POST /access_token form (-want +got):\n%s", diff)
	}
	first := h.statusTokens()
	if first.AccessToken == "" || first.AccessToken == webextest.DefaultPartnerToken {
		t.Errorf("the stored access token is %q, want a new one", first.AccessToken)
	}
	wantTokens := bot.Tokens{AccessToken: first.AccessToken, Expires: apptest.Start.Add(lifetime), RefreshToken: webextest.DefaultRefreshToken,
		RefreshExpires: apptest.Start.Add(refreshLifetime)}
	if diff := cmp.Diff(wantTokens, first); diff != "" {
		t.Errorf("stored tokens (-want +got):\n%s", diff)
	}
	// The old token dies; the bot uses the new one.
	if err := h.Sim.ExpireToken(webextest.DefaultPartnerToken); err != nil {
		t.Fatal(err)
	}
	h.statusCheckWorks("with the environment's token expired")

	// No refresh until a day before the expiry, then one.
	h.Clock.Advance(first.Expires.Sub(h.Clock.Now()) - 24*time.Hour - time.Minute)
	h.MustSweep()
	if got := len(refreshes()); got != 1 {
		t.Errorf("a day and a minute before the expiry the bot had refreshed %d times, want 1", got)
	}
	h.Clock.Advance(time.Minute)
	h.MustSweep()
	if got := len(refreshes()); got != 2 {
		t.Errorf("a day before the expiry the bot had refreshed %d times, want 2", got)
	}
	second := h.statusTokens()
	if second.AccessToken == first.AccessToken || !second.Expires.Equal(h.Clock.Now().Add(lifetime)) {
		t.Errorf("after the second refresh the store keeps %+v, want a new token expiring at %s", second, h.Clock.Now().Add(lifetime))
	}
	if err := h.Sim.ExpireToken(first.AccessToken); err != nil {
		t.Fatal(err)
	}
	h.statusCheckWorks("with the first refreshed token expired")
}

func TestStatusRefreshedTokenSurvivesRestart(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true, Configure: statusWithOAuth})
	h.MustSweep()
	kept := h.statusTokens()
	if err := h.Sim.ExpireToken(webextest.DefaultPartnerToken); err != nil {
		t.Fatal(err)
	}

	h.CloseApp(h.App())
	h.Clock.Advance(time.Hour)
	h.StartApp()

	// Before any sweep could refresh, the restarted bot already uses the kept token.
	h.statusCheckWorks("after the restart")
	h.MustSweep()
	if got := len(h.Sim.CallsTo(http.MethodPost, "/v1/access_token")); got != 1 {
		t.Errorf("the bot refreshed %d times across the restart, want 1 (the kept token is fresh)", got)
	}
	if diff := cmp.Diff(kept, h.statusTokens()); diff != "" {
		t.Errorf("the stored tokens changed across the restart (-before +after):\n%s", diff)
	}
}
