// The call record: every request the Sim answered, kept for tests to read back.

package webextest

import (
	"bytes"
	"net/url"
	"strings"
	"time"
)

// Call is one request the Sim answered.
type Call struct {
	Method string
	// Path is the request path without a trailing slash ("/v1/messages/" is recorded as
	// "/v1/messages").
	Path  string
	Query url.Values
	// Identity is who the bearer token belongs to: IdentityBot, IdentityPartner (also for
	// tokens issued by POST /v1/access_token), a person id for tokens added with AddToken,
	// IdentityOAuth for POST /v1/access_token, or "" for a missing or unknown token.
	Identity string
	// Status is the HTTP status the Sim answered, or 0 when it answered nothing because the
	// client gave up during a Latency or Hang fault.
	Status     int
	Body       []byte
	TrackingID string
	Time       time.Time
}

func (c Call) clone() Call {
	c.Query = cloneValues(c.Query)
	c.Body = bytes.Clone(c.Body)
	return c
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Calls returns every call answered so far, oldest first.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneAll(s.calls)
}

// CallsTo returns the calls with the given method ("" for any) to paths matching path (see
// Fault.Path for the patterns), oldest first.
func (s *Sim) CallsTo(method, path string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var calls []Call
	for _, c := range s.calls {
		if matchCall(c, method, path) {
			calls = append(calls, c.clone())
		}
	}
	return calls
}

// CountCalls returns how many calls with the given method ("" for any) went to paths matching
// path (see Fault.Path for the patterns).
func (s *Sim) CountCalls(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if matchCall(c, method, path) {
			n++
		}
	}
	return n
}

func matchCall(c Call, method, path string) bool {
	return (method == "" || strings.EqualFold(method, c.Method)) && matchPath(path, c.Path)
}

// record keeps a call.
func (s *Sim) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.changedLocked()
}
