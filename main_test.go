package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeRefusesShortWebhookSecret(t *testing.T) {
	env := map[string]string{
		"WEBEX_BOT_TOKEN":     "bot-token",
		"WEBEX_PARTNER_TOKEN": "partner-token",
		"WEBHOOK_SECRET":      "short",
		"PARTNER_ADMINS":      "ann@partner.example",
		"TEMPLATES":           "Standard=cHJvdmlzaW9uaW5nLXN0YW5kYXJk",
		"LISTEN_ADDR":         "127.0.0.1:0",
		"DB_PATH":             filepath.Join(t.TempDir(), "attachbot.db"),
	}
	var stdout, stderr strings.Builder
	err := run(t.Context(), []string{"attachbot", "serve"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "WEBHOOK_SECRET is 5 bytes long") {
		t.Errorf("serve with a 5-byte WEBHOOK_SECRET = %v, want it refused, naming the variable", err)
	}
	if _, statErr := os.Stat(env["DB_PATH"]); !errors.Is(statErr, fs.ErrNotExist) {
		t.Errorf("serve created the store before refusing the configuration (stat: %v)", statErr)
	}
}

func TestRunRefusesUnknownCommand(t *testing.T) {
	var stdout, stderr strings.Builder
	err := run(t.Context(), []string{"attachbot", "srve"}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `unknown command "srve"`) {
		t.Errorf("run srve = %v, want an error naming the unknown command", err)
	}
}
