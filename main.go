// Command attachbot is a Webex bot that lets Webex for Wholesale partner admins attach
// wholesale services to existing customer organizations, following Cisco's rules, with the
// customer admin's approval by card when the rules require it.
//
// Usage:
//
//	attachbot [serve]   run the bot (configured by environment variables; see README.md)
//	attachbot sandbox   run the bot against a simulated Webex, with a page to try it in a browser
//	attachbot migrate-store --from DB_PATH --to DATABASE_URL
//	                    copy a bbolt store into PostgreSQL (docs/replicas.md)
package main

import (
	"context"
	"flag"
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
	case "migrate-store":
		return migrateStore(ctx, args[2:], getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, "usage: attachbot [serve|sandbox|migrate-store --from DB_PATH --to DATABASE_URL]\n\n"+
			"serve (the default) runs the bot; its configuration is read from the environment (see README.md).\n"+
			"sandbox runs the bot against a simulated Webex and prints the URL of a page to try it in a browser\n"+
			"(LISTEN_ADDR, default 127.0.0.1:8080; SANDBOX_DB, default a file in a temporary folder; DB_PATH is ignored:\n"+
			"the sandbox opens only a store it created).\n"+
			"migrate-store copies the bbolt file --from (default: DB_PATH) into the PostgreSQL database --to\n"+
			"(default: DATABASE_URL), adding only what it lacks, and prints the counts it verified.")
		return nil
	default:
		return fmt.Errorf("unknown command %q: use serve, sandbox or migrate-store (attachbot help)", cmd)
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

// migrateStore runs `attachbot migrate-store` (see app.MigrateStore).
func migrateStore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("migrate-store", flag.ContinueOnError)
	flags.SetOutput(stderr)
	from := flags.String("from", getenv("DB_PATH"), "the bbolt file to copy (default: DB_PATH)")
	to := flags.String("to", getenv("DATABASE_URL"), "the PostgreSQL URL to copy it into (default: DATABASE_URL)")
	if err := flags.Parse(args); err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("migrate-store: unexpected %q: it takes only --from and --to", flags.Args())
	}
	return app.MigrateStore(ctx, *from, *to, stdout, slog.New(slog.NewJSONHandler(stderr, nil)))
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
