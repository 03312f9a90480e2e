package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"attachbot/store/postgres/pgtest"
)

var server *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &server)) }

// TestDatabasesAreFreshAndSeparate writes a table in one test database and finds it in
// neither the next one nor the server's default database.
func TestDatabasesAreFreshAndSeparate(t *testing.T) {
	ctx := context.Background()
	first, second := server.Database(t), server.Database(t)
	if first == second {
		t.Fatalf("two databases with one URL %s", first)
	}
	conn := connect(t, first)
	if _, err := conn.Exec(ctx, "CREATE TABLE marker (id int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	err := connect(t, second).QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'").Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("the second database has %d tables named marker (%v), want 0", n, err)
	}
}

// connect connects to url, until the test ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestWithoutPostgresTheTestSkips asks a Server that has no PostgreSQL (as on a machine
// without the binaries) for a database, with RequireEnv unset: the test skips, saying why.
func TestWithoutPostgresTheTestSkips(t *testing.T) {
	t.Setenv(pgtest.RequireEnv, "")
	var none *pgtest.Server
	skipped := false
	t.Run("without PostgreSQL", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		none.Database(t)
		t.Error("Database returned a database without a server")
	})
	if !skipped {
		t.Error("the test without PostgreSQL did not skip")
	}
}

// TestCPUCountsTheBackends runs a query that keeps its backend busy, on a connection that
// stays open: the cluster's CPU time grows by it.
func TestCPUCountsTheBackends(t *testing.T) {
	conn := connect(t, server.Database(t))
	before, err := server.CPU()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM generate_series(1, 2000000)").Scan(&n); err != nil {
		t.Fatal(err)
	}
	after, err := server.CPU()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("the cluster's CPU time went from %s to %s over a query that counted %d rows, want it to grow", before, after, n)
	}
}
