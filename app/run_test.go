package app_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// app.Run, the lifecycle serve uses: the bot learns its identity, the server serves, the
// webhooks are registered (or the websocket connects), and everything stops in order when
// the context ends.

func TestServe(t *testing.T) {
	sim := webextest.New(webextest.Options{})
	webexSrv := httptest.NewServer(sim)
	t.Cleanup(webexSrv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"WEBEX_API_URL":       webexSrv.URL + "/v1",
		"WEBEX_BOT_TOKEN":     webextest.DefaultBotToken,
		"WEBEX_PARTNER_TOKEN": webextest.DefaultPartnerToken,
		"WEBHOOK_SECRET":      "s3cret-for-tests",
		"PUBLIC_URL":          "http://" + ln.Addr().String(),
		"DB_PATH":             filepath.Join(t.TempDir(), "attachbot.db"),
		"PARTNER_ADMINS":      webextest.AnnEmail,
		"TEMPLATES":           "Standard=cHJvdmlzaW9uaW5nSWQtc3RhbmRhcmQ",
	}
	if transport == apptest.Websocket {
		delete(env, "WEBHOOK_SECRET")
		delete(env, "PUBLIC_URL")
		env["EVENTS"], env["WEBEX_U2C_URL"] = "websocket", webexSrv.URL+"/u2c/api/v1"
	}
	cfg, err := app.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var stderr apptest.SyncBuffer
	go func() {
		done <- app.Run(ctx, cfg, ln, slog.New(slog.NewJSONHandler(&stderr, nil)))
	}()

	wait := func(what string, cond func() bool) {
		t.Helper()
		waitCtx, stop := context.WithTimeout(t.Context(), 20*time.Second)
		defer stop()
		if err := sim.WaitFor(waitCtx, cond); err != nil {
			t.Fatalf("waiting for %s: %v\n%s", what, err, stderr.String())
		}
	}
	if transport == apptest.Websocket {
		wait("the websocket", func() bool { return sim.Connections() == 1 && len(sim.Devices()) == 1 })
	} else {
		wait("the webhooks", func() bool { return len(sim.Webhooks()) == 2 })
	}
	cmd, err := sim.Say(t.Context(), webextest.AnnID, webextest.PartnerSpaceID, "help")
	if err != nil {
		t.Fatal(err)
	}
	wait("the reply to help", func() bool {
		for _, m := range sim.Messages(webextest.PartnerSpaceID) {
			if m.PersonID == webextest.BotID && m.ParentID == cmd.ID && strings.Contains(m.Markdown, "`attach") {
				return true
			}
		}
		return false
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve = %v, want nil after the context ends", err)
		}
	case <-time.After(time.Minute): // a bound on a hang, not a wait for work
		t.Fatalf("serve did not stop within a minute of its context ending\n%s", stderr.String())
	}
	for _, secret := range []string{webextest.DefaultBotToken, webextest.DefaultPartnerToken, "s3cret-for-tests"} {
		if strings.Contains(stderr.String(), secret) {
			t.Errorf("the log shows a secret %q", secret)
		}
	}
	if !strings.Contains(stderr.String(), `"msg":"attachbot stopped"`) {
		t.Errorf("the log does not say attachbot stopped:\n%s", stderr.String())
	}
	if transport == apptest.Websocket {
		if n, hooks := len(sim.Devices()), len(sim.Webhooks()); n != 0 || hooks != 0 {
			t.Errorf("after serve stopped over the websocket: %d devices (want 0, deleted) and %d webhooks (want 0)", n, hooks)
		}
	}
}

// TestRunServesOnlyOnceTheBotKnowsItself queues a request on the listener before Run starts,
// with a bot token Webex refuses: the bot cannot learn who it is, so Run must fail without
// ever serving, and the queued request gets no HTTP answer.
func TestRunServesOnlyOnceTheBotKnowsItself(t *testing.T) {
	sim := webextest.New(webextest.Options{})
	webexSrv := httptest.NewServer(sim)
	t.Cleanup(webexSrv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The kernel accepts the connection into the listener's backlog; only Serve answers it.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: attachbot\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	templates, err := app.ParseTemplates(webextest.Templates)
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{
		WebexAPIURL:   webexSrv.URL + "/v1",
		BotToken:      "not-a-token-webex-knows",
		PartnerToken:  webextest.DefaultPartnerToken,
		WebhookSecret: "s3cret-for-tests",
		DBPath:        filepath.Join(t.TempDir(), "attachbot.db"),
		Templates:     templates,
		PollSchedule:  "@every 1m",
	}
	var stderr apptest.SyncBuffer
	if err := app.Run(t.Context(), cfg, ln, slog.New(slog.NewJSONHandler(&stderr, nil))); err == nil {
		t.Fatal("Run with a bot token Webex refuses succeeded")
	}
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
		resp.Body.Close()
		t.Errorf("the request queued before Run was answered %s before the bot knew who it is", resp.Status)
	}
	if got := sim.CountCalls(http.MethodPost, "/v1/webhooks"); got != 0 {
		t.Errorf("%d webhooks registered by a bot that does not know who it is, want 0", got)
	}
}
