package app

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"attachbot/bot"
)

// validEnv is a complete configuration; tests change one variable at a time.
func validEnv() map[string]string {
	return map[string]string{
		"WEBEX_BOT_TOKEN":     "bot-token",
		"WEBEX_PARTNER_TOKEN": "partner-token",
		"WEBHOOK_SECRET":      "s3cret-of-16-byt",
		"PARTNER_ADMINS":      "ann@partner.example,@ops.partner.example",
		"TEMPLATES":           "Standard=cHJvdmlzaW9uaW5nLXN0YW5kYXJk, Calling=cHJvdmlzaW9uaW5nLWNhbGxpbmc",
	}
}

func getenvFrom(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	got, err := Load(getenvFrom(validEnv()))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		WebexAPIURL: "https://webexapis.com/v1", BotToken: "bot-token", PartnerToken: "partner-token",
		WebhookSecret: "s3cret-of-16-byt", ListenAddr: ":8080", DBPath: "attachbot.db", PollSchedule: "@every 1m",
		Templates: []bot.Template{
			{Name: "Standard", ProvisioningID: "cHJvdmlzaW9uaW5nLXN0YW5kYXJk"},
			{Name: "Calling", ProvisioningID: "cHJvdmlzaW9uaW5nLWNhbGxpbmc"},
		},
		FirstPoll: 5 * time.Second, ApprovalTTL: 7 * 24 * time.Hour, StuckAfter: 2 * time.Hour,
		Events: EventsWebhook, SendConcurrency: 16,
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Config{}, "PartnerAdmins")); diff != "" {
		t.Errorf("loadConfig (-want +got):\n%s", diff)
	}
	if !got.PartnerAdmins.Allows("someone@ops.partner.example") {
		t.Error("PARTNER_ADMINS @domain entry not honoured")
	}
}

func TestLoadConfigFirstPoll(t *testing.T) {
	for value, want := range map[string]time.Duration{"": 5 * time.Second, "1s": time.Second, " 30s ": 30 * time.Second, "15m": 15 * time.Minute} {
		env := validEnv()
		env["FIRST_POLL"] = value
		got, err := Load(getenvFrom(env))
		if err != nil || got.FirstPoll != want {
			t.Errorf("FIRST_POLL=%q: %s, %v; want %s", value, got.FirstPoll, err, want)
		}
	}
}

func TestLoadConfigSendConcurrency(t *testing.T) {
	for value, want := range map[string]int{"": 16, "1": 1, " 64 ": 64, "256": 256} {
		env := validEnv()
		env["SEND_CONCURRENCY"] = value
		got, err := Load(getenvFrom(env))
		if err != nil || got.SendConcurrency != want {
			t.Errorf("SEND_CONCURRENCY=%q: %d, %v; want %d", value, got.SendConcurrency, err, want)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, value string
		wantInError string
	}{
		{"WEBEX_BOT_TOKEN", "", "WEBEX_BOT_TOKEN is required"},
		{"WEBEX_PARTNER_TOKEN", " ", "WEBEX_PARTNER_TOKEN is required"},
		{"WEBHOOK_SECRET", "s3cret-of-15-by", "WEBHOOK_SECRET is 15 bytes long; use at least 16 random bytes"},
		{"PARTNER_ADMINS", "", "PARTNER_ADMINS is required"},
		{"PARTNER_ADMINS", "ann", `PARTNER_ADMINS: "ann" is neither`},
		{"PARTNER_ADMINS", "ann@partner.example,\u212aim@partner.example", "PARTNER_ADMINS: \"\u212aim@partner.example\" is not plain ASCII (it has U+212A)"},
		{"TEMPLATES", "", "TEMPLATES: at least one"},
		{"TEMPLATES", "Standard", `TEMPLATES: "Standard" is not name=provisioningId`},
		{"TEMPLATES", "a=1,A=2", `TEMPLATES: template "A" is named twice`},
		{"WEBEX_API_URL", "webexapis.com", `WEBEX_API_URL="webexapis.com" is not an http(s) URL`},
		{"PUBLIC_URL", "ftp://x", `PUBLIC_URL="ftp://x" is not an http(s) URL`},
		{"LISTEN_ADDR", "8080", `LISTEN_ADDR="8080" is not a host:port`},
		{"POLL_SCHEDULE", "every minute", `POLL_SCHEDULE="every minute" is not a cron spec`},
		{"FIRST_POLL", "5", `FIRST_POLL="5" is not a duration from 1s to 15m0s, such as 5s or 30s`},
		{"FIRST_POLL", "soon", `FIRST_POLL="soon" is not a duration from 1s to 15m0s`},
		{"FIRST_POLL", "0s", `FIRST_POLL="0s" is not a duration from 1s to 15m0s`},
		{"FIRST_POLL", "-5s", `FIRST_POLL="-5s" is not a duration from 1s to 15m0s`},
		{"FIRST_POLL", "500ms", `FIRST_POLL="500ms" is not a duration from 1s to 15m0s`},
		{"FIRST_POLL", "16m", `FIRST_POLL="16m" is not a duration from 1s to 15m0s`},
		{"SEND_CONCURRENCY", "0", `SEND_CONCURRENCY="0" is not a whole number from 1 to 256, such as 16`},
		{"SEND_CONCURRENCY", "many", `SEND_CONCURRENCY="many" is not a whole number from 1 to 256`},
		{"SEND_CONCURRENCY", "257", `SEND_CONCURRENCY="257" is not a whole number from 1 to 256`},
		{"APPROVAL_TTL", "7d", `APPROVAL_TTL="7d" is not a positive duration`},
		{"STUCK_AFTER", "-1h", `STUCK_AFTER="-1h" is not a positive duration`},
		{"ADMIN_SPACES", "ops-space", `ADMIN_SPACES: "ops-space" is not a Webex room id`},
		{"ADMIN_SPACES", "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hYmM", `ADMIN_SPACES: "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hYmM" is not a Webex room id`},
	}
	for _, tt := range tests {
		env := validEnv()
		env[tt.name] = tt.value
		_, err := Load(getenvFrom(env))
		if err == nil || !strings.Contains(err.Error(), tt.wantInError) {
			t.Errorf("%s=%q: error %v, want one containing %q", tt.name, tt.value, err, tt.wantInError)
		}
		if err != nil && (strings.Contains(err.Error(), "bot-token") || strings.Contains(err.Error(), "s3cret")) {
			t.Errorf("%s=%q: error %q reveals a token", tt.name, tt.value, err)
		}
	}
}

func TestLoadConfigDatabase(t *testing.T) {
	const url = "postgres://attachbot:pw-s3cret@db:5432/attachbot"
	tests := []struct {
		name      string
		env       map[string]string
		want      DatabaseConfig
		wantInErr string
	}{
		{"bbolt", nil, DatabaseConfig{}, ""},
		{"postgres with defaults", map[string]string{"DATABASE_URL": url},
			DatabaseConfig{URL: url, MaxConns: 20, StatementTimeout: 30 * time.Second}, ""},
		{"postgres tuned", map[string]string{"DATABASE_URL": " " + url + " ", "DATABASE_MAX_CONNS": "5", "DATABASE_STATEMENT_TIMEOUT": "2s"},
			DatabaseConfig{URL: url, MaxConns: 5, StatementTimeout: 2 * time.Second}, ""},
		{"libpq key=value", map[string]string{"DATABASE_URL": "host=/run/postgresql dbname=attachbot"},
			DatabaseConfig{URL: "host=/run/postgresql dbname=attachbot", MaxConns: 20, StatementTimeout: 30 * time.Second}, ""},
		{"another scheme", map[string]string{"DATABASE_URL": "mysql://root:pw-s3cret@db/attachbot"}, DatabaseConfig{},
			"DATABASE_URL is a mysql:// URL; use a postgres:// URL"},
		{"with DB_PATH, which migrate-store reads", map[string]string{"DATABASE_URL": url, "DB_PATH": "/data/attachbot.db"},
			DatabaseConfig{URL: url, MaxConns: 20, StatementTimeout: 30 * time.Second}, ""},
		{"pool size zero", map[string]string{"DATABASE_URL": url, "DATABASE_MAX_CONNS": "0"}, DatabaseConfig{},
			`DATABASE_MAX_CONNS="0" is not a whole number from 1 to 1000`},
		{"timeout without unit", map[string]string{"DATABASE_URL": url, "DATABASE_STATEMENT_TIMEOUT": "30"}, DatabaseConfig{},
			`DATABASE_STATEMENT_TIMEOUT="30" is not a positive duration`},
		{"pool size without a database", map[string]string{"DATABASE_MAX_CONNS": "5"}, DatabaseConfig{},
			"DATABASE_MAX_CONNS is for the PostgreSQL store: set DATABASE_URL too"},
	}
	for _, tt := range tests {
		env := validEnv()
		for k, v := range tt.env {
			env[k] = v
		}
		got, err := Load(getenvFrom(env))
		if tt.wantInErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s: error %v, want one containing %q (and no password)", tt.name, err, tt.wantInErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got.Database); diff != "" {
			t.Errorf("%s: Database (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestLoadConfigAdminSpaces(t *testing.T) {
	env := validEnv()
	env["ADMIN_SPACES"] = " Y2lzY29zcGFyazovL3VzL1JPT00vYWJj , Y2lzY29zcGFyazovL3VzL1JPT00vZGVm,"
	got, err := Load(getenvFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Y2lzY29zcGFyazovL3VzL1JPT00vYWJj", "Y2lzY29zcGFyazovL3VzL1JPT00vZGVm"}
	if diff := cmp.Diff(want, got.AdminSpaces); diff != "" {
		t.Errorf("ADMIN_SPACES (-want +got):\n%s", diff)
	}
}

// TestLoadConfigEvents checks how EVENTS chooses the transport, the variables of each mode,
// and that contradictory settings are refused with every problem named at once.
func TestLoadConfigEvents(t *testing.T) {
	const secret, public = "s3cret-of-16-byt", "https://attachbot.partner.example"
	type want struct {
		events, u2c string
		unhealthy   time.Duration
		errPrefixes []string
	}
	tests := []struct {
		name string
		set  map[string]string // changes to validEnv; "" unsets
		want want
	}{
		{"secret alone is webhook, as before the websocket", nil, want{events: EventsWebhook}},
		{"public URL is webhook", map[string]string{"PUBLIC_URL": public}, want{events: EventsWebhook}},
		{"neither is websocket", map[string]string{"WEBHOOK_SECRET": ""},
			want{events: EventsWebsocket, u2c: DefaultU2CURL, unhealthy: DefaultWebsocketUnhealthyAfter}},
		{"websocket with its variables", map[string]string{"WEBHOOK_SECRET": "", "EVENTS": " WebSocket ",
			"WEBEX_U2C_URL": "http://127.0.0.1:9/u2c/api/v1", "WEBSOCKET_UNHEALTHY_AFTER": "90s"},
			want{events: EventsWebsocket, u2c: "http://127.0.0.1:9/u2c/api/v1", unhealthy: 90 * time.Second}},
		{"webhook needs the secret", map[string]string{"EVENTS": "webhook", "WEBHOOK_SECRET": "", "PUBLIC_URL": public},
			want{events: EventsWebhook, errPrefixes: []string{"WEBHOOK_SECRET is required with EVENTS=webhook"}}},
		{"websocket refuses the webhook's variables", map[string]string{"EVENTS": "websocket", "PUBLIC_URL": public},
			want{events: EventsWebsocket, errPrefixes: []string{"PUBLIC_URL is for EVENTS=webhook", "WEBHOOK_SECRET is for EVENTS=webhook"}}},
		{"webhook refuses the websocket's variables", map[string]string{"WEBEX_U2C_URL": DefaultU2CURL, "WEBSOCKET_UNHEALTHY_AFTER": "5m"},
			want{events: EventsWebhook, errPrefixes: []string{"WEBEX_U2C_URL is for EVENTS=websocket", "WEBSOCKET_UNHEALTHY_AFTER is for EVENTS=websocket"}}},
		{"bad websocket values", map[string]string{"WEBHOOK_SECRET": "", "WEBEX_U2C_URL": "u2c.wbx2.com", "WEBSOCKET_UNHEALTHY_AFTER": "5"},
			want{events: EventsWebsocket, errPrefixes: []string{`WEBEX_U2C_URL="u2c.wbx2.com" is not an http(s) URL`, `WEBSOCKET_UNHEALTHY_AFTER="5" is not a positive duration`}}},
		{"unknown mode", map[string]string{"EVENTS": "polling"},
			want{events: "polling", errPrefixes: []string{`EVENTS="polling" is neither webhook`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := validEnv()
			for k, v := range tt.set {
				env[k] = v
			}
			got, err := Load(getenvFrom(env))
			var lines []string
			if err != nil {
				lines = strings.Split(err.Error(), "\n")
			}
			if len(lines) != len(tt.want.errPrefixes) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.want.errPrefixes), err)
			}
			slices.Sort(lines)
			wantPrefixes := slices.Sorted(slices.Values(tt.want.errPrefixes))
			for i, want := range wantPrefixes {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("problem %q, want one starting with %q", lines[i], want)
				}
			}
			if got.Events != tt.want.events {
				t.Errorf("Events = %q, want %q", got.Events, tt.want.events)
			}
			if err == nil && (got.U2CURL != tt.want.u2c || got.WebsocketUnhealthyAfter != tt.want.unhealthy) {
				t.Errorf("U2CURL, WebsocketUnhealthyAfter = %q, %s; want %q, %s", got.U2CURL, got.WebsocketUnhealthyAfter, tt.want.u2c, tt.want.unhealthy)
			}
		})
	}
}

// TestLoadConfigListsEveryProblem checks that serve names every missing or bad variable at
// once, one a line, instead of stopping at the first.
func TestLoadConfigListsEveryProblem(t *testing.T) {
	env := map[string]string{"EVENTS": "webhook", "LISTEN_ADDR": "8080", "APPROVAL_TTL": "7d", "WEBEX_CLIENT_ID": "id"}
	_, err := Load(getenvFrom(env))
	if err == nil {
		t.Fatal("loadConfig of an almost empty environment succeeded")
	}
	got := strings.Split(err.Error(), "\n")
	wantPrefixes := []string{
		"WEBEX_BOT_TOKEN is required", "WEBEX_PARTNER_TOKEN is required", "WEBHOOK_SECRET is required",
		`LISTEN_ADDR="8080"`, "PARTNER_ADMINS is required", "TEMPLATES: at least one",
		`APPROVAL_TTL="7d"`, "WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET and WEBEX_REFRESH_TOKEN go together",
	}
	if len(got) != len(wantPrefixes) {
		t.Fatalf("the error has %d lines, want one per problem (%d):\n%s", len(got), len(wantPrefixes), err)
	}
	for i, want := range wantPrefixes {
		if !strings.HasPrefix(got[i], want) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, got[i], want)
		}
	}
}

// TestExampleEnvFile checks the repository's attachbot.env: it names every variable the
// configuration reads (commented or not), and as it is, placeholders and all, it is a
// configuration loadConfig accepts, so that a copy fails only where a placeholder was left.
func TestExampleEnvFile(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "attachbot.env"))
	if err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	read := regexp.MustCompile(`getenv(?:\(|, )"([A-Z_]+)"`).FindAllStringSubmatch(string(source), -1)
	if len(read) < 10 {
		t.Fatalf("found %d variables in config.go; the pattern no longer matches how it reads them", len(read))
	}
	env := map[string]string{}
	named := map[string]bool{}
	for line := range strings.SplitSeq(string(example), "\n") {
		line = strings.TrimSpace(line)
		commented := strings.HasPrefix(line, "#")
		key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), "=")
		if !ok || key == "" || strings.ToUpper(key) != key || strings.ContainsAny(key, " .") {
			continue
		}
		named[key] = true
		if !commented {
			env[key] = value
			if !strings.Contains(value, "REPLACE") {
				t.Errorf("%s=%s is set in the example without an obvious placeholder", key, value)
			}
		}
	}
	for _, m := range read {
		if !named[m[1]] {
			t.Errorf("attachbot.env does not mention %s", m[1])
		}
	}
	if _, err := Load(getenvFrom(env)); err != nil {
		t.Errorf("the example configuration is refused:\n%v", err)
	}
}
