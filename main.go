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
	_ "time/tzdata" // time zones of calling locations are checked even where the OS has none

	"attachbot/app"
	"attachbot/sandbox"
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
		return serve(ctx, getenv, stderr)
	case "sandbox":
		return runSandbox(ctx, getenv, stdout, stderr)
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

// serve runs the bot until ctx ends (see app.Run).
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := app.Load(getenv)
	if err != nil {
		return err
	}
	// Listen before the webhooks are registered, so that Webex's first delivery finds us.
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (LISTEN_ADDR): %w", cfg.ListenAddr, err)
	}
	return app.Run(ctx, cfg, ln, slog.New(slog.NewJSONHandler(stderr, nil)))
}

// runSandbox runs the sandbox until ctx ends (see sandbox.Run).
func runSandbox(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	cfg, err := sandbox.Load(getenv)
	if err != nil {
		return err
	}
	return sandbox.Run(ctx, cfg, stdout, logger)
}
