package webex

import (
	"strings"
	"time"
)

// Observer is told of every Webex call a Client makes, for the operator's metrics. Its
// methods are called on the caller's goroutine and must not block.
type Observer interface {
	// Call is told of one attempt: its method, its endpoint (the path with every id replaced
	// by {id}, so that the label set stays small), the HTTP status Webex answered (0 when no
	// answer came: a transport error or a timeout) and how long the attempt took.
	Call(method, endpoint string, status int, took time.Duration)
	// RateLimited is told of every 429, with the Retry-After the whole Client then waits.
	RateLimited(method, endpoint string, retryAfter time.Duration)
}

// noObserver is the Observer of a Client built without one.
type noObserver struct{}

func (noObserver) Call(string, string, int, time.Duration)   {}
func (noObserver) RateLimited(string, string, time.Duration) {}

// endpointTemplate returns path (relative to the base URL, without its query) with every
// segment that is an id replaced by {id}: /messages/Y2lz… becomes /messages/{id}.
func endpointTemplate(path string) string {
	segments := strings.Split(path, "/")
	for i, s := range segments {
		if s != "" && !resourceName(s) {
			segments[i] = "{id}"
		}
	}
	return strings.Join(segments, "/")
}

// resourceName reports whether a path segment names a resource or an action (people,
// attachment/actions, access_token, me) rather than being an id. Webex's ids are base64
// strings or UUIDs, with digits, capitals or '=' that resource names do not have; one that has
// none of them would be taken for a name (a label too many, no wrong figure).
func resourceName(s string) bool {
	if len(s) > 40 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' && r != '-' && (r < 'A' || r > 'Z') {
			return false
		}
	}
	// camelCase names (attachmentActions, roomTabs) start lower-case; base64 ids that have
	// letters only start with a capital as often as not.
	return s[0] >= 'a' && s[0] <= 'z'
}
