package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// MarkSandbox marks the file as the sandbox's. The sandbox marks each store it creates and
// refuses a file without the mark, so that it never writes a real attachbot store.
func (db *DB) MarkSandbox(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := db.bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySandbox, []byte{})
	})
	if err != nil {
		return fmt.Errorf("mark store %s as the sandbox's: %w", db.path, err)
	}
	return nil
}

// IsSandbox reports whether the file carries the sandbox's mark (MarkSandbox).
func (db *DB) IsSandbox(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	marked := false
	err := db.bdb.View(func(tx *bolt.Tx) error {
		marked = has(tx.Bucket(bucketMeta), keySandbox)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read the sandbox mark of store %s: %w", db.path, err)
	}
	return marked, nil
}
