package app

import (
	"os"
	"path/filepath"
	"regexp"
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

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, value string
		wantInError string
	}{
		{"WEBEX_BOT_TOKEN", "", "WEBEX_BOT_TOKEN is required"},
		{"WEBEX_PARTNER_TOKEN", " ", "WEBEX_PARTNER_TOKEN is required"},
		{"WEBHOOK_SECRET", "", "WEBHOOK_SECRET is required"},
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

// TestLoadConfigListsEveryProblem checks that serve names every missing or bad variable at
// once, one a line, instead of stopping at the first.
func TestLoadConfigListsEveryProblem(t *testing.T) {
	env := map[string]string{"LISTEN_ADDR": "8080", "APPROVAL_TTL": "7d", "WEBEX_CLIENT_ID": "id"}
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
