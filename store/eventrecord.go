package store

import (
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"attachbot/bot"
)

// eventRecord is a bot.Event as the inbox (bucketEvents) stores it since schema version 7:
// without what its bucket key already says, and without zero fields; as JSON in versions 7
// to 9, in binary since version 10 (eventcodec.go). The key is the
// bucket's key; Resource, Event and DataID are left out (nil) when they are the key's
// three parts (bot.EventKey), as they are for every event the intake makes; a zero time,
// no attempts and no error are left out. A backlog of events is held in the file's pages,
// which are mapped into memory, so an event stored in half the bytes is a backlog in half
// the memory (docs/benchmarks-engine.md). A record of version 6 and before (the whole
// bot.Event, its key included) decodes the same way.
type eventRecord struct {
	Seq       uint64    `json:"seq,omitempty"`
	Resource  *string   `json:"resource,omitempty"`
	Event     *string   `json:"event,omitempty"`
	DataID    *string   `json:"dataId,omitempty"`
	ActorID   string    `json:"actorId,omitempty"`
	RoomID    string    `json:"roomId,omitempty"`
	Created   time.Time `json:"created,omitzero"`
	Received  time.Time `json:"received,omitzero"`
	Attempts  int       `json:"attempts,omitempty"`
	NotBefore time.Time `json:"notBefore,omitzero"`
	LastError string    `json:"lastError,omitempty"`
}

// keyParts splits an event key into the three parts bot.EventKey joins (resource, event,
// data id); ok is false when it has fewer.
func keyParts(key string) (parts [3]string, ok bool) {
	resource, rest, ok1 := strings.Cut(key, "/")
	event, dataID, ok2 := strings.Cut(rest, "/")
	return [3]string{resource, event, dataID}, ok1 && ok2
}

// newEventRecord is ev as the inbox stores it.
func newEventRecord(ev bot.Event) eventRecord {
	parts, split := keyParts(ev.Key)
	unlessKeyed := func(i int, s string) *string {
		if split && parts[i] == s {
			return nil
		}
		return &s
	}
	return eventRecord{
		Seq: ev.Seq, Resource: unlessKeyed(0, ev.Resource), Event: unlessKeyed(1, ev.Event),
		DataID: unlessKeyed(2, ev.DataID), ActorID: ev.ActorID, RoomID: ev.RoomID,
		Created: ev.Created, Received: ev.Received, Attempts: ev.Attempts,
		NotBefore: ev.NotBefore, LastError: ev.LastError,
	}
}

// event is the bot.Event r stores under key.
func (r eventRecord) event(key string) (bot.Event, error) {
	parts, split := keyParts(key)
	fromKey := func(i int, s *string) (string, error) {
		switch {
		case s != nil:
			return *s, nil
		case split:
			return parts[i], nil
		default:
			return "", fmt.Errorf("event %q: a field left to the key, which has not three parts", key)
		}
	}
	ev := bot.Event{
		Key: key, Seq: r.Seq, ActorID: r.ActorID, RoomID: r.RoomID,
		Created: r.Created, Received: r.Received, Attempts: r.Attempts,
		NotBefore: r.NotBefore, LastError: r.LastError,
	}
	var err error
	if ev.Resource, err = fromKey(0, r.Resource); err != nil {
		return bot.Event{}, err
	}
	if ev.Event, err = fromKey(1, r.Event); err != nil {
		return bot.Event{}, err
	}
	if ev.DataID, err = fromKey(2, r.DataID); err != nil {
		return bot.Event{}, err
	}
	return ev, nil
}

// putEvent stores ev in the inbox under its key, as a binary record.
func putEvent(events *bolt.Bucket, ev bot.Event) error {
	if err := events.Put([]byte(ev.Key), newEventRecord(ev).appendBinary(nil)); err != nil {
		return fmt.Errorf("put %q: %w", ev.Key, err)
	}
	return nil
}

// decodeEvent decodes the inbox's value v stored under k: a binary record, or a JSON one as
// the versions before 10 stored it.
func decodeEvent(k, v []byte) (bot.Event, error) {
	var r eventRecord
	if len(v) > 0 && v[0] == '{' {
		if err := decodeJSON(k, v, &r); err != nil {
			return bot.Event{}, err
		}
	} else {
		var err error
		if r, err = decodeBinaryRecord(v); err != nil {
			return bot.Event{}, fmt.Errorf("decode %q: %w", k, err)
		}
	}
	ev, err := r.event(string(k))
	if err != nil {
		return bot.Event{}, fmt.Errorf("decode %q: %w", k, err)
	}
	return ev, nil
}

// getEvent decodes the inbox's event under key; false if there is none.
func getEvent(events *bolt.Bucket, key []byte) (bot.Event, bool, error) {
	v := events.Get(key)
	if v == nil {
		return bot.Event{}, false, nil
	}
	ev, err := decodeEvent(key, v)
	return ev, err == nil, err
}

// storeEventsAgain stores every inbox event again as putEvent stores it: it is version 6 to 7
// (an eventRecord in place of the whole bot.Event) and version 9 to 10 (a binary record in
// place of JSON).
func storeEventsAgain(tx *bolt.Tx) error {
	events := tx.Bucket(bucketEvents)
	if events == nil {
		return nil
	}
	var all []bot.Event
	err := events.ForEach(func(k, v []byte) error {
		ev, err := decodeEvent(k, v)
		all = append(all, ev)
		return err
	})
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	for _, ev := range all {
		if err := putEvent(events, ev); err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
	}
	return nil
}
