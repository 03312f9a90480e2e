package store

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"time"
)

// The inbox's records are binary since schema version 10: a backlog of events is held in the
// file's pages, which are mapped into memory, and the JSON record of versions 7 to 9 spent a
// third of its bytes on field names, times as text and ids as base64 text
// (docs/benchmarks-engine.md). A record is:
//
//	record  = 0x01 (eventRecordFormat), fields (uvarint: a bit per field present), then
//	          the fields present, in the order of their bits:
//	  bit 0  seq        uvarint
//	  bit 1  resource   text    (present when it is not the key's first part: eventRecord)
//	  bit 2  event      text    (likewise, the key's second part)
//	  bit 3  dataId     text    (likewise, the key's third part)
//	  bit 4  actorId    id
//	  bit 5  roomId     id
//	  bit 6  created    time
//	  bit 7  received   time
//	  bit 8  attempts   varint
//	  bit 9  notBefore  time
//	  bit 10 lastError  text
//	text    = uvarint length, the bytes
//	id      = uvarint length×2 + 1 and the bytes the id is the unpadded standard base64 of,
//	          when encoding them gives the id back exactly (as it does for Webex's ids);
//	          else uvarint length×2 and the id's bytes
//	time    = varint Unix seconds, uvarint nanoseconds (UTC when read back)
//
// A field is present when it is not zero (an empty text, a zero time, no attempts), except
// resource, event and dataId, present whenever they are not the key's parts (eventRecord).
// A JSON record, which begins with '{', is read as before (decodeEvent), so that the
// migrations from older versions can read what they rewrite.

// eventRecordFormat is the first byte of a binary inbox record.
const eventRecordFormat = 0x01

// The bits of a binary inbox record's fields.
const (
	fieldSeq = 1 << iota
	fieldResource
	fieldEvent
	fieldDataID
	fieldActorID
	fieldRoomID
	fieldCreated
	fieldReceived
	fieldAttempts
	fieldNotBefore
	fieldLastError
	fieldsKnown = fieldLastError<<1 - 1
)

// appendBinary appends r, as a binary inbox record, to b.
func (r eventRecord) appendBinary(b []byte) []byte {
	var fields uint64
	set := func(bit uint64, present bool) {
		if present {
			fields |= bit
		}
	}
	set(fieldSeq, r.Seq != 0)
	set(fieldResource, r.Resource != nil)
	set(fieldEvent, r.Event != nil)
	set(fieldDataID, r.DataID != nil)
	set(fieldActorID, r.ActorID != "")
	set(fieldRoomID, r.RoomID != "")
	set(fieldCreated, !r.Created.IsZero())
	set(fieldReceived, !r.Received.IsZero())
	set(fieldAttempts, r.Attempts != 0)
	set(fieldNotBefore, !r.NotBefore.IsZero())
	set(fieldLastError, r.LastError != "")

	b = append(b, eventRecordFormat)
	b = binary.AppendUvarint(b, fields)
	if fields&fieldSeq != 0 {
		b = binary.AppendUvarint(b, r.Seq)
	}
	for _, f := range []struct {
		bit uint64
		s   *string
	}{{fieldResource, r.Resource}, {fieldEvent, r.Event}, {fieldDataID, r.DataID}} {
		if fields&f.bit != 0 {
			b = appendText(b, *f.s)
		}
	}
	if fields&fieldActorID != 0 {
		b = appendID(b, r.ActorID)
	}
	if fields&fieldRoomID != 0 {
		b = appendID(b, r.RoomID)
	}
	if fields&fieldCreated != 0 {
		b = appendTime(b, r.Created)
	}
	if fields&fieldReceived != 0 {
		b = appendTime(b, r.Received)
	}
	if fields&fieldAttempts != 0 {
		b = binary.AppendVarint(b, int64(r.Attempts))
	}
	if fields&fieldNotBefore != 0 {
		b = appendTime(b, r.NotBefore)
	}
	if fields&fieldLastError != 0 {
		b = appendText(b, r.LastError)
	}
	return b
}

// appendText appends s as a text field.
func appendText(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendID appends id as an id field: decoded from base64 when that keeps it exactly.
func appendID(b []byte, id string) []byte {
	if raw, err := base64.RawStdEncoding.DecodeString(id); err == nil && base64.RawStdEncoding.EncodeToString(raw) == id {
		b = binary.AppendUvarint(b, uint64(len(raw))<<1|1)
		return append(b, raw...)
	}
	b = binary.AppendUvarint(b, uint64(len(id))<<1)
	return append(b, id...)
}

// appendTime appends t as a time field.
func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// errShortRecord is the error of a binary inbox record that ends inside a field.
var errShortRecord = errors.New("the record ends inside a field")

// recordReader reads the fields of a binary inbox record in turn; the first error stops it,
// and is kept in err.
type recordReader struct {
	data []byte
	err  error
}

// uvarint reads an unsigned varint.
func (rd *recordReader) uvarint() uint64 {
	if rd.err != nil {
		return 0
	}
	v, n := binary.Uvarint(rd.data)
	if n <= 0 {
		rd.err = errShortRecord
		return 0
	}
	rd.data = rd.data[n:]
	return v
}

// varint reads a signed varint.
func (rd *recordReader) varint() int64 {
	if rd.err != nil {
		return 0
	}
	v, n := binary.Varint(rd.data)
	if n <= 0 {
		rd.err = errShortRecord
		return 0
	}
	rd.data = rd.data[n:]
	return v
}

// bytes reads n bytes: the record's own, which bbolt owns (the callers copy them).
func (rd *recordReader) bytes(n uint64) []byte {
	if rd.err != nil {
		return nil
	}
	if n > uint64(len(rd.data)) {
		rd.err = errShortRecord
		return nil
	}
	b := rd.data[:n:n]
	rd.data = rd.data[n:]
	return b
}

// text reads a text field.
func (rd *recordReader) text() string { return string(rd.bytes(rd.uvarint())) }

// id reads an id field.
func (rd *recordReader) id() string {
	n := rd.uvarint()
	b := rd.bytes(n >> 1)
	if n&1 == 1 {
		return base64.RawStdEncoding.EncodeToString(b)
	}
	return string(b)
}

// time reads a time field.
func (rd *recordReader) time() time.Time {
	sec, nsec := rd.varint(), rd.uvarint()
	if rd.err == nil && nsec >= uint64(time.Second) {
		rd.err = fmt.Errorf("a time's nanoseconds are %d, not under a second", nsec)
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// decodeBinaryRecord decodes a binary inbox record.
func decodeBinaryRecord(data []byte) (eventRecord, error) {
	if len(data) == 0 || data[0] != eventRecordFormat {
		return eventRecord{}, fmt.Errorf("the record does not begin with the format byte %#x", eventRecordFormat)
	}
	rd := &recordReader{data: data[1:]}
	fields := rd.uvarint()
	if unknown := fields &^ fieldsKnown; unknown != 0 {
		return eventRecord{}, fmt.Errorf("the record has field %d, which this version does not know", bits.TrailingZeros64(unknown))
	}
	var r eventRecord
	has := func(bit uint64) bool { return fields&bit != 0 }
	if has(fieldSeq) {
		r.Seq = rd.uvarint()
	}
	for _, f := range []struct {
		bit uint64
		s   **string
	}{{fieldResource, &r.Resource}, {fieldEvent, &r.Event}, {fieldDataID, &r.DataID}} {
		if has(f.bit) {
			s := rd.text()
			*f.s = &s
		}
	}
	if has(fieldActorID) {
		r.ActorID = rd.id()
	}
	if has(fieldRoomID) {
		r.RoomID = rd.id()
	}
	if has(fieldCreated) {
		r.Created = rd.time()
	}
	if has(fieldReceived) {
		r.Received = rd.time()
	}
	if has(fieldAttempts) {
		r.Attempts = int(rd.varint())
	}
	if has(fieldNotBefore) {
		r.NotBefore = rd.time()
	}
	if has(fieldLastError) {
		r.LastError = rd.text()
	}
	if rd.err == nil && len(rd.data) > 0 {
		rd.err = fmt.Errorf("%d bytes follow the record's last field", len(rd.data))
	}
	return r, rd.err
}

// eventPlace returns the Seq and NotBefore of the inbox's record v stored under k, reading
// nothing else from a binary record (and no text into memory): what a scan of the whole
// inbox looks at (DueEvents). A JSON record is decoded whole.
func eventPlace(k, v []byte) (seq uint64, notBefore time.Time, err error) {
	if len(v) > 0 && v[0] == '{' {
		ev, err := decodeEvent(k, v)
		return ev.Seq, ev.NotBefore, err
	}
	if len(v) == 0 || v[0] != eventRecordFormat {
		return 0, time.Time{}, fmt.Errorf("decode %q: the record does not begin with the format byte %#x", k, eventRecordFormat)
	}
	rd := &recordReader{data: v[1:]}
	fields := rd.uvarint()
	has := func(bit uint64) bool { return fields&bit != 0 }
	if has(fieldSeq) {
		seq = rd.uvarint()
	}
	for _, bit := range []uint64{fieldResource, fieldEvent, fieldDataID} {
		if has(bit) {
			rd.bytes(rd.uvarint())
		}
	}
	for _, bit := range []uint64{fieldActorID, fieldRoomID} {
		if has(bit) {
			rd.bytes(rd.uvarint() >> 1)
		}
	}
	for _, bit := range []uint64{fieldCreated, fieldReceived} {
		if has(bit) {
			rd.time()
		}
	}
	if has(fieldAttempts) {
		rd.varint()
	}
	if has(fieldNotBefore) {
		notBefore = rd.time()
	}
	if rd.err != nil {
		return 0, time.Time{}, fmt.Errorf("decode %q: %w", k, rd.err)
	}
	return seq, notBefore, nil
}
