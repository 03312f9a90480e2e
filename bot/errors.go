package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound is returned by a Store when what was asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrLeaseLost is returned by a Store when a claim on work is not held by the one who acts
// on it: its lease ran out and another took the work, or the work is done.
var ErrLeaseLost = errors.New("the claim on the work is not held any more")

// ErrOutcomeUnknown marks a non-idempotent Webex call (a POST) whose outcome is unknown: it
// timed out or failed after the request may have been acted on. It is never retried blindly.
var ErrOutcomeUnknown = errors.New("the outcome of the Webex request is unknown")

// APIError is a Webex API error answer: the HTTP status, Webex's message and error details,
// the trackingId to quote to Cisco support, and Retry-After where Webex sent one. The Webex
// adapter returns it (wrapped) for every 4xx and 5xx answer.
type APIError struct {
	Method     string
	Path       string
	Status     int
	Message    string
	Details    []ErrorDetail
	TrackingID string
	RetryAfter time.Duration
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "webex %s %s: %d", e.Method, e.Path, e.Status)
	if e.Message != "" {
		fmt.Fprintf(&b, " %s", e.Message)
	}
	for _, d := range e.Details {
		if d.Description != "" && d.Description != e.Message {
			fmt.Fprintf(&b, "; %s", d.Description)
		}
	}
	if e.TrackingID != "" {
		fmt.Fprintf(&b, " (trackingId %s)", e.TrackingID)
	}
	return b.String()
}

// Temporary reports whether retrying later may succeed: rate limits, locks and server errors.
func (e *APIError) Temporary() bool {
	return e.Status == 429 || e.Status == 423 || e.Status >= 500
}

// apiStatus returns the HTTP status of a Webex error in err's chain, or 0.
func apiStatus(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status
	}
	return 0
}

// trackingID returns the trackingId of a Webex error in err's chain, or "".
func trackingID(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.TrackingID
	}
	return ""
}

// isTemporary reports whether an error may go away by itself: a temporary Webex answer, an
// unknown outcome, or a transport error (anything that is not a Webex answer at all).
func isTemporary(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Temporary()
	}
	return err != nil
}
