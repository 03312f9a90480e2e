package sandbox

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"attachbot/app"
)

// The sandbox runs attachbot exactly as serve wires it (the same handler on the same signed
// /webhook path, or the same websocket transport with SANDBOX_EVENTS=websocket, the same
// store, the same status job), but against the in-process simulated
// Webex of package webextest, and serves a page that looks like a Webex client: the partner
// space, the customer admin's direct space with the bot, the seeded scenarios and the
// simulated provisioning outcome. The page lives in static/ and is embedded in the binary.

// sandboxFiles is the page: plain HTML, CSS and JavaScript, with no build step.
//
//go:embed static
var sandboxFiles embed.FS

// The sandbox's timings: the status job runs every two seconds and polls a request two
// seconds after each change, at most ten seconds apart, so that outcomes show within seconds.
const (
	sandboxPollSchedule = "@every 2s"
	sandboxFirstPoll    = 2 * time.Second
	sandboxMaxPoll      = 10 * time.Second
	// sandboxStuckAfter is short so that the stuck warning can be seen too.
	sandboxStuckAfter = 2 * time.Minute
	// sandboxLongPoll is how long GET /sandbox/api/state?since= waits for a change.
	sandboxLongPoll = 25 * time.Second
	// sandboxMaxBody is the most a sandbox API request body may hold.
	sandboxMaxBody = 1 << 20
	// sandboxMaxDelay is the longest simulated provisioning the outcome control accepts.
	sandboxMaxDelay = time.Hour
)

// outcomeSeeded is the outcome control's value that puts back each organization's seeded
// outcome.
const outcomeSeeded = "seeded"

// Config is the sandbox's configuration: where it listens and where its store is.
type Config struct {
	// ListenAddr is LISTEN_ADDR (default 127.0.0.1:8080).
	ListenAddr string
	// DBPath is SANDBOX_DB: empty means a file in a temporary folder, removed at the end.
	DBPath string
	// IgnoredDBPath is set when DB_PATH, serve's store, was set: the sandbox never opens a
	// store it did not create, so Run warns that it ignores it.
	IgnoredDBPath bool
	// Events is SANDBOX_EVENTS: how the simulated Webex's events reach the bot, webhook
	// (the default) or websocket, so that either transport can be seen at work.
	Events string
}

// Load reads the sandbox's configuration: LISTEN_ADDR, SANDBOX_DB, SANDBOX_EVENTS, and
// DB_PATH only to warn that it is ignored.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		ListenAddr:    strings.TrimSpace(getenv("LISTEN_ADDR")),
		DBPath:        strings.TrimSpace(getenv("SANDBOX_DB")),
		IgnoredDBPath: strings.TrimSpace(getenv("DB_PATH")) != "",
		Events:        strings.ToLower(strings.TrimSpace(getenv("SANDBOX_EVENTS"))),
	}
	if c.ListenAddr == "" {
		c.ListenAddr = sandboxDefaultListenAddr
	}
	if c.Events == "" {
		c.Events = app.EventsWebhook
	}
	var errs []error
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR=%q is not a host:port address such as %s", c.ListenAddr, sandboxDefaultListenAddr))
	}
	if c.Events != app.EventsWebhook && c.Events != app.EventsWebsocket {
		errs = append(errs, fmt.Errorf("SANDBOX_EVENTS=%q is neither webhook nor websocket", c.Events))
	}
	if len(errs) != 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// Run runs the sandbox until ctx ends, then shuts down in order: its HTTP server,
// attachbot (jobs, workers, store), the simulated Webex's server. It prints the page's URL
// on stdout.
func Run(ctx context.Context, cfg Config, stdout io.Writer, logger *slog.Logger) error {
	if cfg.IgnoredDBPath {
		logger.Warn("the sandbox ignores DB_PATH, the bot's real store; SANDBOX_DB names the sandbox's own")
	}
	addr, dbPath := cfg.ListenAddr, cfg.DBPath
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "attachbot-sandbox-")
		if err != nil {
			return fmt.Errorf("make a temporary folder for the store: %w", err)
		}
		defer func() {
			if err := os.RemoveAll(dir); err != nil {
				logger.Warn("remove the sandbox's temporary folder", "dir", dir, "err", err)
			}
		}()
		dbPath = filepath.Join(dir, "attachbot.db")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (LISTEN_ADDR): %w", addr, err)
	}
	pageURL, publicURL := sandboxURLs(ln.Addr())
	env, err := newSandboxEnv(ctx, sandboxOptions{PublicURL: publicURL, DBPath: dbPath, Logger: logger, Events: cfg.Events})
	if err != nil {
		ln.Close()
		return err
	}
	front := app.StartServer(ln, env.handler, logger, sandboxLongPoll+30*time.Second)
	front.RegisterOnShutdown(env.stopWaiting)
	logger.Info("attachbot sandbox listening", "addr", ln.Addr().String(), "db", dbPath, "events", cfg.Events)
	fmt.Fprintf(stdout, "attachbot sandbox: open %s\n", pageURL)

	httpErr := app.ShutdownAfter(ctx, front, env.close, logger)
	logger.Info("attachbot sandbox stopped")
	return httpErr
}

// sandboxURLs returns the URL a person opens and the URL the simulated Webex delivers
// webhooks to, for a listener's address. A listener on every interface (":8080") is reached
// on the loopback address.
func sandboxURLs(addr net.Addr) (page, public string) {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/", "http://" + addr.String()
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return "http://localhost:" + port + "/", "http://" + net.JoinHostPort("127.0.0.1", port)
	}
	hostport := net.JoinHostPort(host, port)
	return "http://" + hostport + "/", "http://" + hostport
}
