package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// MarkSandbox marks the file as the sandbox's. The sandbox marks each store it creates and
// refuses a file without the mark, so that it never writes a real attachbot store.
func (db *DB) MarkSandbox(ctx context.Context) error {
	return db.update(ctx, fmt.Sprintf("mark store %s as the sandbox's", db.path), func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySandbox, []byte{})
	})
}

// IsSandbox reports whether the file carries the sandbox's mark (MarkSandbox).
func (db *DB) IsSandbox(ctx context.Context) (bool, error) {
	marked := false
	err := db.view(ctx, fmt.Sprintf("read the sandbox mark of store %s", db.path), func(tx *bolt.Tx) error {
		marked = has(tx.Bucket(bucketMeta), keySandbox)
		return nil
	})
	if err != nil {
		return false, err
	}
	return marked, nil
}
