// Injected faults: statuses, Retry-After, latency and "timeout after Webex acted" on the calls
// that match a method and path.

package webextest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes the Sim misbehave on matching requests.
//
// Path is matched against the request path without its trailing slash:
//   - "" matches every path;
//   - a pattern ending in "*" matches every path that starts with what precedes the "*"
//     ("/v1/wholesale/*" matches "/v1/wholesale/customers" and
//     "/v1/wholesale/customers/validate"; "/v1/messages*" matches "/v1/messages" and
//     "/v1/messages/<id>");
//   - any other pattern matches that exact path ("/v1/messages").
//
// Faults are tried in the order they were injected; the first that matches and has times
// left applies.
type Fault struct {
	// Method is the request method to match; "" matches any.
	Method string
	Path   string
	// RoomID, when set, matches only a request whose JSON body names this roomId (such as
	// POST /v1/messages to one space): a space whose messages fail while others' do not.
	RoomID string
	// Status is the status to answer instead of handling the request (e.g. 429, 500, 503).
	// 0 with Latency only delays the request.
	Status int
	// Message is the Webex error message (default: the status text).
	Message string
	// RetryAfter, when positive, is sent as the Retry-After header, in seconds.
	RetryAfter int
	// Latency delays the request by really waiting, before anything else; a client that
	// gives up meanwhile gets nothing, and the request is not handled.
	Latency time.Duration
	// Times is how many requests the fault applies to; 0 means every one.
	Times int
	// AfterApply handles the request first (the change happens, webhooks are delivered)
	// and then fails it: it answers Status (default 504) instead of the real answer, or with
	// Hang it answers nothing until the client gives up. It simulates "the request timed out
	// after Webex acted". Use Hang only with a client that has a timeout.
	AfterApply bool
	Hang       bool
}

// faultState is an injected fault and its remaining uses.
type faultState struct {
	Fault
	left int // -1: unlimited
}

// Inject adds a fault.
func (s *Sim) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.faults = append(s.faults, &faultState{Fault: f, left: left})
	s.changedLocked()
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.changedLocked()
}

// takeFaultLocked returns the fault that applies to a request, using it up once.
func (s *Sim) takeFaultLocked(method, path string, body []byte) *Fault {
	for _, f := range s.faults {
		if f.left == 0 || (f.Method != "" && !strings.EqualFold(f.Method, method)) || !matchPath(f.Path, path) {
			continue
		}
		if f.RoomID != "" && bodyRoomID(body) != f.RoomID {
			continue
		}
		if f.left > 0 {
			f.left--
		}
		out := f.Fault
		return &out
	}
	return nil
}

// bodyRoomID returns the roomId a JSON request body names, or "".
func bodyRoomID(body []byte) string {
	var named struct {
		RoomID string `json:"roomId"`
	}
	if json.Unmarshal(body, &named) != nil {
		return ""
	}
	return named.RoomID
}

// matchPath matches a path against a pattern (see Fault).
func matchPath(pattern, path string) bool {
	if pattern == "" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return normalizePath(pattern) == path
}

// afterApplyStatus is the status an AfterApply fault answers.
func (f *Fault) afterApplyStatus() int {
	if f.Status == 0 {
		return http.StatusGatewayTimeout
	}
	return f.Status
}

// reply returns the fault's Webex error answer.
func (f *Fault) reply() reply {
	status := f.Status
	if f.AfterApply {
		status = f.afterApplyStatus()
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	rep := errReply(&apiError{status: status, message: msg})
	if f.RetryAfter > 0 {
		rep.header = http.Header{"Retry-After": {strconv.Itoa(f.RetryAfter)}}
	}
	return rep
}
