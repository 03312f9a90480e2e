// Webex's wire format: requests as handlers see them, replies, the error body with its
// trackingId, the list shape and the absolute URLs and Link headers of answers.

package webextest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// request is an incoming call as the handlers see it.
type request struct {
	method string
	path   string
	params []string // the {} segments of the route, in order
	query  url.Values
	header http.Header
	body   []byte
	who    *principal // nil when the route needs no token
	base   string     // scheme and host, e.g. "http://127.0.0.1:1234"
	now    time.Time
	// trackingID is the trackingId of the answer.
	trackingID string
}

// reply is a handler's answer.
type reply struct {
	status int
	header http.Header
	body   any // encoded as JSON; nil for no body
	// raw, when set, is the answer's body as is (a file's bytes), with header's Content-Type.
	raw        []byte
	deliveries []pending
}

// apiError is an error the Sim answers with a Webex error body. The Go methods (Say, Click…)
// return it as an error too.
type apiError struct {
	status  int
	message string
	details []ErrorDetail
}

func (e *apiError) Error() string {
	return fmt.Sprintf("webextest: %d %s", e.status, e.message)
}

// failf returns an apiError with a formatted message.
func failf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

// ErrorDetail is one entry of a Webex error's or a wholesale customer's errors[].
type ErrorDetail struct {
	ErrorCode   int    `json:"errorCode,omitempty"`
	Description string `json:"description"`
}

// errorBody is Webex's error body.
type errorBody struct {
	Message    string        `json:"message"`
	Errors     []ErrorDetail `json:"errors"`
	TrackingID string        `json:"trackingId"`
}

// The messages of the authentication, authorization and not-found errors: Webex's 401 wording;
// the others are close to Webex's but not confirmed verbatim.
const (
	msgUnauthorized = "The request requires a valid access token set in the Authorization request header."
	msgForbidden    = "The server understood the request, but refused to fulfill it because the access token is missing required scopes or the user is missing required roles or licenses."
	msgNotFound     = "The requested resource could not be found."
)

// errReply turns err into a Webex error answer; an error that is no apiError is a 500.
func errReply(err error) reply {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, message: err.Error()}
	}
	details := ae.details
	if len(details) == 0 {
		details = []ErrorDetail{{Description: ae.message}}
	}
	return reply{status: ae.status, body: &errorBody{Message: ae.message, Errors: details}}
}

// jsonReply answers 200 with body.
func jsonReply(body any) reply { return reply{status: http.StatusOK, body: body} }

// items is Webex's list shape.
type items[T any] struct {
	Items []T `json:"items"`
}

// write sends rep, with the trackingId in an error body.
func (s *Sim) write(w http.ResponseWriter, tid string, rep reply) {
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if eb, ok := rep.body.(*errorBody); ok {
		eb.TrackingID = tid
	}
	if rep.raw != nil {
		w.WriteHeader(rep.status)
		// A failed write means the client is gone; there is nobody left to tell.
		_, _ = w.Write(rep.raw)
		return
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	b, err := marshal(rep.body)
	if err != nil {
		b, _ = marshal(&errorBody{ // an errorBody always encodes
			Message:    "webextest: encode the answer: " + err.Error(),
			Errors:     []ErrorDetail{{Description: err.Error()}},
			TrackingID: tid,
		})
		rep.status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(rep.status)
	// A failed write means the client is gone; there is nobody left to tell.
	_, _ = w.Write(b)
}

// marshal encodes v as JSON without escaping <, > and & (Webex's html fields contain them).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeJSON decodes a JSON request body into v.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return failf(http.StatusBadRequest, "The request body is empty.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return failf(http.StatusBadRequest, "The request body is not valid JSON: %v", err)
	}
	return nil
}

// absURL returns the absolute URL of path (with query) as the caller reached the Sim.
func (q *request) absURL(path string, query url.Values) string {
	u := q.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// nextLink returns an RFC 5988 Link header for the next page: the request's own query with
// key set to value.
func (q *request) nextLink(key, value string) http.Header {
	next := cloneValues(q.query)
	next.Set(key, value)
	return http.Header{"Link": {fmt.Sprintf(`<%s>; rel="next"`, q.absURL(q.path, next))}}
}
