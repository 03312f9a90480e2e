package store

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the version of the file layout declared here. Open writes it into a new
// file and refuses a file that a newer attachbot wrote. Raise it, and add the migration from
// the version before to migrations (migrate.go), whenever a bucket, a key or an encoding
// changes; the golden records in testdata fail when an encoding changes.
//
// Version 2 added Outgoing.RequestID ("requestId") to the outbox and its dead letters.
// Version 3 added the time-ordered indexes bucketProcessedByTime and bucketOutboxDoneByTime
// (so that pruning reads only what it forgets), and Event.Seq ("seq"),
// the inbox's order of arrival, assigned by the events bucket's sequence.
// Version 4 added the lane indexes bucketOutboxLanes and bucketOutboxLaneHeads, so that the
// head of an outbox lane is found without reading the outbox.
// Version 5 added the batches (bucketBatches, bucketBatchRows) and Request.BatchID
// ("batchId"); a file of version 4 has none, so its migration only records the version.
// Version 6 added the inbox's lane index bucketEventLanes, so that an event is handed out only
// as the head of its lane without reading the inbox.
// Version 7 stores the inbox's events as eventRecord (eventrecord.go): without the fields
// their key says, nor zero ones; its migration stores every waiting event again.
// Version 8 added the index of the polled requests by next poll, bucketPollsByTime, so that
// a claim of the due polls reads only the due requests.
// Version 9 names a lane in the inbox's lane index by a hash of it (bucketEventLanes, in
// place of bucketEventLanesByText), which makes the index a third smaller; its migration
// indexes the waiting events again.
// Version 10 stores the inbox's events as binary records (eventcodec.go), about a third
// smaller than their JSON; its migration stores every waiting event again.
// The entries of bucketPollsByTime came to hold what a poll reads of their requests
// (pollValue) within version 10: an entry without one, as an earlier attachbot writes it, is
// read through its request, and an earlier attachbot ignores the values, so either opens the
// other's files. An earlier attachbot keeps an entry as it is when a write leaves its key
// alone; its writes that change a value's fields (a new status, a submission) move the entry
// (a new next poll, a new polled state), and Check reports any value that differs from its
// request.
const SchemaVersion = 10

// Every bucket, and every fixed key, of the file. Open creates all the buckets. Values are
// JSON unless said otherwise; sequence keys are big-endian uint64s from NextSequence, so
// that cursor order is the order they were assigned in.
var (
	// bucketMeta holds facts about the file itself.
	bucketMeta = []byte("meta")
	// keySchemaVersion, in bucketMeta, is the file's SchemaVersion as decimal text.
	keySchemaVersion = []byte("schema_version")
	// keyHealthProbes, in bucketMeta, counts Ping's write probes, as a big-endian uint64.
	keyHealthProbes = []byte("health_probes")
	// keySandbox, in bucketMeta, marks a file the sandbox created (empty value); the sandbox
	// opens no file without it, so that it never touches a real attachbot store.
	keySandbox = []byte("sandbox")

	// bucketEvents is the inbox: Event.Key → eventRecord, binary (eventcodec.go). Its sequence numbers events in the
	// order they arrived (Event.Seq).
	bucketEvents = []byte("events")
	// bucketProcessed remembers what was processed: Event.Key → when, as RFC 3339 text.
	bucketProcessed = []byte("processed")
	// bucketProcessedByTime indexes bucketProcessed by time: timeKey(when, Event.Key) → empty.
	bucketProcessedByTime = []byte("processed_by_time")
	// bucketEventLanes lists each inbox lane's events in order: the lane's hash (laneHash,
	// 8 bytes), Event.Seq, Event.Received (Unix nanoseconds; 0 for none), both big-endian
	// uint64s, then Event.Key → empty (eventlanes.go).
	bucketEventLanes = []byte("event_lanes_by_hash")
	// bucketEventLanesByText is the lane index of schema versions 6 to 8, which began its
	// keys with Event.Lane() and 0x00 instead of the lane's hash; the migration to version 9
	// drops it, and Open no longer creates it.
	bucketEventLanesByText = []byte("event_lanes")
	// bucketEventDeadLetters keeps the events given up on: sequence → deadEvent.
	bucketEventDeadLetters = []byte("event_deadletters")

	// bucketOutbox holds the messages waiting to be sent: Outgoing.Seq → bot.Outgoing.
	bucketOutbox = []byte("outbox")
	// bucketOutboxKeys makes Enqueue idempotent: Outgoing.Key → outboxMark, which holds the
	// message's Seq while it waits and when it left the outbox after.
	bucketOutboxKeys = []byte("outbox_keys")
	// bucketOutboxDoneByTime indexes the outbox keys that left the outbox by when they left:
	// timeKey(outboxMark.Done, Outgoing.Key) → empty.
	bucketOutboxDoneByTime = []byte("outbox_done_by_time")
	// bucketOutboxLanes lists each lane's waiting messages in order: Outgoing.Lane(), 0x00,
	// Outgoing.Seq → empty (lanes.go).
	bucketOutboxLanes = []byte("outbox_lanes")
	// bucketOutboxLaneHeads holds each lane's head: Outgoing.Lane() → its Seq and when it is
	// due, two big-endian uint64s (the second Unix nanoseconds, 0 for at once).
	bucketOutboxLaneHeads = []byte("outbox_lane_heads")
	// bucketOutboxDeadLetters keeps the messages given up on: sequence → deadOutgoing.
	bucketOutboxDeadLetters = []byte("outbox_deadletters")

	// bucketRequests holds the attach requests: Request.ID → bot.Request.
	bucketRequests = []byte("requests")
	// bucketRequestsByState indexes bucketRequests by state: State, 0x00, ID → empty.
	bucketRequestsByState = []byte("requests_by_state")
	// bucketPollsByTime indexes the requests in a polled state by next poll: NextPoll and
	// Created as big-endian Unix nanoseconds (Created's bits inverted), then ID → what a
	// poll reads of the request (pollKey, pollValue, pollindex.go), or empty in an entry
	// written before the entries had values.
	bucketPollsByTime = []byte("polls_by_time")

	// bucketBatches holds the batches (the attach of a CSV file): Batch.ID → bot.Batch.
	bucketBatches = []byte("batches")
	// bucketBatchRows holds each batch's rows, written once: Batch.ID → []bot.BulkRow.
	bucketBatchRows = []byte("batch_rows")

	// bucketSubscriptions holds the digest subscriptions: RoomID → bot.Subscription.
	bucketSubscriptions = []byte("subscriptions")
	// bucketTokens holds the OAuth token sets: name → bot.Tokens.
	bucketTokens = []byte("tokens")
)

// buckets returns every bucket Open creates.
func buckets() [][]byte {
	return [][]byte{
		bucketMeta,
		bucketEvents, bucketEventLanes, bucketProcessed, bucketProcessedByTime, bucketEventDeadLetters,
		bucketOutbox, bucketOutboxKeys, bucketOutboxDoneByTime, bucketOutboxDeadLetters,
		bucketOutboxLanes, bucketOutboxLaneHeads,
		bucketRequests, bucketRequestsByState, bucketPollsByTime,
		bucketBatches, bucketBatchRows,
		bucketSubscriptions, bucketTokens,
	}
}

// appendOnly gives the fill of a page at which bbolt splits it (bolt.Bucket.FillPercent;
// its default is half) for the buckets whose keys grow with each write: sequence numbers
// and times, or, in the inbox's lane index, sequence numbers within each lane. A key is
// then added after the others (of its lane), never between them, so a page split at half
// would stay half empty for good; filled whole, these buckets take up to half fewer pages
// of the file, and of the memory that maps it. The time indexes keep a tenth free for the
// keys whose time falls a little before the last one (writers that read the clock before
// another's commit).
var appendOnly = []struct {
	bucket []byte
	fill   float64
}{
	{bucketOutbox, 1},
	{bucketOutboxDeadLetters, 1},
	{bucketEventDeadLetters, 1},
	{bucketProcessedByTime, 0.9},
	{bucketOutboxDoneByTime, 0.9},
	{bucketEventLanes, 1},
}

// fillAppendOnly sets the split fill of the append-only buckets (appendOnly) for a write
// transaction: the setting lives in tx's handles of the buckets, not in the file.
func fillAppendOnly(tx *bolt.Tx) {
	for _, a := range appendOnly {
		if b := tx.Bucket(a.bucket); b != nil {
			b.FillPercent = a.fill
		}
	}
}

// appendOnlyFill returns the split fill appendOnly gives bucket, or bbolt's default.
func appendOnlyFill(bucket []byte) float64 {
	for _, a := range appendOnly {
		if bytes.Equal(a.bucket, bucket) {
			return a.fill
		}
	}
	return bolt.DefaultFillPercent
}
