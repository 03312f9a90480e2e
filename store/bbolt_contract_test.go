package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"attachbot/bot"
	"attachbot/store"
	"attachbot/store/storetest"
)

// contractFile is one contract test's bbolt file and the store open on it now.
type contractFile struct {
	path string
	db   *store.DB
}

// TestContract runs the queues' contract on bbolt. A restart closes the file and opens it
// again, as the next process would: what was committed is all there is (a bbolt
// transaction is all or nothing on disk, so a kill inside one is a kill before or after it).
func TestContract(t *testing.T) {
	files := map[bot.Store]*contractFile{}
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) bot.Store {
			path := filepath.Join(t.TempDir(), "attachbot.db")
			db, err := store.Open(path, store.Options{})
			if err != nil {
				t.Fatalf("Open(%q) = %v", path, err)
			}
			f := &contractFile{path: path, db: db}
			files[db] = f
			t.Cleanup(func() {
				// Whatever the test did, the file's indexes agree with what they index.
				if err := f.db.Check(context.Background()); err != nil {
					t.Errorf("Check at the end of the test = %v", err)
				}
				mustClose(t, f.db)
			})
			return db
		},
		Restart: func(t *testing.T, s bot.Store) bot.Store {
			f := files[s]
			if err := f.db.Close(); err != nil {
				t.Fatalf("close before the restart: %v", err)
			}
			db, err := store.Open(f.path, store.Options{})
			if err != nil {
				t.Fatalf("Open(%q) after the restart = %v", f.path, err)
			}
			f.db = db
			files[db] = f
			return db
		},
	})
}
