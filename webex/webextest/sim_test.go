package webextest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"attachbot/bot/bottest"
	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
)

// env is a Sim served over HTTP.
type env struct {
	sim   *webextest.Sim
	srv   *httptest.Server
	clock *bottest.Clock
}

// newEnv starts a Sim (with a fake clock unless opts.Now is set) on an httptest server.
func newEnv(t *testing.T, opts webextest.Options) *env {
	t.Helper()
	e := &env{}
	if opts.Now == nil {
		e.clock = bottest.NewClock(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), false)
		opts.Now = e.clock.Now
	}
	e.sim = webextest.New(opts)
	e.srv = httptest.NewServer(e.sim)
	t.Cleanup(e.srv.Close)
	return e
}

// answer is an HTTP answer read completely.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request with a bearer token ("" for none); body is JSON-encoded unless it is
// a []byte or nil.
func (e *env) call(t *testing.T, token, method, path string, body any) answer {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		r = bytes.NewReader(raw)
	}
	url := path
	if strings.HasPrefix(path, "/") {
		url = e.srv.URL + path
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: raw}
}

// decode decodes an answer's JSON body.
func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
	return v
}

// webexError is Webex's error body.
type webexError struct {
	Message    string                  `json:"message"`
	Errors     []webextest.ErrorDetail `json:"errors"`
	TrackingID string                  `json:"trackingId"`
}

func TestTokens(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	if err := e.sim.AddToken("eve-token", webextest.EveID); err != nil {
		t.Fatal(err)
	}
	const (
		bot     = webextest.DefaultBotToken
		partner = webextest.DefaultPartnerToken
	)
	tests := []struct {
		name   string
		token  string
		method string
		path   string
		want   int
	}{
		{"no token", "", "GET", "/v1/people/me", 401},
		{"unknown token", "nope", "GET", "/v1/people/me", 401},
		{"bot me", bot, "GET", "/v1/people/me", 200},
		{"partner me", partner, "GET", "/v1/people/me", 200},
		{"person me", "eve-token", "GET", "/v1/people/me", 200},
		{"bot wholesale", bot, "GET", "/v1/wholesale/customers", 403},
		{"bot licenses", bot, "GET", "/v1/licenses?orgId=" + webextest.SmallOrgID, 403},
		{"bot organizations", bot, "GET", "/v1/organizations", 403},
		{"bot partner admins", bot, "GET", "/v1/partner/organizations/" + webextest.CustomerOrgID + "/partnerAdmins", 403},
		{"bot people of an org", bot, "GET", "/v1/people?orgId=" + webextest.SmallOrgID, 403},
		{"person wholesale", "eve-token", "GET", "/v1/wholesale/customers", 403},
		{"partner wholesale", partner, "GET", "/v1/wholesale/customers", 200},
		{"partner people of a readable org", partner, "GET", "/v1/people?orgId=" + webextest.SmallOrgID, 200},
		{"partner people of a hidden org", partner, "GET", "/v1/people?orgId=" + webextest.HiddenOrgID, 403},
		{"partner licenses of a hidden org", partner, "GET", "/v1/licenses?orgId=" + webextest.HiddenOrgID, 403},
		{"partner hidden organization", partner, "GET", "/v1/organizations/" + webextest.HiddenOrgID, 403},
		{"partner unmanaged readable organization", partner, "GET", "/v1/organizations/" + webextest.SmallOrgID, 403},
		{"partner managed organization", partner, "GET", "/v1/organizations/" + webextest.CustomerOrgID, 200},
		{"partner unknown organization", partner, "GET", "/v1/organizations/" + webextest.EncodeID("ORGANIZATION", "nope"), 404},
		{"unknown path", bot, "GET", "/v1/nothing", 404},
		{"wrong method", bot, "PATCH", "/v1/messages", 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := e.call(t, tc.token, tc.method, tc.path, nil)
			if got.status != tc.want {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, got.status, got.body, tc.want)
			}
			tid := got.header.Get("Trackingid")
			if !strings.HasPrefix(tid, "WEBEXTEST_") {
				t.Errorf("Trackingid header = %q, want WEBEXTEST_<n>", tid)
			}
			if got.status < 400 {
				return
			}
			body := decode[webexError](t, got)
			if body.Message == "" || len(body.Errors) == 0 || body.Errors[0].Description == "" || body.TrackingID != tid {
				t.Errorf("error body = %s, want Webex's shape with trackingId %s", got.body, tid)
			}
		})
	}
}

func TestCallsAreRecorded(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	if err := e.sim.AddToken("eve-token", webextest.EveID); err != nil {
		t.Fatal(err)
	}
	e.call(t, webextest.DefaultBotToken, "GET", "/v1/people/me", nil)
	e.call(t, webextest.DefaultPartnerToken, "GET", "/v1/licenses?orgId="+webextest.SmallOrgID, nil)
	e.call(t, "eve-token", "GET", "/v1/people/"+webextest.AnnID+"/", nil)
	e.call(t, "bad", "GET", "/v1/people/me", nil)

	type row struct {
		Method, Path, Identity string
		Status                 int
	}
	var got []row
	for _, c := range e.sim.Calls() {
		got = append(got, row{c.Method, c.Path, c.Identity, c.Status})
	}
	want := []row{
		{"GET", "/v1/people/me", webextest.IdentityBot, 200},
		{"GET", "/v1/licenses", webextest.IdentityPartner, 200},
		{"GET", "/v1/people/" + webextest.AnnID, webextest.EveID, 200},
		{"GET", "/v1/people/me", "", 401},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
	}
	if got, want := e.sim.Calls()[1].Query.Get("orgId"), webextest.SmallOrgID; got != want {
		t.Errorf("recorded orgId = %q, want %q", got, want)
	}
	counts := []struct {
		method, path string
		want         int
	}{
		{"GET", "/v1/people/me", 2},
		{"", "/v1/people*", 3},
		{"POST", "/v1/people/me", 0},
		{"", "", 4},
	}
	for _, c := range counts {
		if got := e.sim.CountCalls(c.method, c.path); got != c.want {
			t.Errorf("CountCalls(%q, %q) = %d, want %d", c.method, c.path, got, c.want)
		}
	}
}

func TestWaitFor(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		errc <- e.sim.WaitFor(ctx, func() bool {
			return e.sim.CountCalls("GET", "/v1/people/me") == 2
		})
	}()
	<-started
	e.call(t, webextest.DefaultBotToken, "GET", "/v1/people/me", nil)
	e.call(t, webextest.DefaultBotToken, "GET", "/v1/people/me", nil)
	if err := <-errc; err != nil {
		t.Fatalf("WaitFor = %v, want nil", err)
	}

	short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelShort()
	if err := e.sim.WaitFor(short, func() bool { return false }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor(never) = %v, want context.DeadlineExceeded", err)
	}
}

func TestAccessToken(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	form := func(client, secret, refresh string) []byte {
		return []byte("grant_type=refresh_token&client_id=" + client + "&client_secret=" + secret + "&refresh_token=" + refresh)
	}
	post := func(t *testing.T, body []byte) answer {
		t.Helper()
		resp, err := e.srv.Client().Post(e.srv.URL+"/v1/access_token", "application/x-www-form-urlencoded", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return answer{status: resp.StatusCode, header: resp.Header, body: raw}
	}

	bad := []struct {
		name string
		body []byte
		want int
	}{
		{"wrong secret", form(webextest.DefaultClientID, "wrong", webextest.DefaultRefreshToken), 401},
		{"unknown refresh token", form(webextest.DefaultClientID, webextest.DefaultClientSecret, "stale"), 400},
		{"wrong grant", []byte("grant_type=password"), 400},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(t, tc.body); got.status != tc.want {
				t.Errorf("POST /v1/access_token = %d %s, want %d", got.status, got.body, tc.want)
			}
		})
	}

	a := post(t, form(webextest.DefaultClientID, webextest.DefaultClientSecret, webextest.DefaultRefreshToken))
	if a.status != 200 {
		t.Fatalf("POST /v1/access_token = %d %s, want 200", a.status, a.body)
	}
	tok := decode[struct {
		AccessToken           string `json:"access_token"`
		ExpiresIn             int    `json:"expires_in"`
		RefreshToken          string `json:"refresh_token"`
		RefreshTokenExpiresIn int    `json:"refresh_token_expires_in"`
		TokenType             string `json:"token_type"`
	}](t, a)
	if tok.AccessToken == "" || tok.ExpiresIn <= 0 || tok.RefreshToken != webextest.DefaultRefreshToken || tok.RefreshTokenExpiresIn <= 0 || tok.TokenType != "Bearer" {
		t.Errorf("token answer = %s", a.body)
	}
	if got := e.call(t, tok.AccessToken, "GET", "/v1/wholesale/customers", nil); got.status != 200 {
		t.Errorf("GET wholesale/customers with the new token = %d, want 200", got.status)
	}
	if got := e.sim.Calls()[len(e.sim.Calls())-1].Identity; got != webextest.IdentityPartner {
		t.Errorf("identity of the new token = %q, want %q", got, webextest.IdentityPartner)
	}
	e.clock.Advance(time.Duration(tok.ExpiresIn) * time.Second)
	if got := e.call(t, tok.AccessToken, "GET", "/v1/wholesale/customers", nil); got.status != 401 {
		t.Errorf("GET with an expired token = %d, want 401", got.status)
	}
	if err := e.sim.ExpireToken(webextest.DefaultPartnerToken); err != nil {
		t.Fatal(err)
	}
	if got := e.call(t, webextest.DefaultPartnerToken, "GET", "/v1/people/me", nil); got.status != 401 {
		t.Errorf("GET with a revoked token = %d, want 401", got.status)
	}
}

// TestAccessTokenRotated refreshes with RotateRefreshTokens: each answer has a new refresh
// token, and a refresh token used once is refused from then on, as is one never issued.
func TestAccessTokenRotated(t *testing.T) {
	e := newEnv(t, webextest.Options{RotateRefreshTokens: true})
	refresh := func(t *testing.T, token string) (int, string) {
		t.Helper()
		form := url.Values{"grant_type": {"refresh_token"}, "client_id": {webextest.DefaultClientID},
			"client_secret": {webextest.DefaultClientSecret}, "refresh_token": {token}}
		resp, err := e.srv.Client().PostForm(e.srv.URL+"/v1/access_token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var answer struct {
			RefreshToken string `json:"refresh_token"`
		}
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, answer.RefreshToken
	}
	status, second := refresh(t, webextest.DefaultRefreshToken)
	if status != http.StatusOK || second == "" || second == webextest.DefaultRefreshToken {
		t.Fatalf("the first refresh = %d with refresh token %q, want 200 and a new refresh token", status, second)
	}
	if status, _ := refresh(t, webextest.DefaultRefreshToken); status != http.StatusBadRequest {
		t.Errorf("the replaced refresh token used again = %d, want 400", status)
	}
	status, third := refresh(t, second)
	if status != http.StatusOK || third == second {
		t.Errorf("the refresh with the new refresh token = %d with refresh token %q, want 200 and another new one", status, third)
	}
	if status, _ := refresh(t, second); status != http.StatusBadRequest {
		t.Errorf("the second refresh token used twice = %d, want 400", status)
	}
}

func TestIDs(t *testing.T) {
	tests := []struct {
		id       string
		wantKind string
		wantUUID string
	}{
		{webextest.BotID, "PEOPLE", "cbf27734-ac10-4525-8b66-402800e03d2c"},
		{webextest.AnnID, "PEOPLE", "e0a3a91f-2346-4c13-bc27-ed12b10877a9"},
		{webextest.BobID, "PEOPLE", "f1260ebc-7d56-4b56-b714-dc919b27dbdf"},
		{webextest.EveID, "PEOPLE", "3f0c9931-918c-40bf-9670-c342c6cce996"},
		{webextest.PartnerOrgID, "ORGANIZATION", "f3c95789-ace1-4954-ac5d-6baed2eac902"},
		{webextest.ElsewhereOrgID, "ORGANIZATION", "6caf76a5-7035-48ae-8280-ad3729a6f2e7"},
		{webextest.PartnerSpaceID, "ROOM", "004498f4-b987-47c1-8c9c-26a813678d7a"},
		{webextest.AppID, "APPLICATION", "0ecaf828-e2f7-4553-8fcc-69d79561a0d1"},
		{webextest.SmallOrgID, "ORGANIZATION", "73f80e52-a369-48b5-a441-4c46f147ecf9"},
		{webextest.SmallAdminID, "PEOPLE", "c1af4465-06f1-42fc-a101-0f154a9f2968"},
		{webextest.BigOrgID, "ORGANIZATION", "b459071a-fb8a-4f9e-bf72-c46dca8fbe35"},
		{webextest.BigAdminID, "PEOPLE", "5a3c1fbd-f9da-4bf3-a816-96a68afe2312"},
		{webextest.NoLicenseOrgID, "ORGANIZATION", "135d63cf-1293-424c-802a-2e8f96fc5ce8"},
		{webextest.NoLicenseAdminID, "PEOPLE", "a4ea3938-d429-4c52-8109-15b0875b0b21"},
		{webextest.TrialOrgID, "ORGANIZATION", "bdfaef42-8c7d-4431-b331-dab129ea3a7b"},
		{webextest.TrialAdminID, "PEOPLE", "4260ce86-ca96-4d78-ba56-9ee452a5d423"},
		{webextest.CustomerOrgID, "ORGANIZATION", "44e767f7-43bb-4898-ac59-157196f119be"},
		{webextest.CustomerAdminID, "PEOPLE", "23cc390c-9354-40e3-8e1f-39485d23d1f3"},
		{webextest.ExistingCustomerID, "ENTERPRISE", "4d1dd7de-07c1-437b-95d0-c57b811008b7"},
		{webextest.ErrorOrgID, "ORGANIZATION", "06f3179f-ec43-4ae0-a6e1-44cf0b4152c8"},
		{webextest.ErrorAdminID, "PEOPLE", "c78165de-8458-420c-88ba-29b1f8223c08"},
		{webextest.HiddenOrgID, "ORGANIZATION", "7aa1caa0-66de-4e96-8867-119277832f1d"},
		{webextest.HiddenAdminID, "PEOPLE", "83f11b2d-9bbc-4685-bcc3-323c673940a8"},
	}
	for _, tc := range tests {
		if got, want := tc.id, webextest.EncodeID(tc.wantKind, tc.wantUUID); got != want {
			t.Errorf("id = %s, want EncodeID(%s, %s) = %s", got, tc.wantKind, tc.wantUUID, want)
		}
		kind, uuid, err := webextest.DecodeID(tc.id)
		if err != nil || kind != tc.wantKind || uuid != tc.wantUUID {
			t.Errorf("DecodeID(%s) = %q, %q, %v, want %q, %q", tc.id, kind, uuid, err, tc.wantKind, tc.wantUUID)
		}
		if strings.ContainsAny(tc.id, "+/=") {
			t.Errorf("id %s contains + / or =", tc.id)
		}
	}
}
