package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"attachbot/bot"
	"attachbot/store"
	"attachbot/store/postgres"
)

// MigrateStore copies the state of the bbolt store at from (DB_PATH) into the PostgreSQL
// database at to (DATABASE_URL), creating its schema if need be, and prints to out, for each
// kind of record, how many the file holds, how many were added, and how many of them
// PostgreSQL holds after. It adds only what PostgreSQL lacks, so running it twice gives the
// same result as once; it fails when PostgreSQL does not hold every record of the file. The
// file is opened read-only, and not while attachbot runs on it: stop attachbot first.
func MigrateStore(ctx context.Context, from, to string, out io.Writer, logger *slog.Logger) error {
	if from == "" || to == "" {
		return errors.New("migrate-store needs --from, the bbolt file (DB_PATH), and --to, the PostgreSQL URL (DATABASE_URL)")
	}
	src, err := store.Open(from, store.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("migrate-store: %w (stop the attachbot that uses it first)", err)
	}
	defer src.Close()
	snap, err := src.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	dst, err := postgres.Open(ctx, to, postgres.Options{Clock: bot.SystemClock{}, Logger: logger})
	if err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	defer dst.Close()
	counts, err := dst.Import(ctx, snap)
	if err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	fmt.Fprintf(out, "copied %s into PostgreSQL:\n", from)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "records\tin the file\tadded now\tin PostgreSQL\t")
	var missing []error
	for _, c := range counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", c.Kind, c.InSnapshot, c.Added, c.Found)
		if c.Found != c.InSnapshot {
			missing = append(missing, fmt.Errorf("%s: PostgreSQL holds %d of the file's %d", c.Kind, c.Found, c.InSnapshot))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("migrate-store: print the counts: %w", err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("migrate-store: verification failed: %w", errors.Join(missing...))
	}
	fmt.Fprintln(out, "verified: PostgreSQL holds every record of the file. Start attachbot with DATABASE_URL.")
	return nil
}
