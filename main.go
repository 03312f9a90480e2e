// Command attachbot is a Webex bot that lets Webex for Wholesale partner admins attach
// wholesale services to existing customer organizations, following Cisco's rules, with the
// customer admin's approval by card when the rules require it.
//
// Usage:
//
//	attachbot [serve]   run the bot (configured by environment variables; see README.md)
//	attachbot sandbox   run the bot against a simulated Webex, with a page to try it in a browser
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // time zones of calling locations are checked even where the OS has none
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "attachbot:", err)
		os.Exit(1)
	}
}

// run is attachbot: main with the operating system passed in, so that tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 1 {
		cmd = args[1]
	}
	switch cmd {
	case "serve":
		return serve(ctx, getenv, stdout, stderr)
	case "sandbox":
		return sandbox(ctx, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, "usage: attachbot [serve|sandbox]\n\n"+
			"serve (the default) runs the bot; its configuration is read from the environment (see README.md).\n"+
			"sandbox runs the bot against a simulated Webex and prints the URL of a page to try it in a browser\n"+
			"(LISTEN_ADDR, default 127.0.0.1:8080; SANDBOX_DB, default a file in a temporary folder; DB_PATH is ignored:\n"+
			"the sandbox opens only a store it created).")
		return nil
	default:
		return fmt.Errorf("unknown command %q: use serve or sandbox (attachbot help)", cmd)
	}
}

// serve runs the bot until ctx ends, then shuts down in order: the HTTP server, the jobs,
// the workers, the store.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// Listen before the webhooks are registered, so that Webex's first delivery finds us.
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (LISTEN_ADDR): %w", cfg.ListenAddr, err)
	}
	return serveOn(ctx, cfg, ln, slog.New(slog.NewJSONHandler(stderr, nil)))
}

// serveOn is serve on a listener it owns and closes.
func serveOn(ctx context.Context, cfg config, ln net.Listener, logger *slog.Logger) error {
	a, err := newApp(cfg, wiring{}, logger)
	if err != nil {
		ln.Close()
		return err
	}
	front := startServer(ln, a.handler, logger, 30*time.Second)
	logger.Info("attachbot listening", "addr", ln.Addr().String(), "webhook", cfg.PublicURL+"/webhook")
	if err := a.start(ctx); err != nil {
		stopNow, cancel := context.WithCancel(ctx)
		cancel()
		_ = shutdownAfter(stopNow, front, a.close, logger)
		return err
	}
	httpErr := shutdownAfter(ctx, front, a.close, logger)
	logger.Info("attachbot stopped")
	return httpErr
}
