package bottest

import (
	"context"
	"path/filepath"
	"testing"

	"attachbot/store"
)

// NewStore returns the real store (bbolt) in a file of t.TempDir(), closed when the test
// ends after a check of its consistency.
func NewStore(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "attachbot.db"), store.Options{})
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Check(context.Background()); err != nil {
			t.Errorf("the store is inconsistent: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close the store: %v", err)
		}
	})
	return db
}
