// Package pgtest runs a throwaway PostgreSQL for tests: Debian's initdb and pg_ctl (from the
// postgresql package, under /usr/lib/postgresql/*/bin) in a temporary folder, listening on a
// Unix socket only, started once per test binary from TestMain, with a fresh database for
// each test.
//
// Tests skip, saying why, when no PostgreSQL binaries exist, unless the environment variable
// ATTACHBOT_REQUIRE_POSTGRES is set (CI sets it after installing postgresql): then they fail,
// so that CI never skips them silently. A server that exists but fails to start always fails
// the tests.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv is the environment variable that turns a missing PostgreSQL into a failure
// instead of a skip.
const RequireEnv = "ATTACHBOT_REQUIRE_POSTGRES"

// Server is a running throwaway PostgreSQL cluster. Its zero value is no server: Database
// skips (or fails, see RequireEnv) the test that asks it for a database.
type Server struct {
	bin       string // the folder of initdb and pg_ctl
	dir       string // everything the cluster owns; removed by Stop
	socketDir string
	missing   string // why there is no server, when there is none
	runAs     *osUser
	databases atomic.Int64
}

// Main starts a server (when PostgreSQL is installed), runs the tests and stops the server;
// it returns m.Run's exit code, or 1 when the server could not start. Call it from TestMain
// as os.Exit(pgtest.Main(m, &server)), with server a package variable of the tests.
func Main(m *testing.M, server **Server) int {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	*server = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Start starts a cluster. With no PostgreSQL binaries installed it returns a Server that
// has none, and no error.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return &Server{missing: err.Error()}, nil
	}
	s := &Server{bin: bin}
	if err := s.start(); err != nil {
		if s.dir != "" {
			_ = os.RemoveAll(s.dir)
		}
		return nil, err
	}
	return s, nil
}

// Available reports whether s runs a server: whether PostgreSQL is installed.
func (s *Server) Available() bool { return s != nil && s.bin != "" }

// Database creates a new, empty database for t and returns its connection string (a
// postgres:// URL with the socket folder as host). Without a server it skips t, or fails it
// when RequireEnv is set.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	if s == nil || s.bin == "" {
		why := "no PostgreSQL"
		if s != nil && s.missing != "" {
			why = s.missing
		}
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%s, and %s is set: install Debian's postgresql (.ci/run does)", why, RequireEnv)
		}
		t.Skipf("%s (install Debian's postgresql to run this test; CI does)", why)
	}
	name := fmt.Sprintf("test_%d", s.databases.Add(1))
	s.admin(t, "CREATE DATABASE "+name)
	return s.URL(name)
}

// URL returns the connection string of database name on s.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres:///%s?host=%s&user=%s&sslmode=disable", name, s.socketDir, superuser)
}

// Cut makes the database of url unreachable: it refuses new connections, and the server ends
// every connection to it, as a database that went down would (or a replica whose connections
// are cut). Restore undoes it.
func (s *Server) Cut(t testing.TB, url string) {
	t.Helper()
	name := databaseOf(t, url)
	s.admin(t, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS false", name))
	s.admin(t, fmt.Sprintf("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'", name))
}

// Restore lets the database of url be connected to again, after Cut.
func (s *Server) Restore(t testing.TB, url string) {
	t.Helper()
	s.admin(t, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS true", databaseOf(t, url)))
}

// admin runs sql as the superuser, on the server's default database.
func (s *Server) admin(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// databaseOf returns the name of the database of a URL that Database returned.
func databaseOf(t testing.TB, url string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return cfg.Database
}

// CutApplication ends every connection opened with application_name name (one replica's,
// when each names itself), as if that process's network went away.
func (s *Server) CutApplication(t testing.TB, name string) {
	t.Helper()
	s.admin(t, fmt.Sprintf("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '%s'", name))
}
