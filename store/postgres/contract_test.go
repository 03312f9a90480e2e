package postgres_test

import (
	"context"
	"os"
	"testing"

	"attachbot/bot"
	"attachbot/store/postgres"
	"attachbot/store/postgres/pgtest"
	"attachbot/store/storetest"
)

// server is the package's throwaway PostgreSQL (pgtest).
var server *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &server)) }

// open opens a store on url and closes it when the test ends.
func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestContract runs the store's contract on PostgreSQL. A restart drops the pool's
// connections without any cleanup and opens a new pool on the same database, as the next
// process would: the claims the first took stay in their rows until their leases run out.
func TestContract(t *testing.T) {
	urls := map[bot.Store]string{}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) bot.Store {
			url := server.Database(t)
			db := open(t, url)
			urls[db] = url
			return db
		},
		Restart: func(t *testing.T, s bot.Store) bot.Store {
			if err := s.(*postgres.DB).Close(); err != nil {
				t.Fatalf("close before the restart: %v", err)
			}
			db := open(t, urls[s])
			urls[db] = urls[s]
			return db
		},
	})
}
