package store

import (
	"strconv"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// SetSchemaVersion writes v as the schema version of the closed file at path, as a newer
// or older attachbot would have.
func SetSchemaVersion(path string, v int) error {
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte(strconv.Itoa(v)))
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	return err
}

// Unindex removes r from the state index, breaking an invariant Check verifies.
func Unindex(db *DB, r bot.Request) error {
	return db.bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRequestsByState).Delete(stateKey(r.State, r.ID))
	})
}
