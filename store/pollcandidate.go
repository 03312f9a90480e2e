package store

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// decodePollCandidate reads into c the fields ClaimPolls chooses by (id, created, nextPoll)
// from a stored request, as decodeJSON would, without decoding the rest: a sweep claims many
// times over every polled request, and decoding each whole (its audit trail and all) was
// most of a sweep's time. It finds the request's top-level keys with a small scanner and
// decodes only those keys' values; anything the scanner does not expect (an escaped key,
// broken nesting or strings) is left to decodeJSON, which also reports what is wrong. The
// other values are only skipped, not checked: the requests ClaimPolls chooses are decoded
// whole after.
func decodePollCandidate(key, data []byte, c *pollCandidate) error {
	raw, ok := topLevelValues(data, "id", "created", "nextPoll")
	if !ok {
		return decodeJSON(key, data, c)
	}
	*c = pollCandidate{}
	for i, v := range []any{&c.ID, &c.Created, &c.NextPoll} {
		if raw[i] == nil {
			continue
		}
		if err := json.Unmarshal(raw[i], v); err != nil {
			return fmt.Errorf("decode %q: %w", key, err)
		}
	}
	return nil
}

// topLevelValues returns the raw values of the given keys in the JSON object data (nil for a
// key it lacks; the last one for a key it repeats), matching keys case-insensitively as
// encoding/json does. ok is false when data is not an object the scanner reads with
// certainty: not an object, a key with an escape in it, or malformed.
func topLevelValues(data []byte, keys ...string) (raw [][]byte, ok bool) {
	raw = make([][]byte, len(keys))
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return raw, skipSpace(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		end := skipString(data, i)
		if end < 0 {
			return nil, false
		}
		name := data[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			return nil, false
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		start := skipSpace(data, i+1)
		end = skipValue(data, start)
		if end < 0 {
			return nil, false
		}
		for k, want := range keys {
			if bytes.EqualFold(name, []byte(want)) {
				raw[k] = data[start:end]
			}
		}
		i = skipSpace(data, end)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return raw, skipSpace(data, i+1) == len(data)
		default:
			return nil, false
		}
	}
}

// skipSpace returns the index of the first byte at or after i that is not JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the JSON string starting at data[i] (a quote), or
// -1 when it does not end.
func skipString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index just past the JSON value starting at data[i], or -1 when it is
// cut short. It checks only the nesting and the strings: json.Unmarshal checks what it keeps.
func skipValue(data []byte, i int) int {
	depth := 0
	for i < len(data) {
		switch c := data[i]; c {
		case '"':
			if i = skipString(data, i); i < 0 {
				return -1
			}
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			i++
		case ',':
			if depth == 0 {
				return i
			}
			i++
		default:
			if depth == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
				return i
			}
			i++
		}
		if depth == 0 && i < len(data) && data[i-1] != ',' {
			// a string or a closed container at the top ends the value
			if c := data[i-1]; c == '"' || c == '}' || c == ']' {
				return i
			}
		}
	}
	if depth != 0 {
		return -1
	}
	return i
}
