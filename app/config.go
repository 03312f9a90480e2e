package app

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"attachbot/bot"

	"github.com/robfig/cron/v3"
)

// config is attachbot's configuration, read from the environment by run.
type Config struct {
	WebexAPIURL   string
	BotToken      string
	PartnerToken  string
	WebhookSecret string
	PublicURL     string
	ListenAddr    string
	DBPath        string
	// Database is where the state is kept when DATABASE_URL is set: PostgreSQL, shared by
	// any number of replicas; DBPath is then not used (but by migrate-store, which copies
	// it). Without it, the bbolt file at DBPath.
	Database      DatabaseConfig
	PartnerAdmins bot.Allowlist
	Templates     []bot.Template
	PollSchedule  string
	FirstPoll     time.Duration // FIRST_POLL: see bot.Config.FirstPoll
	ApprovalTTL   time.Duration
	StuckAfter    time.Duration
	PartnerName   string
	// SendConcurrency is SEND_CONCURRENCY: how many messages are sent at once (see
	// bot.Config.SendConcurrency).
	SendConcurrency int
	// AdminSpaces are room ids where request commands may act on any space's requests.
	AdminSpaces []string
	// Events is how Webex's events reach the bot: EventsWebhook or EventsWebsocket.
	Events string
	// U2CURL is the base of Webex's service catalog, where the websocket transport finds the
	// device service (WEBEX_U2C_URL; websocket mode only).
	U2CURL string
	// WebsocketUnhealthyAfter is how long the websocket may stay disconnected before /healthz
	// answers 503 (WEBSOCKET_UNHEALTHY_AFTER; websocket mode only).
	WebsocketUnhealthyAfter time.Duration
	// OAuth is the partner integration's client and refresh token, for renewing the partner
	// token; all three variables or none.
	OAuth struct{ ClientID, ClientSecret, RefreshToken string }
}

// DatabaseConfig is the PostgreSQL store's configuration (DATABASE_URL and its variables).
type DatabaseConfig struct {
	// URL is DATABASE_URL: a postgres:// URL or a libpq key=value string; empty for bbolt.
	URL string
	// MaxConns is DATABASE_MAX_CONNS: the most connections one replica opens.
	MaxConns int32
	// StatementTimeout is DATABASE_STATEMENT_TIMEOUT: a statement running longer is ended.
	StatementTimeout time.Duration
}

// The defaults of DATABASE_MAX_CONNS and DATABASE_STATEMENT_TIMEOUT.
const (
	// DefaultDatabaseMaxConns lets the workers and SEND_CONCURRENCY's senders (16 by
	// default) write at once, with room for intake and the jobs.
	DefaultDatabaseMaxConns = 20
	// DefaultDatabaseStatementTimeout ends a statement stuck behind a lock or a sick server
	// long before Webex gives up on a delivery.
	DefaultDatabaseStatementTimeout = 30 * time.Second
	// maxDatabaseConns bounds DATABASE_MAX_CONNS (PostgreSQL's default max_connections is 100).
	maxDatabaseConns = 1000
)

// The values of EVENTS.
const (
	// EventsWebhook has Webex deliver events to PUBLIC_URL/webhook, signed with WEBHOOK_SECRET.
	EventsWebhook = "webhook"
	// EventsWebsocket has the bot receive events over Webex's websocket: no public address.
	EventsWebsocket = "websocket"
)

// DefaultU2CURL is the default WEBEX_U2C_URL: Webex's service catalog.
const DefaultU2CURL = "https://u2c.wbx2.com/u2c/api/v1"

// DefaultWebsocketUnhealthyAfter is the default WEBSOCKET_UNHEALTHY_AFTER: longer than the
// transport's longest backoff (4 min), so that one slow reconnection is not reported.
const DefaultWebsocketUnhealthyAfter = 5 * time.Minute

// minWebhookSecret is the shortest WEBHOOK_SECRET accepted, in bytes.
const minWebhookSecret = 16

// loadConfig reads the configuration. Every missing or malformed value is reported at once:
// the error joins one error per variable (errors.Join prints one a line), each naming the
// variable and what is expected; tokens and secrets never appear in it.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		WebexAPIURL:   orDefault(getenv("WEBEX_API_URL"), "https://webexapis.com/v1"),
		BotToken:      strings.TrimSpace(getenv("WEBEX_BOT_TOKEN")),
		PartnerToken:  strings.TrimSpace(getenv("WEBEX_PARTNER_TOKEN")),
		WebhookSecret: getenv("WEBHOOK_SECRET"),
		PublicURL:     strings.TrimRight(strings.TrimSpace(getenv("PUBLIC_URL")), "/"),
		ListenAddr:    orDefault(getenv("LISTEN_ADDR"), ":8080"),
		DBPath:        orDefault(getenv("DB_PATH"), "attachbot.db"),
		PollSchedule:  orDefault(getenv("POLL_SCHEDULE"), "@every 1m"),
		PartnerName:   strings.TrimSpace(getenv("PARTNER_NAME")),
	}
	var errs []error
	if err := checkURL("WEBEX_API_URL", c.WebexAPIURL); err != nil {
		errs = append(errs, err)
	}
	for _, v := range []struct{ name, value string }{
		{"WEBEX_BOT_TOKEN", c.BotToken}, {"WEBEX_PARTNER_TOKEN", c.PartnerToken},
	} {
		if v.value == "" {
			errs = append(errs, fmt.Errorf("%s is required (see the README's configuration table)", v.name))
		}
	}
	errs = append(errs, loadEvents(getenv, &c)...)
	if c.PublicURL != "" {
		if err := checkURL("PUBLIC_URL", c.PublicURL); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, loadDatabase(getenv, &c)...)
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR=%q is not a host:port address such as :8080", c.ListenAddr))
	}
	var err error
	if admins := getenv("PARTNER_ADMINS"); strings.TrimSpace(admins) == "" {
		errs = append(errs, fmt.Errorf("PARTNER_ADMINS is required: comma-separated emails and @domain entries allowed to command the bot"))
	} else if c.PartnerAdmins, err = bot.ParseAllowlist(admins); err != nil {
		errs = append(errs, fmt.Errorf("PARTNER_ADMINS: %w", err))
	}
	if c.Templates, err = ParseTemplates(getenv("TEMPLATES")); err != nil {
		errs = append(errs, fmt.Errorf("TEMPLATES: %w", err))
	}
	if _, err := cron.ParseStandard(c.PollSchedule); err != nil {
		errs = append(errs, fmt.Errorf("POLL_SCHEDULE=%q is not a cron spec such as \"@every 1m\" or \"*/5 * * * *\": %w", c.PollSchedule, err))
	}
	if c.FirstPoll, err = parseFirstPoll(getenv("FIRST_POLL")); err != nil {
		errs = append(errs, err)
	}
	if c.ApprovalTTL, err = parseDuration(getenv, "APPROVAL_TTL", bot.DefaultApprovalTTL); err != nil {
		errs = append(errs, err)
	}
	if c.StuckAfter, err = parseDuration(getenv, "STUCK_AFTER", bot.DefaultStuckAfter); err != nil {
		errs = append(errs, err)
	}
	if c.SendConcurrency, err = parseSendConcurrency(getenv("SEND_CONCURRENCY")); err != nil {
		errs = append(errs, err)
	}
	if c.AdminSpaces, err = parseRoomIDs(getenv("ADMIN_SPACES")); err != nil {
		errs = append(errs, fmt.Errorf("ADMIN_SPACES: %w", err))
	}
	c.OAuth.ClientID = strings.TrimSpace(getenv("WEBEX_CLIENT_ID"))
	c.OAuth.ClientSecret = strings.TrimSpace(getenv("WEBEX_CLIENT_SECRET"))
	c.OAuth.RefreshToken = strings.TrimSpace(getenv("WEBEX_REFRESH_TOKEN"))
	set := 0
	for _, v := range []string{c.OAuth.ClientID, c.OAuth.ClientSecret, c.OAuth.RefreshToken} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		errs = append(errs, fmt.Errorf("WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET and WEBEX_REFRESH_TOKEN go together: set all three to refresh the partner token, or none"))
	}
	return c, errors.Join(errs...)
}

// loadEvents reads EVENTS and the variables of its mode, and returns every problem. Without
// EVENTS, the mode is webhook when PUBLIC_URL or WEBHOOK_SECRET is set (the configuration of
// every attachbot before the websocket existed), and websocket otherwise.
func loadEvents(getenv func(string) string, c *Config) []error {
	var errs []error
	c.Events = strings.ToLower(strings.TrimSpace(getenv("EVENTS")))
	if c.Events == "" {
		c.Events = EventsWebsocket
		if c.PublicURL != "" || c.WebhookSecret != "" {
			c.Events = EventsWebhook
		}
	}
	u2c := strings.TrimSpace(getenv("WEBEX_U2C_URL"))
	unhealthy := strings.TrimSpace(getenv("WEBSOCKET_UNHEALTHY_AFTER"))
	switch c.Events {
	case EventsWebhook:
		if c.WebhookSecret == "" {
			errs = append(errs, fmt.Errorf("WEBHOOK_SECRET is required with EVENTS=webhook (see the README's configuration table)"))
		} else if len(c.WebhookSecret) < minWebhookSecret {
			errs = append(errs, fmt.Errorf("WEBHOOK_SECRET is %d bytes long; use at least %d random bytes (such as the output of `openssl rand -hex 16`): a short secret can be guessed, and with it anyone can forge Webex's deliveries", len(c.WebhookSecret), minWebhookSecret))
		}
		for name, v := range map[string]string{"WEBEX_U2C_URL": u2c, "WEBSOCKET_UNHEALTHY_AFTER": unhealthy} {
			if v != "" {
				errs = append(errs, fmt.Errorf("%s is for EVENTS=websocket; unset it, or set EVENTS=websocket (and unset PUBLIC_URL and WEBHOOK_SECRET)", name))
			}
		}
	case EventsWebsocket:
		if c.PublicURL != "" {
			errs = append(errs, fmt.Errorf("PUBLIC_URL is for EVENTS=webhook: over the websocket Webex needs no address of the bot; unset PUBLIC_URL, or set EVENTS=webhook"))
		}
		if c.WebhookSecret != "" {
			errs = append(errs, fmt.Errorf("WEBHOOK_SECRET is for EVENTS=webhook: over the websocket nothing is signed; unset WEBHOOK_SECRET, or set EVENTS=webhook"))
		}
		c.U2CURL = orDefault(u2c, DefaultU2CURL)
		if err := checkURL("WEBEX_U2C_URL", c.U2CURL); err != nil {
			errs = append(errs, err)
		}
		var err error
		if c.WebsocketUnhealthyAfter, err = parseDuration(getenv, "WEBSOCKET_UNHEALTHY_AFTER", DefaultWebsocketUnhealthyAfter); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("EVENTS=%q is neither webhook (Webex delivers events to PUBLIC_URL/webhook) nor websocket (the bot receives them over Webex's websocket, with no public address)", c.Events))
	}
	return errs
}

// loadDatabase reads DATABASE_URL and its variables, and returns every problem.
func loadDatabase(getenv func(string) string, c *Config) []error {
	var errs []error
	c.Database.URL = strings.TrimSpace(getenv("DATABASE_URL"))
	conns := strings.TrimSpace(getenv("DATABASE_MAX_CONNS"))
	timeout := strings.TrimSpace(getenv("DATABASE_STATEMENT_TIMEOUT"))
	if c.Database.URL == "" {
		for name, v := range map[string]string{"DATABASE_MAX_CONNS": conns, "DATABASE_STATEMENT_TIMEOUT": timeout} {
			if v != "" {
				errs = append(errs, fmt.Errorf("%s is for the PostgreSQL store: set DATABASE_URL too, or unset %s", name, name))
			}
		}
		return errs
	}
	if scheme, _, ok := strings.Cut(c.Database.URL, "://"); ok && scheme != "postgres" && scheme != "postgresql" {
		// The rest of the URL may hold a password: it is not repeated.
		errs = append(errs, fmt.Errorf("DATABASE_URL is a %s:// URL; use a postgres:// URL such as postgres://attachbot:password@db:5432/attachbot", scheme))
	}
	c.Database.MaxConns = DefaultDatabaseMaxConns
	if conns != "" {
		n, err := strconv.Atoi(conns)
		if err != nil || n < 1 || n > maxDatabaseConns {
			errs = append(errs, fmt.Errorf("DATABASE_MAX_CONNS=%q is not a whole number from 1 to %d, such as %d", conns, maxDatabaseConns, DefaultDatabaseMaxConns))
		} else {
			c.Database.MaxConns = int32(n)
		}
	}
	var err error
	if c.Database.StatementTimeout, err = parseDuration(getenv, "DATABASE_STATEMENT_TIMEOUT", DefaultDatabaseStatementTimeout); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// ParseTemplates reads comma-separated name=provisioningId pairs, as TEMPLATES holds them.
func ParseTemplates(s string) ([]bot.Template, error) {
	var ts []bot.Template
	seen := map[string]bool{}
	for _, entry := range strings.Split(s, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		name, id, ok := strings.Cut(entry, "=")
		name, id = strings.TrimSpace(name), strings.TrimSpace(id)
		if !ok || name == "" || id == "" {
			return nil, fmt.Errorf("%q is not name=provisioningId", entry)
		}
		if seen[strings.ToLower(name)] {
			return nil, fmt.Errorf("template %q is named twice", name)
		}
		seen[strings.ToLower(name)] = true
		ts = append(ts, bot.Template{Name: name, ProvisioningID: id})
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("at least one name=provisioningId is required (Partner Hub > Onboarding templates)")
	}
	return ts, nil
}

// parseRoomIDs reads comma-separated Webex room ids: base64 of a ciscospark://…/ROOM/… URI,
// as the ids Webex hands out are.
func parseRoomIDs(s string) ([]string, error) {
	var ids []string
	for _, entry := range strings.Split(s, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		if !isRoomID(entry) {
			return nil, fmt.Errorf("%q is not a Webex room id (the id of a space, as GET /rooms lists it)", entry)
		}
		ids = append(ids, entry)
	}
	return ids, nil
}

// isRoomID reports whether s is a Webex room id.
func isRoomID(s string) bool {
	raw := strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if decoded, err := enc.DecodeString(raw); err == nil {
			parts := strings.Split(string(decoded), "/")
			return len(parts) == 5 && parts[0] == "ciscospark:" && parts[3] == "ROOM" && parts[4] != ""
		}
	}
	return false
}

// parseDuration reads an optional duration such as 168h or 30m.
func parseDuration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q is not a positive duration such as 168h or 30m", name, v)
	}
	return d, nil
}

// The bounds of FIRST_POLL: more often than every second would only earn 429s, and less often
// than the backoff's cap would make no sense.
const (
	minFirstPoll = time.Second
	maxFirstPoll = 15 * time.Minute
)

// parseFirstPoll reads FIRST_POLL, bot.DefaultFirstPoll when empty.
func parseFirstPoll(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return bot.DefaultFirstPoll, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < minFirstPoll || d > maxFirstPoll {
		return 0, fmt.Errorf("FIRST_POLL=%q is not a duration from %s to %s, such as 5s or 30s", v, minFirstPoll, maxFirstPoll)
	}
	return d, nil
}

// maxSendConcurrency bounds SEND_CONCURRENCY: more messages at once than this only earns
// 429s, which hold every message of the bot's client.
const maxSendConcurrency = 256

// parseSendConcurrency reads SEND_CONCURRENCY, bot.DefaultSendConcurrency when empty.
func parseSendConcurrency(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return bot.DefaultSendConcurrency, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxSendConcurrency {
		return 0, fmt.Errorf("SEND_CONCURRENCY=%q is not a whole number from 1 to %d, such as 16", v, maxSendConcurrency)
	}
	return n, nil
}

func checkURL(name, value string) error {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s=%q is not an http(s) URL", name, value)
	}
	return nil
}

func orDefault(s, def string) string {
	if s = strings.TrimSpace(s); s == "" {
		return def
	}
	return s
}
