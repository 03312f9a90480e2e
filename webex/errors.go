package webex

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"attachbot/bot"
)

// wireError is a Webex error body: {message, errors[{errorCode, description}], trackingId},
// sometimes with a top-level errorCode; the OAuth endpoint answers {error, error_description}.
type wireError struct {
	Message          string          `json:"message"`
	Errors           json.RawMessage `json:"errors"`
	TrackingID       string          `json:"trackingId"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// wireErrorDetail is one {errorCode, description} entry.
type wireErrorDetail struct {
	ErrorCode   flexInt `json:"errorCode"`
	Description string  `json:"description"`
}

// details converts wire entries to the bot's.
func details(in []wireErrorDetail) []bot.ErrorDetail {
	if len(in) == 0 {
		return nil
	}
	out := make([]bot.ErrorDetail, len(in))
	for i, d := range in {
		out[i] = bot.ErrorDetail{Code: int(d.ErrorCode), Description: d.Description}
	}
	return out
}

// apiError builds the *bot.APIError of a non-2xx answer.
func (c *Client) apiError(method, path string, resp *response) *bot.APIError {
	e := &bot.APIError{Method: method, Path: path, Status: resp.status}
	var w wireError
	if json.Unmarshal(resp.body, &w) == nil {
		e.Message = w.Message
		if e.Message == "" {
			e.Message = w.ErrorDescription
		}
		if e.Message == "" {
			e.Message = w.Error
		}
		e.TrackingID = w.TrackingID
		var list []wireErrorDetail
		if len(w.Errors) > 0 && json.Unmarshal(w.Errors, &list) == nil {
			e.Details = details(list)
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.status)
	}
	if e.TrackingID == "" {
		e.TrackingID = resp.header.Get("Trackingid")
	}
	if e.TrackingID == "" {
		e.TrackingID = resp.trackingID
	}
	switch resp.status {
	case http.StatusTooManyRequests:
		e.RetryAfter = retryAfter(resp.header, defaultRetryAfter)
	case http.StatusLocked, http.StatusServiceUnavailable:
		e.RetryAfter = retryAfter(resp.header, 0)
	}
	return e
}

// retryAfter parses a Retry-After header in seconds, or returns def when it is absent,
// malformed or longer than a day (not a plausible wait).
func retryAfter(h http.Header, def time.Duration) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 24*60*60 {
		return def
	}
	return time.Duration(n) * time.Second
}

// flexInt decodes a JSON number or a numeric string; anything else decodes as 0.
type flexInt int

// UnmarshalJSON implements json.Unmarshaler.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if v, err := strconv.Atoi(s); err == nil {
		*n = flexInt(v)
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		*n = flexInt(f)
	}
	return nil
}
