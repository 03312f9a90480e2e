package app_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The partner token's refresh with replicas: the leader alone refreshes, stores the new
// tokens before it uses them, and every replica then uses the token the store keeps; a
// leader that dies in the middle of a refresh leaves the others able to go on.

// tokenUse is a Webex transport that records the bearer token of every call one replica
// makes with a token other than the bot's (the partner's calls), then sends the call on.
type tokenUse struct {
	next   http.RoundTripper
	mu     sync.Mutex
	tokens []string
}

// RoundTrip records r's partner token, if any, and sends r.
func (p *tokenUse) RoundTrip(r *http.Request) (*http.Response, error) {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && token != webextest.DefaultBotToken {
		p.mu.Lock()
		p.tokens = append(p.tokens, token)
		p.mu.Unlock()
	}
	return p.next.RoundTrip(r)
}

// since returns the partner tokens of the calls after the first n, and how many calls there
// are now.
func (p *tokenUse) since(n int) ([]string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tokens[n:]), len(p.tokens)
}

// tokenReplicas are n attachbots on one database with the partner integration's OAuth
// credentials, each calling Webex through its tokenUse (and through next, when set).
type tokenReplicas struct {
	*harness
	owners map[string]int // owner → replica index
	calls  []*tokenUse
	checks int // the spaces everyReplicaUses added
}

// newTokenReplicas starts n replicas (and no other attachbot) on a clock that moves only with
// the test, against a simulated Webex that rotates the refresh token at each refresh when
// rotate is set.
func newTokenReplicas(t *testing.T, n int, next http.RoundTripper, rotate bool) *tokenReplicas {
	t.Helper()
	if next == nil {
		next = http.DefaultTransport
	}
	h := newHarness(t, apptest.Options{ManualClock: true, ScanEvery: replicaScan, Sim: webextest.Options{RotateRefreshTokens: rotate},
		Configure: func(c *app.Config) {
			c.PollSchedule = statusNeverSchedule
			statusWithOAuth(c)
		}})
	h.CloseApp(h.App())
	r := &tokenReplicas{harness: h, owners: map[string]int{}}
	for i := range n {
		calls := &tokenUse{next: next}
		r.calls = append(r.calls, calls)
		r.owners[fmt.Sprintf("replica-%d", i)] = h.AddReplica(fmt.Sprintf("replica-%d", i), &http.Client{Transport: calls})
	}
	return r
}

// runTokensJob runs the tokens job on the replicas at once, as their cron entries would at
// the same minute, and returns each one's error.
func (r *tokenReplicas) runTokensJob(replicas ...int) []error {
	r.T.Helper()
	jobs := make([]bot.Job, len(replicas))
	for k, i := range replicas {
		jobs[k] = jobNamed(r.T, r.Replica(i), "tokens")
	}
	errs := make([]error, len(replicas))
	var wg sync.WaitGroup
	for k := range replicas {
		wg.Go(func() { errs[k] = jobs[k].Run(r.T.Context()) })
	}
	wg.Wait()
	return errs
}

// mustRunTokensJob is runTokensJob failing the test on any error.
func (r *tokenReplicas) mustRunTokensJob(replicas ...int) {
	r.T.Helper()
	if err := errors.Join(r.runTokensJob(replicas...)...); err != nil {
		r.T.Fatalf("the tokens job: %v", err)
	}
}

// jobNamed returns a's periodic job named name.
func jobNamed(t *testing.T, a *app.App, name string) bot.Job {
	t.Helper()
	for _, j := range a.Bot().Jobs() {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("no job %s", name)
	return bot.Job{}
}

// refreshAgainWith advances the clock to a day before first expires and runs the tokens job
// on replicas: it fails unless exactly one more refresh happened, sending the refresh token
// first holds (the one stored) and answered 200.
func (r *tokenReplicas) refreshAgainWith(first bot.Tokens, replicas ...int) {
	r.T.Helper()
	r.Advance(first.Expires.Sub(r.Clock.Now()) - 24*time.Hour)
	r.mustRunTokensJob(replicas...)
	calls := r.refreshes()
	if len(calls) != 2 {
		r.T.Fatalf("%d refreshes after the second refresh was due, want 2", len(calls))
	}
	if got, want := refreshTokenOf(r.T, calls[1]), first.RefreshToken; got != want || calls[1].Status != http.StatusOK {
		r.T.Errorf("the second refresh sent refresh token %q and was answered %d, want %q (the stored one) and 200", got, calls[1].Status, want)
	}
}

// storedTokens returns the partner tokens the shared store keeps, read through replica i.
func (r *tokenReplicas) storedTokens(i int) bot.Tokens {
	r.T.Helper()
	tokens, err := r.Replica(i).Store().Tokens(r.T.Context(), "partner")
	if err != nil {
		r.T.Fatalf("the stored partner tokens: %v", err)
	}
	return tokens
}

// refreshes returns the calls to Webex's token endpoint: each a refresh.
func (r *tokenReplicas) refreshes() []webextest.Call {
	return r.Sim.CallsTo(http.MethodPost, "/v1/access_token")
}

// refreshTokenOf returns the refresh token a call to the token endpoint sent.
func refreshTokenOf(t *testing.T, c webextest.Call) string {
	t.Helper()
	form, err := url.ParseQuery(string(c.Body))
	if err != nil {
		t.Fatal(err)
	}
	return form.Get("refresh_token")
}

// everyReplicaUses has `check` run once on each of the live replicas (the deliveries go to
// them in turn, and only the replica a delivery reaches processes it: the others scan the
// store only when the clock moves) and fails the test unless each succeeded, and each
// replica called Webex with token, and only with token, as the partner meanwhile. Each
// command is said in a new space, so that no replica is refused a space's messages while
// another still holds that space (it would leave them to its scan, which waits for the
// clock).
func (r *tokenReplicas) everyReplicaUses(token, when string, live ...int) {
	r.T.Helper()
	marks := make([]int, len(r.calls))
	for _, i := range live {
		_, marks[i] = r.calls[i].since(0)
	}
	for range live {
		r.checks++
		cmd := r.Say(webextest.AnnID, r.statusAddRoom(fmt.Sprintf("Checks %d", r.checks)), "check "+webextest.SmallOrgID)
		if got := apptest.Joined(r.RepliesTo(cmd)); !strings.Contains(got, "GET /people?orgId= counted 12 users") {
			r.T.Errorf("%s: check did not read the organization with the partner token:\n%s", when, got)
		}
	}
	for _, i := range live {
		used, _ := r.calls[i].since(marks[i])
		if len(used) == 0 || slices.ContainsFunc(used, func(u string) bool { return u != token }) {
			r.T.Errorf("%s: replica-%d called Webex as the partner with %q, want only %q (the stored token)", when, i, used, token)
		}
	}
}

// neverUsed fails the test if any replica ever called Webex with token.
func (r *tokenReplicas) neverUsed(token, why string) {
	r.T.Helper()
	for i, calls := range r.calls {
		if used, _ := calls.since(0); slices.Contains(used, token) {
			r.T.Errorf("replica-%d called Webex with %q, %s", i, token, why)
		}
	}
}

// TestReplicasRefreshTheTokenOnce runs the tokens job on two, then three replicas at the
// same moment, against a Webex that replaces the refresh token at each refresh: the token is
// refreshed once, by the leader; the next run of the job has every replica use the stored
// token, and the next refresh uses the refresh token the store keeps (the first one is
// refused by then).
func TestReplicasRefreshTheTokenOnce(t *testing.T) {
	replicasOnly(t)
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d replicas", n), func(t *testing.T) {
			r := newTokenReplicas(t, n, nil, true)
			all := make([]int, n)
			for i := range all {
				all[i] = i
			}
			r.mustRunTokensJob(all...)
			if got := len(r.refreshes()); got != 1 {
				t.Fatalf("%d replicas running the tokens job at once refreshed %d times, want once", n, got)
			}
			first := r.storedTokens(0)
			if first.RefreshToken == webextest.DefaultRefreshToken {
				t.Fatalf("the store keeps the refresh token Webex replaced")
			}
			if err := r.Sim.ExpireToken(webextest.DefaultPartnerToken); err != nil {
				t.Fatal(err)
			}
			r.mustRunTokensJob(all...)
			if got := len(r.refreshes()); got != 1 {
				t.Errorf("the second run of the job refreshed again: %d refreshes, want 1", got)
			}
			r.everyReplicaUses(first.AccessToken, "after the first refresh", all...)

			// A day before the expiry the job runs everywhere again: one refresh, with the
			// refresh token Webex gave the first.
			r.refreshAgainWith(first, all...)
			second := r.storedTokens(n - 1)
			if second.AccessToken == first.AccessToken {
				t.Fatalf("the store still keeps the first refreshed token")
			}
			if err := r.Sim.ExpireToken(first.AccessToken); err != nil {
				t.Fatal(err)
			}
			r.mustRunTokensJob(all...)
			r.everyReplicaUses(second.AccessToken, "after the second refresh", all...)
		})
	}
}

// TestLeaderKilledMidRefresh kills the leader of three replicas in the middle of a refresh:
//   - after Webex answered and before the leader stored the new tokens: nobody ever uses the
//     token Webex gave it, and once its lease ran out another replica refreshes, and all use
//     that token. This needs a Webex that keeps the refresh token: one that replaced it in the
//     answer the dead leader lost would refuse the stored one (docs/replicas.md);
//   - after the leader stored the new tokens (and before it used them): the others use the
//     stored token, and the next refresh, by another replica, uses the refresh token Webex
//     gave the dead leader, with a Webex that replaces refresh tokens.
func TestLeaderKilledMidRefresh(t *testing.T) {
	replicasOnly(t)
	leaderOf := func(r *tokenReplicas) int {
		return r.owners[r.holderOf(`SELECT owner FROM leases WHERE name = 'leader'`)]
	}
	othersThan := func(dead int) []int {
		var live []int
		for i := range 3 {
			if i != dead {
				live = append(live, i)
			}
		}
		return live
	}

	t.Run("before the tokens were stored", func(t *testing.T) {
		hold := &holdFirst{held: make(chan struct{}), applied: true, match: func(r *http.Request) bool {
			return r.Method == http.MethodPost && r.URL.Path == "/v1/access_token"
		}}
		r := newTokenReplicas(t, 3, hold, false)
		hold.armed.Store(true)
		ran := make(chan []error, 1)
		go func() { ran <- r.runTokensJob(0, 1, 2) }()
		select {
		case <-hold.held:
		case <-t.Context().Done():
			t.Fatal("no replica refreshed the token")
		}
		dead := leaderOf(r)
		r.kill(dead)
		for i, err := range <-ran {
			if err != nil && i != dead {
				t.Errorf("replica-%d's tokens job: %v", i, err)
			}
		}
		if got := len(r.refreshes()); got != 1 {
			t.Fatalf("%d refreshes before the leader died, want 1", got)
		}
		if _, err := r.Replica(othersThan(dead)[0]).Store().Tokens(t.Context(), "partner"); !errors.Is(err, bot.ErrNotFound) {
			t.Fatalf("the store keeps partner tokens (%v) the dead leader never stored", err)
		}

		live := othersThan(dead)
		r.mustRunTokensJob(live...)
		if got := len(r.refreshes()); got != 1 {
			t.Errorf("%d refreshes while the dead leader's lease lived, want 1", got)
		}
		r.Advance(2 * leaderLease)
		r.mustRunTokensJob(live...)
		if got := len(r.refreshes()); got != 2 {
			t.Fatalf("%d refreshes once the dead leader's lease ran out, want 2", got)
		}
		stored := r.storedTokens(live[0])
		if err := r.Sim.ExpireToken(webextest.DefaultPartnerToken); err != nil {
			t.Fatal(err)
		}
		r.mustRunTokensJob(live...)
		r.everyReplicaUses(stored.AccessToken, "after the new leader's refresh", live...)
		for i, calls := range r.calls {
			used, _ := calls.since(0)
			for _, token := range used {
				if token != webextest.DefaultPartnerToken && token != stored.AccessToken {
					t.Errorf("replica-%d called Webex with %q, a token the store never kept", i, token)
				}
			}
		}
	})

	t.Run("after the tokens were stored", func(t *testing.T) {
		r := newTokenReplicas(t, 3, nil, true)
		r.mustRunTokensJob(0, 1, 2)
		dead := leaderOf(r)
		first := r.storedTokens(dead)
		r.kill(dead)
		r.neverUsed(first.AccessToken, "before the test had any replica use it")

		live := othersThan(dead)
		if err := r.Sim.ExpireToken(webextest.DefaultPartnerToken); err != nil {
			t.Fatal(err)
		}
		r.mustRunTokensJob(live...)
		r.everyReplicaUses(first.AccessToken, "after the dead leader's refresh", live...)

		r.refreshAgainWith(first, live...)
		second := r.storedTokens(live[0])
		if err := r.Sim.ExpireToken(first.AccessToken); err != nil {
			t.Fatal(err)
		}
		r.mustRunTokensJob(live...)
		r.everyReplicaUses(second.AccessToken, "after the new leader's refresh", live...)
	})
}
