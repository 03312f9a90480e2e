package store

import (
	"encoding/json"
	"fmt"
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

// Raw returns the bytes stored under key in the named bucket, as they are on disk.
func Raw(db *DB, bucket string, key []byte) ([]byte, error) {
	var raw []byte
	err := db.bdb.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("no bucket %s", bucket)
		}
		v := b.Get(key)
		if v == nil {
			return fmt.Errorf("no key %q in %s", key, bucket)
		}
		raw = append([]byte(nil), v...)
		return nil
	})
	return raw, err
}

// SeqKey is the key of the outbox entry with sequence number seq.
func SeqKey(seq uint64) []byte { return seqKey(seq) }

// PutRaw writes value under key in the named bucket of the closed file at path, as an older
// attachbot would have.
func PutRaw(path, bucket string, key, value []byte) error {
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		return b.Put(key, value)
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	return err
}

// DeleteRaw deletes key from the named bucket of the closed file at path.
func DeleteRaw(path, bucket string, key []byte) error {
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	err = bdb.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucket)).Delete(key) })
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	return err
}

// DropBucket deletes a bucket of the closed file at path, as a version that had no such
// bucket left the file.
func DropBucket(path, name string) error {
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	err = bdb.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(name)) })
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	return err
}

// LaneHash is the name of lane in the inbox's lane index.
func LaneHash(lane string) []byte { return laneHash(lane) }

// EventRecordJSON returns the binary inbox record raw as the JSON of its eventRecord: the
// fields it holds, by name, for tests to read.
func EventRecordJSON(raw []byte) (string, error) {
	r, err := decodeBinaryRecord(raw)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(r)
	return string(b), err
}

// EmptyPollValues empties the value of every entry of the poll index of the closed file at
// path, as a version that kept no values there wrote them.
func EmptyPollValues(path string) error {
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		index := tx.Bucket(bucketPollsByTime)
		var keys [][]byte
		if err := index.ForEach(func(k, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
			return err
		}
		for _, k := range keys {
			if err := index.Put(k, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	return err
}

// PollIndexValue returns the value of request id's entry in the poll index, and false when it
// has no entry.
func PollIndexValue(db *DB, id string) ([]byte, bool, error) {
	var (
		value []byte
		found bool
	)
	err := db.bdb.View(func(tx *bolt.Tx) error {
		key := pollIndexKey(tx, id)
		if found = key != nil; found {
			value = append([]byte(nil), tx.Bucket(bucketPollsByTime).Get(key)...)
		}
		return nil
	})
	return value, found, err
}

// SetPollIndexValue replaces the value of request id's entry in the poll index, breaking an
// invariant Check verifies.
func SetPollIndexValue(db *DB, id string, value []byte) error {
	return db.bdb.Update(func(tx *bolt.Tx) error {
		key := pollIndexKey(tx, id)
		if key == nil {
			return fmt.Errorf("request %s is not in the poll index", id)
		}
		return tx.Bucket(bucketPollsByTime).Put(key, value)
	})
}

// pollIndexKey returns the key of request id's entry in the poll index, or nil.
func pollIndexKey(tx *bolt.Tx, id string) []byte {
	var key []byte
	_ = tx.Bucket(bucketPollsByTime).ForEach(func(k, _ []byte) error {
		if len(k) >= pollKeyPrefix && string(k[pollKeyPrefix:]) == id {
			key = append([]byte(nil), k...)
		}
		return nil
	})
	return key
}

// PollValue is pollValue: r's value in the poll index.
func PollValue(r bot.Request) []byte { return pollValue(r) }
