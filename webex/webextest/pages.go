// Paging: Webex's max parameter, offset and cursor pages and their Link rel="next".

package webextest

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// pageSize reads max: default 100, clamped to 100 as Webex does; not a positive number is 400.
func pageSize(q *request) (int, error) {
	v := q.query.Get("max")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, failf(http.StatusBadRequest, "Invalid max value %q.", v)
	}
	return min(n, 100), nil
}

// paginate returns the page of list at offset, and whether more follow.
func paginate[T any](list []T, offset, max int) ([]T, bool) {
	if offset >= len(list) {
		return []T{}, false
	}
	end := min(offset+max, len(list))
	return list[offset:end], end < len(list)
}

// encodeCursor makes the opaque cursor of a next link.
func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

// cursorOffset decodes a cursor made by encodeCursor; "" is offset 0.
func cursorOffset(cursor string) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil {
		if v, ok := strings.CutPrefix(string(raw), "offset:"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, failf(http.StatusBadRequest, "Invalid cursor %q.", cursor)
}
