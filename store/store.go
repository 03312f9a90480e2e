// Package store keeps attachbot's durable state in one bbolt file: the event inbox, the
// outbox, attach requests, digest subscriptions and OAuth tokens. DB implements bot.Store;
// every method is atomic: one bbolt transaction, which a write shares with the writes of
// other callers committed together with it (group commit, commit.go).
//
// A bbolt file belongs to one process at a time: Open takes an exclusive lock on it, so
// attachbot cannot run as several replicas sharing a file. The layout of the file (every
// bucket and fixed key, and its version) is declared in schema.go.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"attachbot/bot"
)

// DefaultLockTimeout is how long Open waits for another process to release the file when
// Options.LockTimeout is zero.
const DefaultLockTimeout = time.Second

// Options tune Open. The zero value is what production uses.
type Options struct {
	// LockTimeout is how long Open waits for another process to release its lock on the
	// file before it gives up; zero or less means DefaultLockTimeout.
	LockTimeout time.Duration
	// ReadOnly opens an existing file for reading only, without changing it: to look at a
	// file before using it (the sandbox checks its mark so). Every write, and Ping, fails.
	ReadOnly bool
}

// DB is attachbot's state in a bbolt file. It is safe for concurrent use; its write
// transactions are group-committed (commit.go). Open one with Open
// and release it with Close.
type DB struct {
	bdb    *bolt.DB
	path   string
	writes *committer // runs every write transaction, by group commit (commit.go)
	claims claims     // the claims with leases, this process's (leases.go)
}

var _ bot.Store = (*DB)(nil)

// Open opens the bbolt file at path, creating it if need be, and makes sure it has every
// bucket this package uses; with opts.ReadOnly it only opens an existing attachbot store and
// checks its version. It fails after opts.LockTimeout if another process has the file open
// (for writing, when opts.ReadOnly), and returns a *SchemaVersionError if a newer attachbot
// wrote it.
func Open(path string, opts Options) (*DB, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  timeout,
		ReadOnly: opts.ReadOnly,
		// As etcd runs bbolt: the freelist is not written at each commit (one page and its
		// share of the fsync less per transaction) but rebuilt at open by a scan of the
		// file's pages, and kept as a hash map (allocation without a linear search). See
		// docs/engine.md, "The store's group commit".
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open store: database %s is locked by another process (gave up after %s): %w", path, timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	prepare := bdb.Update
	if opts.ReadOnly {
		prepare = bdb.View
	}
	if err := prepare(func(tx *bolt.Tx) error { return initSchema(tx, path) }); err != nil {
		// The schema error says what is wrong; a failing Close would only hide it.
		_ = bdb.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &DB{bdb: bdb, path: path, writes: newCommitter(bdb), claims: newClaims()}, nil
}

// initSchema checks the file's schema version, creates the buckets that are missing and
// records the version. In a read-only transaction it only checks that the file has this
// package's layout.
func initSchema(tx *bolt.Tx, path string) error {
	if !tx.Writable() {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || meta.Get(keySchemaVersion) == nil {
			return fmt.Errorf("%s is no attachbot store: it has no schema version", path)
		}
		_, err := checkSchemaVersion(meta, path)
		return err
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	found, err := checkSchemaVersion(meta, path)
	if err != nil {
		return err
	}
	for _, name := range buckets() {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	if found != 0 {
		if err := migrate(tx, found); err != nil {
			return err
		}
	}
	if err := meta.Put(keySchemaVersion, []byte(strconv.Itoa(SchemaVersion))); err != nil {
		return fmt.Errorf("write schema version: %w", err)
	}
	return nil
}

// checkSchemaVersion checks the schema version recorded in meta, if any, and returns it (0
// for a new file). A version older than SchemaVersion is migrated by initSchema when the file
// is opened for writing; opened read-only, it is only read.
func checkSchemaVersion(meta *bolt.Bucket, path string) (int, error) {
	v := meta.Get(keySchemaVersion)
	if v == nil {
		return 0, nil
	}
	found, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("read schema version %q: %w", v, err)
	}
	if found > SchemaVersion {
		return 0, &SchemaVersionError{Path: path, Version: found, Supported: SchemaVersion}
	}
	if _, ok := migrations[found]; found < SchemaVersion && !ok {
		return 0, fmt.Errorf("schema version %d is unknown (this attachbot knows %d)", found, SchemaVersion)
	}
	return found, nil
}

// SchemaVersionError is returned by Open for a file that a newer attachbot wrote, in a layout
// this one does not know.
type SchemaVersionError struct {
	Path      string // the file
	Version   int    // the file's schema version
	Supported int    // the newest version this attachbot knows, SchemaVersion
}

// Error implements error.
func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("database %s has schema version %d, newer than the version %d this attachbot knows: run a newer attachbot, or restore a backup",
		e.Path, e.Version, e.Supported)
}

// Close commits the writes under way, then releases the file. Nothing may use db
// afterwards: a write submitted after Close fails.
func (db *DB) Close() error {
	db.writes.close()
	if err := db.bdb.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", db.path, err)
	}
	return nil
}

// Ping reports whether the file can be written, for health checks: a store that can still
// be read but no longer written (a full disk, a file system remounted read-only) loses
// every event it takes. It is one small write transaction, which counts the probes in
// keyHealthProbes.
func (db *DB) Ping(ctx context.Context) error {
	return db.update(ctx, fmt.Sprintf("ping store %s", db.path), func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("bucket %s is missing", bucketMeta)
		}
		var probes uint64
		if v := meta.Get(keyHealthProbes); len(v) == 8 {
			probes = binary.BigEndian.Uint64(v)
		}
		if err := meta.Put(keyHealthProbes, seqKey(probes+1)); err != nil {
			return fmt.Errorf("write the health probe: %w", err)
		}
		return nil
	})
}

// Check verifies the whole file: bbolt's own consistency check (pages, freelist) and this
// package's invariants (every index entry matches what it indexes). It reads everything, so
// it is for tests and operators, not for health checks.
func (db *DB) Check(ctx context.Context) error {
	return db.view(ctx, fmt.Sprintf("check store %s", db.path), func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		errs = append(errs, checkOutbox(tx), checkLanes(tx), checkEventLanes(tx), checkRequests(tx))
		return errors.Join(errs...)
	})
}

// CommitCounts is what the store's group commit (commit.go) has done since Open: the write
// transactions it committed, and the callers' writes they held. Writes / Commits is the mean
// number of writes per transaction, each transaction costing bbolt two fsyncs.
type CommitCounts struct {
	Commits uint64
	Writes  uint64
}

// CommitCounts returns what the store's group commit has done since Open; benchmarks read
// it to tell how many writes each fsync carried.
func (db *DB) CommitCounts() CommitCounts {
	return CommitCounts{Commits: db.writes.commits.Load(), Writes: db.writes.writes.Load()}
}

// update runs fn in a read-write transaction, unless ctx has ended (its error is returned
// as is); fn's error, or the commit's, is wrapped with what the transaction does. The
// transaction is shared with the writes of other callers that gathered meanwhile (group
// commit, commit.go), and update returns after it committed. fn may run more than once, each
// time against the same state: it must set what it reports afresh at each run.
func (db *DB) update(ctx context.Context, what string, fn func(tx *bolt.Tx) error) error {
	return inTx(ctx, db.writes.write, what, func(tx *bolt.Tx) error {
		fillAppendOnly(tx)
		return fn(tx)
	})
}

// view is update for a read-only transaction.
func (db *DB) view(ctx context.Context, what string, fn func(tx *bolt.Tx) error) error {
	return inTx(ctx, db.bdb.View, what, fn)
}

// inTx runs fn in a transaction of kind (the committer's write or bbolt's View) unless ctx
// has ended.
func inTx(ctx context.Context, kind func(func(*bolt.Tx) error) error, what string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := kind(fn); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// putJSON stores v as JSON under key.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

// getJSON decodes the value under key into v, which then shares no memory with bbolt. It
// reports false if there is no such key.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	return true, decodeJSON(key, data, v)
}

// decodeJSON decodes a value read under key into v.
func decodeJSON(key, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %q: %w", key, err)
	}
	return nil
}

// readAll decodes every value of a bucket, in key order, in one read transaction; what
// names the values in an error. decode, unless nil, decodes a value stored under a key
// (nil: the value is T as JSON).
func readAll[T any](ctx context.Context, db *DB, bucket []byte, what string, decode func(k, v []byte) (T, error)) ([]T, error) {
	if decode == nil {
		decode = func(k, v []byte) (x T, err error) { return x, decodeJSON(k, v, &x) }
	}
	var all []T
	err := db.view(ctx, fmt.Sprintf("read %s", what), func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		// Sized once (counting the keys reads the pages, not the values): a large inbox
		// read at start leaves no trail of outgrown slices behind.
		if n := b.Stats().KeyN; n > 0 {
			all = make([]T, 0, n)
		}
		return b.ForEach(func(k, v []byte) error {
			x, err := decode(k, v)
			if err != nil {
				return err
			}
			all = append(all, x)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// has reports whether b has key. Unlike Get it works for keys with empty values.
func has(b *bolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return k != nil && bytes.Equal(k, key)
}

// seqKey returns the key of a sequence number: big-endian, so that keys sort like numbers.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

// putDeadLetter keeps v in a dead-letter bucket under the bucket's next sequence number.
func putDeadLetter(b *bolt.Bucket, v any) error {
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("next dead-letter sequence: %w", err)
	}
	return putJSON(b, seqKey(seq), v)
}

// formatTime and parseTime encode the times kept as bare values (not JSON), in RFC 3339.
func formatTime(t time.Time) []byte {
	return []byte(t.UTC().Format(time.RFC3339Nano))
}

func parseTime(key, v []byte) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("decode time under %q: %w", key, err)
	}
	return t, nil
}
